// Check my ballot: from a tracker or a receipt, fetch fresh checkpoints and
// check inclusion and consistency in this browser (package bulletin in
// wasm), then say whether the ballot is on the board and whether it counts.

import { api, election, waitForCheckpoint } from './api.js';
import { $, el, announce, shortHex } from './dom.js';
import { UrnaError } from './errors.js';
import { t, setT, setError } from './i18n.js';
import { load, b64urlToBytes } from './urna.js';
import { useManifest, setE } from './texts.js';
import { reviewKind } from './kinds.js';

let u = null;
let st = null;

function step(key, params, ok = true) {
  const li = setT(el('li', { class: ok ? 'pass' : 'fail' }), key, params);
  $('steps').append(li);
  return li;
}

function verdict(cls, headKey, headParams, bodyKey, bodyParams) {
  const v = el('div', { class: `verdict ${cls}`, role: cls === 'bad' ? 'alert' : null });
  v.append(setT(el('strong'), headKey, headParams));
  if (bodyKey) v.append(setT(el('p'), bodyKey, bodyParams));
  $('verdict').replaceChildren(v);
  return v;
}

// remembered returns the last checkpoint note this browser verified.
function cpKey() { return `urna.checkpoint.${st.fingerprint}`; }
function remembered() {
  try { return JSON.parse(localStorage.getItem(cpKey()) || 'null'); } catch { return null; }
}
function remember(cp) {
  try { localStorage.setItem(cpKey(), JSON.stringify({ size: cp.size, note: cp.note })); } catch { /* ignore */ }
}

// fresh waits for the newest checkpoint to cover seq (a just cast ballot
// waits for the nodes' cosignatures) and checks its quorum.
async function fresh(seq) {
  const cp = await waitForCheckpoint(seq, (c) => u.openCheckpoint(st.manifest, c.note).ok);
  const v = u.openCheckpoint(st.manifest, cp.note);
  if (!v.ok) throw new UrnaError('bad_checkpoint', t('board.cp.notok'));
  const signers = v.signers.filter((s) => s.valid).map((s) => s.id).join(', ');
  step('check.step.checkpoint', { size: v.size, signers });
  return v;
}

// consistency proves that an older checkpoint's log is a prefix of cp's.
async function consistency(old, cp) {
  if (!old || old.size > cp.size) {
    step('check.step.firstSeen', {});
    return;
  }
  let proof = null;
  if (old.size < cp.size) proof = (await api(`proofs/consistency?from=${old.size}&to=${cp.size}`)).proof;
  u.checkConsistency(st.manifest, old.note, cp.note, old.size, cp.size, proof);
  step('check.step.consistency', { from: old.size });
}

// inclusion proves that entry seq is in cp's log and returns its facts.
async function inclusion(seq, cp) {
  const [entry, p] = await Promise.all([
    api(`entries/${seq}`),
    api(`proofs/inclusion?seq=${seq}&size=${cp.size}`),
  ]);
  const f = u.verifyInclusion(st.manifest, cp.note, entry.entry, seq, cp.size, p.proof);
  step('check.step.inclusion', { seq, size: cp.size });
  return { ...f, entry: entry.entry };
}

// opened shows what a challenged ballot contained, from the opening
// published on the board, checked under the election key (SPEC.md V9): the
// voter confirms the challenge from any device.
function opened(entry) {
  const o = u.openAudited(st.manifest, st.joint_key, entry);
  step(o.verified ? 'check.opened.ok' : 'check.opened.bad', { problem: o.problem || '' }, o.verified);
  return openedList(o.answers || []);
}

// openedList lists the opened answers (per question: the options chosen,
// or a ranking, scores or a text, SPEC.md §12.10) in the election's texts
// of the page's language (the board explorer shows an audited ballot it
// finds with it too).
export function openedList(answers, manifest = st.manifest, wasm = u) {
  const m = wasm.parseManifest(manifest);
  const dl = el('dl', { class: 'review' });
  m.questions.forEach((q, qi) => {
    dl.append(setE(el('dt'), `q.${qi}`));
    const choices = (answers[qi] || { choices: [] }).choices;
    if (!choices) return reviewKind(dl, q, qi, answers[qi]);
    if (choices.length === 0) dl.append(setT(el('dd'), 'booth.review.blank'));
    for (const oi of choices) dl.append(setE(el('dd'), `o.${qi}.${oi}`));
  });
  return el('div', { class: 'opened' }, setT(el('p'), 'check.opened'), dl);
}

async function status(trackerHex, entry) {
  const s = await api(`trackers/${trackerHex}`);
  if (s.audited) {
    const v = verdict('warn', 'check.onboard', {}, 'check.audited', {});
    v.append(opened(entry));
    return v;
  }
  if (s.counts) return verdict('', 'check.onboard', {}, 'check.counts', {});
  if (s.superseded_by !== null && s.superseded_by !== undefined) {
    return verdict('warn', 'check.onboard', {}, 'check.replaced', { seq: s.superseded_by });
  }
  return verdict('warn', 'check.onboard', {}, 'check.notcounted', {});
}

// checkTracker checks the ballot of a tracker as readCheckInput read it:
// its short form, and its full hex when that was given.
async function checkTracker(input) {
  const q = input.trackerHex || input.tracker;
  let info;
  try {
    info = await api(`trackers/${encodeURIComponent(q)}`);
  } catch (e) {
    if (e.status === 404) return verdict('bad', 'check.notfound', { tracker: input.tracker });
    throw e;
  }
  step('check.step.lookup', { tracker: input.trackerHex ? shortHex(input.trackerHex) : input.tracker, seq: info.seq });
  const old = remembered();
  const cp = await fresh(info.seq);
  const f = await inclusion(info.seq, cp);
  const ok = input.trackerHex ? f.trackerHex === input.trackerHex : f.tracker === input.tracker;
  if (!f.trackerHex || !ok || f.trackerHex !== info.tracker) return verdict('bad', 'check.mismatch', {});
  await consistency(old, cp);
  remember(cp);
  return status(f.trackerHex, f.entry);
}

async function checkReceipt(text) {
  const f = u.verifyReceipt(st.manifest, b64urlToBytes(text));
  step('check.step.receipt', { seq: f.seq, size: f.checkpoint.size });
  const cp = await fresh(f.seq);
  const g = await inclusion(f.seq, cp);
  if (g.trackerHex !== f.trackerHex) return verdict('bad', 'check.mismatch', {});
  // The receipt's checkpoint must be a prefix of today's board.
  await consistency({ size: f.checkpoint.size, note: f.checkpoint.note }, cp);
  const old = remembered();
  if (old && old.size !== f.checkpoint.size) await consistency(old, cp);
  remember(cp);
  if (!f.trackerHex) return verdict('warn', 'check.onboard', {}, 'check.notcounted', {});
  return status(f.trackerHex, g.entry);
}

async function run(q) {
  $('steps').replaceChildren();
  $('verdict').replaceChildren();
  $('out').setAttribute('aria-busy', 'true');
  announce(t('check.working'));
  try {
    if (!u || !st) throw new UrnaError('no_election');
    const input = u.readCheckInput(q);
    if (input.kind === 'tracker') await checkTracker(input);
    else await checkReceipt(input.receipt);
  } catch (e) {
    const v = el('div', { class: 'verdict bad', role: 'alert' });
    const p = el('p');
    setError(p, e);
    if (e.code !== 'inconsistent') p.textContent = t('check.bad', { message: p.textContent });
    v.append(p);
    $('verdict').replaceChildren(v);
  } finally {
    $('out').setAttribute('aria-busy', 'false');
    announce($('verdict').innerText);
  }
}

// start wires the form and loads the election; it resolves when a check
// can run, and starts one for ?tracker= in the address.
export async function start() {
  $('check-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = $('q').value.trim();
    if (q) run(q);
    else $('q').focus();
  });
  $('file').addEventListener('change', async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const text = (await file.text()).trim();
    $('q').value = text;
    run(text);
  });
  try {
    [u, st] = await Promise.all([load(), election()]);
    if (st) useManifest(u.parseManifest(st.manifest));
  } catch (e) {
    setError($('verdict'), e);
  }
  const q = new URLSearchParams(location.search).get('tracker');
  if (q) {
    $('q').value = q;
    run(q);
  }
}
