// Results: per-question counts as an accessible chart (a data table whose
// bars are decoration), the trustees who decrypted, and the verdict of the
// full verifier (package client, V1–V13) run on the record in this browser.

import { api, request, pages, electionParam } from './api.js';
import { $, el, announce } from './dom.js';
import { setT, setError, phaseName, onLanguage, uiLocale } from './i18n.js';
import { verifyInWorker } from './urna.js';
import { openElection, setE, electionText } from './texts.js';
import { mixedBody, kindRule } from './mixed.js';

let u = null;
let st = null;
let res = null;
let counted = null; // ballots counted: the node's figure, then the one verified in this browser
// The registered credentials ({credentials, weight, weighted}), once read
// from the board: in a weighted election every count is a sum of weights
// (SPEC.md §5.3, §9.3), so shares of voters and blank answers are unknown.
let electorate = null;
// The outcomes of mixed (ranked, score, write-in) questions by question
// index, as this browser's verifier counted them (V16.4).
const mixedViews = new Map();
const isMixed = (q) => !!q.kind && q.kind !== 'select';

// tallies returns, per question, what the page shows and the downloads
// hold: the counts with option names, the selections made, the ballots
// counted, the blank answers (exact when they follow from the totals: a
// question with one choice, or no selection at all) and the options with
// the most votes (as many as a voter may choose, ties included).
function tallies() {
  const m = u.parseManifest(st.manifest);
  const weighted = !!(electorate && electorate.weighted);
  return res.questions.map((q, qi) => {
    const mq = m.questions[qi] || { min: 0, max: 1 };
    // A mixed question has no option counts: its count is mixedViews'.
    if (isMixed(mq)) return { mixed: true, text: electionText(`q.${qi}`) || q.text, kind: mq.kind, min: mq.min, max: mq.max, q: mq, count: mixedViews.get(qi) || null };
    const selections = q.options.reduce((s, o) => s + o.count, 0);
    const blank = !weighted && counted !== null && (mq.max === 1 || selections === 0) ? Math.max(0, counted - selections) : null;
    const sorted = q.options.map((o) => o.count).filter((c) => c > 0).sort((a, b) => b - a);
    const bar = sorted.length ? sorted[Math.min(mq.max, sorted.length) - 1] : Infinity;
    // The texts in the page's language, from the manifest (the node's
    // results name the options in the primary language).
    return {
      text: electionText(`q.${qi}`) || q.text, min: mq.min, max: mq.max, counted, selections, blank, weighted,
      options: q.options.map((o, oi) => ({ text: electionText(`o.${qi}.${oi}`) || o.text, count: o.count, top: o.count >= bar })),
    };
  });
}

const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(1)}%` : '–');
// num writes a count as the page's language does (1,000,090; the raw
// number stays in the cell's data-* attribute).
const num = (n) => new Intl.NumberFormat(uiLocale()).format(n);

function renderQuestions() {
  const box = $('questions');
  box.replaceChildren();
  if (!res) return;
  setT($('counted'), counted === null ? 'results.counting' : 'results.counted', { n: counted === null ? null : num(counted) });
  const weighted = !!(electorate && electorate.weighted);
  setT($('weighted'), weighted ? 'results.weighted' : null, weighted ? { n: electorate.credentials, weight: electorate.weight } : {});
  $('weighted').hidden = !weighted;
  // Weighted: the bars show the share of the question's weighted votes.
  const scale = (q) => (weighted ? q.selections : counted);
  tallies().forEach((q, qi) => {
    const capId = `result-q${qi}-cap`;
    if (q.mixed) {
      const head = el('h3', { id: capId, class: 'question' }, setT(el('span', { class: 'qn' }), 'results.question', { n: qi + 1 }), ': ', setE(el('span'), `q.${qi}`), kindRule(q.q));
      box.append(el('div', { class: 'result', 'data-kind': q.kind, id: `result-q${qi}` }, head, ...mixedBody(qi, q.q, q.count)));
      return;
    }
    const row = (head, count, cls, top) => el('tr', { class: cls },
      el('th', { scope: 'row' }, head, top ? [' ', setT(el('span', { class: 'top' }), 'results.top')] : null),
      el('td', { class: 'bar', 'aria-hidden': 'true' },
        el('div', { class: 'track' }, el('div', { class: 'fill', style: `width:${scale(q) ? (100 * count) / scale(q) : 0}%` }))),
      el('td', { class: 'num', 'data-count': count, text: num(count) }),
      el('td', { class: 'num', 'data-share': 'voters', text: weighted ? '–' : pct(count, counted) }),
      el('td', { class: 'num', 'data-share': 'votes', text: pct(count, q.selections) }));
    const rows = q.options.map((o, oi) => row(setE(el('span'), `o.${qi}.${oi}`), o.count, o.top ? 'winner' : null, o.top));
    const blank = q.blank === null ? null : el('tr', { class: 'blank' },
      setT(el('th', { scope: 'row' }), 'results.blank'), el('td', { 'aria-hidden': 'true' }),
      el('td', { class: 'num', 'data-blank': q.blank, text: num(q.blank) }), el('td', { class: 'num', text: pct(q.blank, counted) }), el('td'));
    // The question is a heading outside the table, so that on a narrow
    // screen it wraps to the screen while the table scrolls.
    const head = el('h3', { id: capId, class: 'question' }, setT(el('span', { class: 'qn' }), 'results.question', { n: qi + 1 }), ': ', setE(el('span'), `q.${qi}`),
      setT(el('span', { class: 'rule' }), 'results.rule', { min: q.min, max: q.max }));
    const table = el('table', { class: 'chart', id: `result-q${qi}`, 'aria-labelledby': capId },
      el('thead', {}, el('tr', {},
        setT(el('th', { scope: 'col' }), 'results.option'),
        el('th', { scope: 'col', 'aria-hidden': 'true' }),
        setT(el('th', { scope: 'col', class: 'num' }), weighted ? 'results.countWeighted' : 'results.count'),
        setT(el('th', { scope: 'col', class: 'num' }), 'results.shareVoters'),
        setT(el('th', { scope: 'col', class: 'num' }), weighted ? 'results.shareWeighted' : 'results.shareVotes'))),
      el('tbody', {}, rows),
      el('tfoot', {}, blank, el('tr', {}, setT(el('th', { scope: 'row' }), weighted ? 'results.totalWeighted' : 'results.total'), el('td', { 'aria-hidden': 'true' }),
        el('td', { class: 'num', 'data-total': q.selections, text: num(q.selections) }), el('td'), el('td'))));
    // The table scrolls sideways on a narrow screen: the region takes
    // focus so that the keyboard can scroll it too (WCAG 2.1.1).
    box.append(el('div', { class: 'result' }, head,
      el('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-labelledby': capId }, table)));
  });
  $('results-help').hidden = false;
  $('downloads').hidden = false;
}

// download offers the results as CSV and JSON files with the option names.
function renderDownloads() {
  const q = tallies();
  const json = {
    schema: 'urna-results/1',
    election_id: st.election_id, title: st.title, fingerprint: st.fingerprint, result_seq: res.result_seq,
    ballots_counted: counted,
    weighted: !!(electorate && electorate.weighted),
    questions: q.map((x) => (x.mixed ? { text: x.text, kind: x.kind, min: x.min, max: x.max, count: x.count }
      : { text: x.text, min: x.min, max: x.max, selections: x.selections, blank: x.blank,
        options: x.options.map((o) => ({ text: o.text, votes: o.count, most_votes: o.top })) })),
  };
  const cell = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = [['question', 'option', 'votes', 'share_of_voters', 'share_of_votes', 'most_votes'].join(',')];
  q.forEach((x, qi) => {
    if (x.mixed) return; // rounds and matrices: in the JSON file
    for (const o of x.options) {
      lines.push([qi + 1, o.text, o.count, counted ? (o.count / counted).toFixed(4) : '', x.selections ? (o.count / x.selections).toFixed(4) : '', o.top].map(cell).join(','));
    }
    if (x.blank !== null) lines.push([qi + 1, '(blank)', x.blank, counted ? (x.blank / counted).toFixed(4) : '', '', false].map(cell).join(','));
  });
  const link = (id, text, type) => {
    const a = $(id);
    if (a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([text], { type }));
    a.download = `urna-results-${st.election_id}.${id.slice(3)}`;
  };
  link('dl-csv', lines.join('\r\n') + '\r\n', 'text/csv');
  link('dl-json', JSON.stringify(json, null, 2) + '\n', 'application/json');
}

function renderTrustees() {
  if (!res) return;
  const names = new Map(st.trustees.map((x) => [x.index, x.name]));
  $('trustees').replaceChildren(...res.trustees.map((i) => el('li', { text: `${names.get(i) || ''} (#${i})` })));
  $('trustees-sec').hidden = false;
}

function sameCounts(report) {
  if (!res || !report.counts) return null;
  const m = u.parseManifest(st.manifest);
  // Mixed questions have no option counts to compare: their count is
  // computed here from the verified answers.
  return res.questions.every((q, qi) => isMixed(m.questions[qi] || {}) ||
    q.options.every((o, oi) => report.counts[qi] && report.counts[qi][oi] === o.count));
}

// showMixed keeps the outcomes of the mixed questions that the verifier
// decrypted, checked and counted in this browser (V16).
function showMixed(report) {
  mixedViews.clear();
  if (!report.ok || !report.mixed) return;
  for (const v of report.mixed) mixedViews.set(v.question, v);
}

// readRecord downloads the election record; with a cap, it stops after
// cap bytes and returns null (the node sent more than its counts said).
async function readRecord(cap) {
  if (cap === undefined) return api('record', { raw: true });
  const reader = (await request('record')).body.getReader();
  const parts = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > cap) {
      await reader.cancel();
      return null;
    }
    parts.push(value);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// verify downloads the record and verifies it in a worker. cap bounds the
// download when the page started it unasked (see start); the visitor's
// click verifies whatever the size.
async function verify(cap) {
  const status = $('verify-status');
  const prog = $('verify-progress');
  $('verify-again').hidden = true;
  $('verify-details').hidden = true;
  setT($('verify-match'), null);
  setT(status, 'results.verify.running');
  status.className = '';
  prog.hidden = false;
  prog.value = 0;
  const t0 = performance.now();
  let report;
  try {
    const record = await readRecord(cap);
    if (record === null) {
      prog.hidden = true;
      offerVerify(null, cap);
      return;
    }
    const total = st.counts.entries || 1;
    report = await verifyInWorker(record, (step, done, tot) => {
      prog.value = Math.min(100, (100 * done) / (tot || total));
    });
  } catch (e) {
    prog.hidden = true;
    setError(status, e);
    status.className = 'error';
    $('verify-again').hidden = false;
    return;
  }
  performance.measure('urna.verify', { start: t0 });
  prog.hidden = true;
  const ran = report.steps.filter((s) => s.ran);
  if (report.ok) {
    setT(status, 'results.verify.ok', { n: ran.length, ballots: report.ballots, counted: report.counted });
    status.className = 'ok';
  } else {
    setT(status, 'results.verify.fail', { failure: report.failure || '' });
    status.className = 'error';
  }
  showMixed(report);
  if ((report.ok && report.counted !== counted) || mixedViews.size) {
    if (report.ok) counted = report.counted;
    renderQuestions();
    if (res) renderDownloads();
  }
  const same = sameCounts(report);
  if (same !== null) {
    setT($('verify-match'), same ? 'results.verify.match' : 'results.verify.mismatch');
    $('verify-match').className = same ? 'ok' : 'error';
  }
  $('verify-steps').replaceChildren(...report.steps.map((s) => {
    const li = el('li', { class: s.ok ? 'pass' : 'fail' },
      `${s.ok ? (s.ran ? '✓' : '–') : '✗'} ${s.id} ${s.title}` + (s.checked ? ` (${s.checked})` : '') +
      (s.failures && s.failures.length ? `: ${s.failures[0].detail}` : ''));
    // A step that did not run says whether the record stopped short of it
    // or it does not apply to this election (V14–V16 without ranked, score
    // or write-in questions).
    if (!s.ran) li.append(' — ', setT(el('span'), s.outcome === 'not applicable' ? 'results.step.notApplicable' : 'results.step.notReached'));
    return li;
  }));
  $('verify-details').hidden = false;
  $('verify-again').hidden = false;
  announce(status.textContent + ' ' + $('verify-match').textContent);
}

// LARGE_RECORD is the largest record, in estimated bytes, that the page
// downloads and verifies without asking. The verifier holds the whole
// record twice (the worker's copy and the wasm module's, whose memory never
// shrinks) beside its own state, about 3 to 4 times the record's size in
// all: at 50 MB that is some 200 MB, what a mid-range phone gives a tab
// without killing it, and a download a visitor on a mobile plan would not
// want made for them unasked (a 100,000-ballot record is about 200 MB).
const LARGE_RECORD = 50e6;

// VERIFY_RATE, in record bytes a second, turns the size into the time the
// page says verifying may take: a rough guide. This page verified 0.8 to
// 1.2 MB a second in headless Chromium on a busy 2-core machine
// (BenchmarkResultsVerify, 1,000 and 5,000 ballots); a phone is slower,
// so the page says "or longer".
const VERIFY_RATE = 1e6;

// recordSize estimates the size in bytes of the election record (SPEC.md
// §3.11) from the election status, without reading it: every entry as
// large as a ballot entry (its frame, the 135-byte envelope of SPEC.md §3.1
// and the manifest's exact ballot size), every block a 100-byte header in
// its frame, and 32 bytes per registered credential (the credential
// list). Ballots make up nearly all of a large record; a mixnet election's
// shuffles (at most 100,000 rows) make the record larger than this.
function recordSize(status, ballotSize) {
  const c = status.counts;
  return c.entries * (5 + 135 + ballotSize) + c.blocks * (5 + 100) + c.credentials * 32;
}

// offerVerify shows, in place of a verification that would download
// bytes (a large record), how large the record is and how long verifying
// it may take, with a button that starts it; the command line (#cli) is
// the recommended way. bytes null: the node sent more than cap bytes of
// record, more than its counts announced, and the download was stopped.
function offerVerify(bytes, cap) {
  const status = $('verify-status');
  let start;
  const onclick = () => { start.remove(); verify(); };
  if (bytes === null) {
    const mb = num(Math.round(cap / 1e6));
    setT(status, 'results.verify.larger', { mb });
    start = setT(el('button', { id: 'verify-start', type: 'button', onclick }), 'results.verify.startAnyway');
  } else {
    const mb = num(Math.max(1, Math.round(bytes / 1e6)));
    const minutes = num(Math.max(1, Math.round(bytes / VERIFY_RATE / 60)));
    setT(status, 'results.verify.large', { mb, minutes });
    start = setT(el('button', { id: 'verify-start', type: 'button', onclick }), 'results.verify.start', { mb });
  }
  status.className = 'notice';
  $('verify-again').hidden = true;
  $('verify-again').before(start);
  announce(status.textContent);
}

// unaskedCap bounds what the page downloads unasked: twice the estimate
// (a mixnet election's shuffles make the record larger than estimated),
// and at least 10 MB. A node whose counts understate its record (to have
// every visitor's browser download gigabytes) gets no further than that.
function unaskedCap(estimate) {
  return Math.max(2 * estimate, 10e6);
}

// start shows the results and the trustees; it resolves then, and the
// full verifier runs on in a worker (measured as urna.verify), unless the
// record is large (LARGE_RECORD): then the visitor chooses.
export async function start() {
  $('verify-again').addEventListener('click', () => verify());
  onLanguage(() => { renderQuestions(); });
  try {
    [u, st] = await openElection();
    if (!st) return;
    setE($('etitle'), 'title');
    try {
      res = await api('results');
    } catch (e) {
      if (e.code !== 'wrong_phase' && e.status !== 409) throw e;
      // Not an error: the results come once the trustees have decrypted.
      setT($('none'), 'results.none', { phase: phaseName(st.phase) });
      $('none').hidden = false;
    }
    // The node's figure until this browser has verified the record (and
    // none, rather than a wrong one, when the node gives none).
    counted = st.counts.voters_voted || null;
    renderQuestions();
    if (res) renderDownloads();
    renderTrustees();
    $('cli').textContent = `urna verify ${electionParam() ? '--election ' + electionParam() + ' ' : ''}${location.origin}`;
    $('verify-sec').hidden = false;
  } catch (e) {
    $('load').hidden = true;
    setError($('err'), e);
    return;
  }
  readElectorate();
  const bytes = recordSize(st, u.parseManifest(st.manifest).ballotSize);
  if (bytes > LARGE_RECORD) offerVerify(bytes);
  else verify(unaskedCap(bytes));
}

// credentialEntries returns the entries that register credentials, in
// board order, read from where the election status's count of entry types
// (docs/API.md) says they are: the credential list, and the
// late-credentials entries, which lie among the ballots (read on from the
// first until all are found). A node without the count: every entry.
async function credentialEntries() {
  const wanted = ['credentials', 'late-credentials'];
  if (!st.types) {
    const list = await pages('entries', 'entries', 0, { limit: 1000, max: 2000, next: (r) => r.next });
    return list.filter((e) => wanted.includes(e.type)).map((e) => e.entry);
  }
  const found = [];
  for (const type of wanted) {
    const span = st.types[type];
    if (!span) continue;
    let n = 0;
    for (let from = span.first; n < span.count;) {
      const r = await api(`entries?from=${from}&limit=${span.count === 1 ? 1 : 1000}`);
      if (r.entries.length === 0) break;
      for (const e of r.entries) {
        if (e.type === type) { found.push(e); n++; }
      }
      from = r.next;
    }
  }
  return found.sort((a, b) => a.seq - b.seq).map((e) => e.entry);
}

// readElectorate reads the entries that register credentials (the
// credential list and the late-credentials entries), has the wasm module
// check them (signed by the credential authority) and add up the weights,
// and, in a weighted election, shows the results as weighted.
async function readElectorate() {
  try {
    const creds = await credentialEntries();
    if (!creds.length) return;
    electorate = u.electorate(st.manifest, creds);
  } catch {
    return; // the counts stay as published; only the labels would change
  }
  if (!electorate.weighted) return;
  renderQuestions();
  if (res) renderDownloads();
}
