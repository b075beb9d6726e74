// Results: per-question counts as an accessible chart (a data table whose
// bars are decoration), the trustees who decrypted, and the verdict of the
// full verifier (package client, V1–V13) run on the record in this browser.

import { api, election } from './api.js';
import { $, el, announce } from './dom.js';
import { setT, setError, phaseName, onLanguage } from './i18n.js';
import { verifyInWorker } from './urna.js';

let st = null;
let res = null;

function renderQuestions() {
  const box = $('questions');
  box.replaceChildren();
  if (!res) return;
  res.questions.forEach((q, qi) => {
    const total = q.options.reduce((s, o) => s + o.count, 0);
    const max = Math.max(1, ...q.options.map((o) => o.count));
    const table = el('table', { class: 'chart', id: `result-q${qi}` },
      el('caption', {}, setT(el('span', { class: 'qn' }), 'results.question', { n: qi + 1 }), ': ', q.text),
      el('thead', {}, el('tr', {},
        setT(el('th', { scope: 'col' }), 'results.option'),
        el('th', { scope: 'col', 'aria-hidden': 'true' }),
        setT(el('th', { scope: 'col', class: 'num' }), 'results.count'),
        setT(el('th', { scope: 'col', class: 'num' }), 'results.share'))),
      el('tbody', {}, q.options.map((o) => el('tr', {},
        el('th', { scope: 'row', text: o.text }),
        el('td', { class: 'bar', 'aria-hidden': 'true' },
          el('div', { class: 'track' }, el('div', { class: 'fill', style: `width:${(100 * o.count) / max}%` }))),
        el('td', { class: 'num', 'data-count': o.count, text: String(o.count) }),
        el('td', { class: 'num', text: total ? `${((100 * o.count) / total).toFixed(1)}%` : '–' })))),
      el('tfoot', {}, el('tr', {}, setT(el('th', { scope: 'row' }), 'results.total'), el('td', { 'aria-hidden': 'true' }),
        el('td', { class: 'num', text: String(total) }), el('td'))));
    box.append(el('section', { class: 'scroll' }, table));
  });
}

function renderTrustees() {
  if (!res) return;
  const names = new Map(st.trustees.map((x) => [x.index, x.name]));
  $('trustees').replaceChildren(...res.trustees.map((i) => el('li', { text: `${names.get(i) || ''} (#${i})` })));
  $('trustees-sec').hidden = false;
}

function sameCounts(report) {
  if (!res || !report.counts) return null;
  return res.questions.every((q, qi) => q.options.every((o, oi) => report.counts[qi] && report.counts[qi][oi] === o.count));
}

async function verify() {
  const status = $('verify-status');
  const prog = $('verify-progress');
  $('verify-again').hidden = true;
  $('verify-details').hidden = true;
  setT($('verify-match'), null);
  setT(status, 'results.verify.running');
  prog.hidden = false;
  prog.value = 0;
  const t0 = performance.now();
  let report;
  try {
    const record = await api('record', { raw: true });
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
  const same = sameCounts(report);
  if (same !== null) {
    setT($('verify-match'), same ? 'results.verify.match' : 'results.verify.mismatch');
    $('verify-match').className = same ? 'ok' : 'error';
  }
  $('verify-steps').replaceChildren(...report.steps.map((s) => el('li', { class: s.ok ? 'pass' : 'fail' },
    `${s.ok ? (s.ran ? '✓' : '–') : '✗'} ${s.id} ${s.title}` + (s.checked ? ` (${s.checked})` : '') +
    (s.failures && s.failures.length ? `: ${s.failures[0].detail}` : ''))));
  $('verify-details').hidden = false;
  $('verify-again').hidden = false;
  announce(status.textContent + ' ' + $('verify-match').textContent);
}

// start shows the results and the trustees; it resolves then, and the
// full verifier runs on in a worker (measured as urna.verify).
export async function start() {
  $('verify-again').addEventListener('click', verify);
  onLanguage(() => { renderQuestions(); });
  try {
    st = await election();
    $('load').hidden = true;
    if (!st) { setT($('err'), 'err.no_election'); return; }
    $('etitle').textContent = st.title;
    try {
      res = await api('results');
    } catch (e) {
      if (e.code !== 'wrong_phase' && e.status !== 409) throw e;
      setT($('err'), 'results.none', { phase: phaseName(st.phase) });
    }
    renderQuestions();
    renderTrustees();
    $('cli').textContent = `urna verify ${location.origin}`;
    $('verify-sec').hidden = false;
  } catch (e) {
    $('load').hidden = true;
    setError($('err'), e);
    return;
  }
  verify();
}
