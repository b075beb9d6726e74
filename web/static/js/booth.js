// The voting booth: election key → credential → choices → review → cast or
// challenge. The key is established from the board's entries, never taken
// from the node's status (SPEC.md §10.6); without it the booth encrypts nothing.
// Encryption, proofs and signatures run in the WebAssembly module (package
// ballot); only the signed, encrypted entry leaves the page, and after a
// challenge the opening the voter asked to publish.

import { api, pages, postEntry, election, sleep, waitForCheckpoint, pageLink } from './api.js';
import { $, el, announce, focusHeading, onClick } from './dom.js';
import { UrnaError } from './errors.js';
import { t, setT, setError, errorText, phaseName, onLanguage } from './i18n.js';
import { load, b64urlToBytes, bytesToB64url } from './urna.js';
import { openingEntries, TYPE_LATE_CREDENTIALS } from './record.js';
import { useManifest, setE, electionText } from './texts.js';
import { renderKind, answerOf, reviewKind } from './kinds.js';

const steps = ['step-cred', 'step-choices', 'step-review', 'step-challenged', 'step-cast'];

let u = null; // the wasm bridge
let st = null; // election status, as the node reports it: never trusted for the key
let key = null; // the election key this browser established from the board (SPEC.md §10.6)
// The entries that register credentials (SPEC.md §3.9): the credential
// list (entry 1 of the entries the key was verified on) and the
// late-credentials entries among them, then those found after the open
// entry (late: up to entry late.next - 1).
let credEntries = [];
const late = { next: 0, entries: [] };
let registration = null; // the open booth's {registered, weight, late}
let m = null; // manifest view
let booth = null; // the open booth (credential key inside wasm)
let sealed = null; // the encrypted ballot under review
let earlier = null; // {seq, tracker} of a ballot this credential cast before
let earlierLookup = Promise.resolve(); // findEarlier's run for the open credential
let warming = null; // cancels the warm-up still to run (warmUp)
const CAST_KEY = 'urna.booth.cast'; // the last ballot cast in this tab, kept across a reload
// PROGRESS_KEY keeps the step and the answers across a reload, in this
// tab only (sessionStorage), as {step, checked: [input ids], values: {id:
// value}} (the ticked options; the ranks, scores and write-ins). Never
// the credential nor any randomness: after a reload the voter enters the
// credential again, then returns to the step with the options ticked.
const PROGRESS_KEY = 'urna.booth.progress';
let resume = null; // the progress read back after a reload, until the credential is entered

// showStep shows one step of the booth, marks it in the progress
// indicator and, unless replacing, records it in the tab's history so that
// the browser's Back button goes back one step rather than leaving the booth.
function showStep(id, focus = true, { replace = false } = {}) {
  for (const s of steps) $(s).hidden = s !== id;
  const shown = id === 'step-challenged' ? 'step-review' : id;
  const at = [...$('progress').children].findIndex((li) => li.dataset.step === shown);
  [...$('progress').children].forEach((li, i) => {
    li.className = i < at ? 'done' : i === at ? 'current' : '';
    if (i === at) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
  });
  $('progress').hidden = false;
  if (history.state?.step !== id) {
    if (replace || !history.state?.step) history.replaceState({ step: id }, '');
    else history.pushState({ step: id }, '');
  }
  saveProgress(id);
  if (focus) focusHeading($(id));
}

// ---- progress kept across a reload --------------------------------------

function saveProgress(id = history.state?.step) {
  // Only an open booth has progress; on the credential step after a
  // reload the kept progress waits for the credential.
  if (!booth || !['step-choices', 'step-review', 'step-challenged'].includes(id)) return;
  const checked = [...document.querySelectorAll('#questions input:checked')].map((i) => i.id);
  const values = Object.fromEntries([...document.querySelectorAll('#questions select, #questions input[type=number], #questions input[type=text]')]
    .filter((i) => i.value !== '').map((i) => [i.id, i.value]));
  // The challenged ballot is spent: a reload returns to the review of a new one.
  const step = id === 'step-challenged' ? 'step-review' : id;
  try { sessionStorage.setItem(PROGRESS_KEY, JSON.stringify({ step, checked, values })); } catch { /* not kept */ }
}

function clearProgress() {
  resume = null;
  try { sessionStorage.removeItem(PROGRESS_KEY); } catch { /* none */ }
}

// readKept returns what this tab kept under name, on a reload or a Back or
// Forward into the booth; on any other arrival it forgets it.
function readKept(name) {
  const nav = performance.getEntriesByType('navigation')[0]?.type;
  try {
    if (nav === 'reload' || nav === 'back_forward') return JSON.parse(sessionStorage.getItem(name) || 'null');
    sessionStorage.removeItem(name);
  } catch { /* none */ }
  return null;
}

// resumeProgress ticks the kept options in the questions just rendered and
// returns the step the voter was on.
function resumeProgress() {
  const r = resume;
  resume = null;
  $('cred-kept').hidden = true;
  for (const id of r.checked || []) {
    const i = document.getElementById(id);
    if (i && i.closest('#questions')) i.checked = true;
  }
  for (const [id, v] of Object.entries(r.values || {})) {
    const i = document.getElementById(id);
    if (!i || !i.closest('#questions')) continue;
    i.value = v;
    i.dispatchEvent(new Event(i.type === 'text' ? 'input' : 'change', { bubbles: true }));
  }
  return r.step === 'step-review' ? 'step-review' : 'step-choices';
}

// back follows the browser's Back (and Forward) button between steps: a
// ballot under review is dropped (never cast); without an open booth the
// voter starts again from the credential.
function back(ev) {
  const want = ev.state?.step;
  if (!want || !key) return;
  if (want === 'step-cast' && !$('cast-tracker').textContent) return showStep('step-cred', true, { replace: true });
  if ((want === 'step-choices' || want === 'step-review' || want === 'step-challenged') && !booth) {
    return showStep('step-cred', true, { replace: true });
  }
  if (want === 'step-review' || want === 'step-challenged') return showStep('step-choices', true, { replace: true });
  if (want === 'step-choices' && sealed) { booth.forget(); sealed = null; }
  showStep(want, true, { replace: true });
}

function fatal(e) {
  $('load').hidden = true;
  setError($('err'), e);
  $('err').focus();
}

// ---- the election key ------------------------------------------------------

// establishKey reads the board's entries from 0 up to the open entry from
// the node's record (record.js: GET /record, read up to the open entry
// and no further) and fetches the newest signed checkpoint with its
// consistency proof, and has the wasm module check them (SPEC.md §10.6:
// the authority's manifest, every signature, the election rules, the
// trustees' key ceremony and the checkpoint's quorum). It returns the key
// the ceremony produced, or throws: the booth then refuses to encrypt.
async function establishKey() {
  const read = await openingEntries();
  // The wasm module and the registration take entries as base64url.
  const entries = read.entries.map(bytesToB64url);
  const { types } = read;
  // The newest checkpoint covers the open entry once the board nodes have
  // signed the block that holds it; give them a moment. The quorum test
  // here only decides how long to wait: it reads the manifest the node
  // reports, which the booth does not trust, so verifyElectionKey below
  // checks the checkpoint again on the manifest from the board's entries.
  const quorum = (c) => {
    try { return u.openCheckpoint(st.manifest, c.note).ok; } catch { return false; }
  };
  const cp = await waitForCheckpoint(entries.length - 1, quorum, { tries: 11, interval: 500 });
  let proof = [];
  if (cp.size > entries.length && entries.length > 0) {
    ({ proof } = await api(`proofs/consistency?from=${entries.length}&to=${cp.size}`));
  }
  const k = u.verifyElectionKey(entries, cp.note, proof);
  if (!k.checkpoint) throw new UrnaError('key_unverified', 'the node served no signed checkpoint');
  // The rules accept only the credential list after the manifest; late
  // voters may be registered during the key ceremony already.
  credEntries = [entries[1], ...entries.filter((_, i) => i > 1 && types[i] === TYPE_LATE_CREDENTIALS)];
  late.next = entries.length;
  // What the node says must agree with the board, or the node lies.
  if (st.joint_key !== k.jointKey || st.fingerprint !== k.fingerprint) {
    throw new UrnaError('key_mismatch', `${st.joint_key} ≠ ${k.jointKey}`);
  }
  return k;
}

// groups splits a hex fingerprint into blocks of 8 digits for reading aloud.
function groups(hex) {
  return hex.match(/.{1,8}/g).join(' ');
}

function showKey() {
  $('fingerprint').textContent = groups(key.fingerprint);
  const c = key.checkpoint;
  setT($('key-ok'), 'booth.key.ok', { qual: key.qualified.join(', '), valid: c.valid, nodes: c.signers.length });
}

function refuse(e) {
  $('load').hidden = true;
  $('etitle').hidden = true; // no verified manifest, no title to show
  for (const s of steps) $(s).hidden = true;
  // Whatever went wrong (a failed check, a node that does not answer), the
  // voter reads that the booth will not encrypt, and why.
  const known = e && (e.code === 'key_unverified' || e.code === 'key_mismatch');
  setError($('err'), known ? e : new UrnaError('key_unverified', errorText(e)));
  announce(''); // the alert (role=alert) announces itself
  $('err').focus();
}

// ---- the warm-up ---------------------------------------------------------

// warmUp has the wasm module encrypt one throw-away ballot for the
// verified election (web/wasm/warmup.go) once the page has painted, in a
// few steps, each when the thread is idle, while the voter enters the
// credential and reads the questions. V8 compiles each wasm function on
// its first call, on this thread: without it a fresh page's first ballot
// paid for compiling the encryption, several times the 3.5 ms it takes
// afterwards (bench/README.md, issue 11). The module drops that ballot and
// its credential: nothing of it reaches the page or the board. A voter who
// asks for a ballot first cancels the steps left (review), and the real
// encryption simply proceeds. Each step is recorded as a measure
// urna.warmup.
function warmUp() {
  const idle = window.requestIdleCallback
    ? (f) => { const id = requestIdleCallback(f, { timeout: 1000 }); return () => cancelIdleCallback(id); }
    : (f) => { const id = setTimeout(f, 0); return () => clearTimeout(id); };
  let step = 0;
  const run = () => {
    warming = null;
    const t0 = performance.now();
    let more;
    try {
      more = u.warmUp(key.manifest, key.jointKey, step);
    } catch {
      return; // nothing to tell the voter: the real encryption says what is wrong
    }
    performance.measure('urna.warmup', { start: t0 });
    step++;
    if (more) warming = idle(run);
  };
  const frame = requestAnimationFrame(() => { warming = idle(run); });
  warming = () => cancelAnimationFrame(frame);
}

// ---- step 1: credential -------------------------------------------------

// registered looks for the booth's credential in the credential list and
// the late-credentials entries (checked in wasm: signed by the credential
// authority, registered as the rules register them). A credential not
// found among the entries read so far is looked for again among the
// entries posted since: a late voter registered after the open.
async function registered(b) {
  if (!credEntries.length) return null;
  let reg = b.registration([...credEntries, ...late.entries]);
  if (reg.registered) return reg;
  const list = await pages('entries', 'entries', late.next, { limit: 1000, max: 1000, next: (r) => r.next });
  for (const e of list) {
    if (e.seq !== late.next) break; // a gap: read again next time
    if (e.type === 'late-credentials') late.entries.push(e.entry);
    late.next = e.seq + 1;
  }
  reg = b.registration([...credEntries, ...late.entries]);
  return reg;
}

// showWeight says how many times the voter's ballot counts, when not once,
// and that a late voter was registered late.
function showWeight() {
  const w = registration && registration.weight > 1 ? registration.weight : 0;
  for (const id of ['weight', 'review-weight']) {
    setT($(id), w ? 'booth.weight' : null, { n: w });
    $(id).hidden = !w;
  }
  const isLate = !!(registration && registration.late);
  setT($('late'), isLate ? 'booth.late' : null);
  $('late').hidden = !isLate;
}

async function submitCredential(ev) {
  ev.preventDefault();
  const input = $('cred');
  const errEl = $('cred-err');
  setT(errEl, null);
  input.removeAttribute('aria-invalid');
  setT($('err'), null);
  const value = input.value.trim();
  const bad = (e) => {
    announce('');
    setError(errEl, e);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  if (!value) return bad(new UrnaError('credential_invalid'));
  announce(t('booth.cred.checking'));
  if (!key) return; // no verified election key: the booth does not encrypt
  let b;
  try {
    // The manifest and the key are the ones verified on the board (showKey).
    b = u.openBooth(key.manifest, key.jointKey, value);
  } catch (e) {
    return bad(e);
  }
  let reg = null;
  try {
    reg = await registered(b);
    if (reg && !reg.registered) {
      b.close();
      return bad(new UrnaError('unregistered'));
    }
  } catch (e) {
    // The board will still refuse an unknown credential when we cast.
  }
  if (booth) booth.close();
  booth = b;
  registration = reg;
  showWeight();
  input.value = ''; // the credential lives only inside the wasm module now
  earlier = null;
  for (const id of ['revote', 'review-revote']) $(id).hidden = true;
  renderQuestions();
  const step = resume ? resumeProgress() : 'step-choices';
  showStep('step-choices');
  announce(t('booth.cred.ok'));
  earlierLookup = findEarlier(b);
  if (step === 'step-review') submitChoices();
}

// findEarlier looks on the board for a ballot this credential already cast
// (its entries are signed by the public credential, SPEC.md §5.2) and, if
// there is one, tells the voter that a new ballot replaces it.
async function findEarlier(b) {
  let last = null;
  try {
    const list = await pages('entries', 'entries', key.openSeq + 1, { limit: 1000, max: 1000, next: (r) => r.next });
    for (const e of list) if (e.type === 'ballot' && e.author === b.publicCredential) last = e;
    if (!last || booth !== b) return;
    earlier = { seq: last.seq, tracker: u.entryFacts(last.entry).tracker };
  } catch {
    return; // the notice is a courtesy: the board replaces the ballot anyway
  }
  for (const id of ['revote', 'review-revote']) {
    setT($(id), 'booth.revote', earlier);
    $(id).hidden = false;
  }
  announce(t('booth.revote', earlier));
}

// ---- step 2: choices ----------------------------------------------------

function hintKey(q) {
  if (q.min === q.max) return q.max === 1 ? ['booth.q.one', {}] : ['booth.q.exactly', { n: q.max }];
  if (q.min === 0) return ['booth.q.upto', { max: q.max }];
  return ['booth.q.range', { min: q.min, max: q.max }];
}

function renderQuestions() {
  const box = $('questions');
  box.replaceChildren();
  m.questions.forEach((q, qi) => {
    const kind = renderKind(q, qi);
    if (kind) return box.append(kind);
    const hintId = `q${qi}-hint`;
    const countId = `q${qi}-count`;
    const radio = q.max === 1;
    const [hk, hp] = hintKey(q);
    const hint = el('p', { id: hintId, class: 'help' }, setT(el('span'), hk, hp));
    if (q.min === 0) hint.append(' ', setT(el('span'), 'booth.q.blank'));
    const fs = el('fieldset', { 'aria-describedby': hintId, 'data-q': qi },
      setE(el('legend'), `q.${qi}`), hint);
    q.options.forEach((o, oi) => {
      const id = `q${qi}o${oi}`;
      fs.append(el('label', { class: 'option', for: id },
        el('input', { id, type: radio ? 'radio' : 'checkbox', name: `q${qi}`, value: oi }),
        setE(el('span'), `o.${qi}.${oi}`)));
    });
    if (radio && q.min === 0) {
      const id = `q${qi}blank`;
      fs.append(el('label', { class: 'option', for: id },
        el('input', { id, type: 'radio', name: `q${qi}`, value: 'blank' }),
        setT(el('span'), 'booth.q.blankOption')));
    }
    if (!radio) {
      fs.append(el('p', { id: countId, class: 'count', 'aria-live': 'polite' }));
      fs.addEventListener('change', (ev) => onCheck(ev, q, qi));
    }
    box.append(fs);
  });
}

function selected(qi) {
  return [...document.querySelectorAll(`input[name="q${qi}"]:checked`)]
    .filter((i) => i.value !== 'blank').map((i) => Number(i.value));
}

function onCheck(ev, q, qi) {
  const count = $(`q${qi}-count`);
  if (selected(qi).length > q.max) {
    ev.target.checked = false; // max enforced: the voter unselects one first
    setT(count, 'booth.q.max', { max: q.max });
    return;
  }
  setT(count, 'booth.q.count', { n: selected(qi).length });
}

// answersOf reads every question's answer for the wasm module and the
// first question with a problem: {answers, bad: {qi, key, params}}.
function answersOf() {
  let bad = null;
  const answers = m.questions.map((q, qi) => {
    const k = answerOf(q, qi);
    if (k) {
      if (k.problem && !bad) bad = { qi, key: k.problem[0], params: k.problem[1] };
      return k.answer;
    }
    const choices = selected(qi).sort((a, b) => a - b);
    if ((choices.length < q.min || choices.length > q.max) && !bad) bad = { qi };
    return { choices };
  });
  return { answers, bad };
}

function submitChoices(ev) {
  ev?.preventDefault();
  const errEl = $('choices-err');
  setT(errEl, null);
  const { answers, bad } = answersOf();
  if (bad) {
    // The question by name, then what is wrong with its answer.
    const q = electionText(`q.${bad.qi}`);
    if (bad.key) setT(errEl, 'booth.q.problem', { q, problem: t(bad.key, bad.params) });
    else setT(errEl, 'booth.q.tooFew', { q, min: m.questions[bad.qi].min });
    const fs = document.querySelector(`#questions fieldset[data-q="${bad.qi}"]`);
    errEl.focus();
    if (fs) fs.scrollIntoView({ block: 'nearest' });
    return;
  }
  review(answers);
}

// ---- step 3: review, encrypt ---------------------------------------------

// selectionList lists the answers (per question: {choices} the options
// chosen, {ranking}, {scores} or {text}) in the election's texts of the
// page's language.
function selectionList(answers) {
  const dl = el('dl', { class: 'review' });
  m.questions.forEach((q, qi) => {
    dl.append(setE(el('dt'), `q.${qi}`));
    const a = answers[qi];
    if (!a.choices) return reviewKind(dl, q, qi, a);
    if (a.choices.length === 0) dl.append(setT(el('dd'), 'booth.review.blank'));
    for (const oi of a.choices) dl.append(setE(el('dd'), `o.${qi}.${oi}`));
  });
  return dl;
}

async function review(answers) {
  // Encrypt first: the page paints nothing before this task ends, so the
  // review step below shows no later, and the ballot is ready without
  // waiting for the page's layout. A warm-up still to come is pointless now.
  if (warming) {
    warming();
    warming = null;
  }
  let failed = null;
  try {
    const t0 = performance.now();
    sealed = booth.encrypt(answers);
    performance.measure('urna.encrypt', { start: t0 });
  } catch (e) {
    failed = e;
  }
  setT($('err'), null);
  $('review-list').replaceChildren(selectionList(answers));
  $('review-tracker').textContent = '';
  setT($('review-tracker-help'), 'booth.review.trackerHelp');
  setT($('cast'), 'booth.cast');
  setButtons(false);
  showStep('step-review');
  announce(t('booth.review.encrypting'));
  if (failed) {
    setError($('err'), failed);
    $('err').focus();
    return;
  }
  // The voter is told that this ballot replaces an earlier one before it
  // can be cast, and the notice does not move the buttons under the
  // pointer: wait for the board's answer (findEarlier never fails).
  const mine = sealed;
  await earlierLookup;
  if (sealed !== mine) return; // the voter went back meanwhile
  $('review-tracker').textContent = sealed.tracker;
  setButtons(true);
  announce(`${t('booth.review.tracker')}: ${sealed.tracker}`);
}

function setButtons(on) {
  for (const id of ['cast', 'challenge', 'change']) $(id).disabled = !on;
}

// offerChallenge shows the challenge: every ballot can be opened, those of
// ranked, score and write-in questions too (SPEC.md §12.10).
function offerChallenge() {
  $('challenge').hidden = false;
  setT($('review-explain'), 'booth.review.explain');
}

// ---- cast --------------------------------------------------------------

// retryable: the ballot did not reach the board (no connection, a node
// busy or failing), so sending the same ballot again is safe.
function retryable(e) {
  return e.status === 0 || e.status === 429 || e.status >= 500;
}

async function cast() {
  if (!sealed) return;
  setButtons(false);
  setT($('err'), null);
  announce(t('booth.casting'));
  let r;
  try {
    r = await postEntry(sealed.entry);
  } catch (e) {
    if (e.code === 'duplicate' || retryable(e)) {
      // An earlier try reached the board after all, or this one did and
      // only its answer was lost: the board says whether it holds this
      // very ballot (the receipt fetched below proves it). A consistent
      // read: a node that has not applied the commit yet (a follower
      // behind a busy leader) must not make a cast ballot look uncast.
      try {
        const found = await api(`trackers/${sealed.trackerHex}?consistent=1`);
        if (found.type === 'ballot' && found.tracker === sealed.trackerHex) r = found;
      } catch { /* not on the board, or the board unreachable: shown below */ }
    }
    if (!r) return castFailed(e);
  }
  booth.forget(); // the secrets would prove how this ballot votes
  clearProgress();
  const tracker = sealed.tracker;
  const trackerHex = sealed.trackerHex;
  sealed = null;
  const done = { seq: r.seq, tracker, trackerHex, earlier };
  try { sessionStorage.setItem(CAST_KEY, JSON.stringify(done)); } catch { /* the page still shows it */ }
  showCast(done);
  await fetchReceipt(r.seq, tracker, trackerHex);
}

// castFailed says that the ballot was not cast and why. When it never
// reached the board the voter can send the same ballot again; a ballot
// the board rejected cannot be, and the voter changes the choices.
function castFailed(e) {
  const again = retryable(e);
  setT($('err'), again ? 'booth.cast.failed' : null, { message: errorText(e) });
  if (!again) setError($('err'), e);
  setT($('review-tracker-help'), 'booth.review.trackerUncast');
  $('change').disabled = false;
  if (again) {
    setT($('cast'), 'booth.cast.retry');
    $('cast').disabled = false;
    $('challenge').disabled = false;
  }
  announce(''); // the alert (role=alert) announces itself; "Sending…" is over
  $('err').focus();
}

// showCast shows the cast step for a ballot on the board: at once after
// casting it, or after the page was reloaded in this tab.
function showCast({ seq, tracker, earlier: before }) {
  setT($('cast-seq'), 'booth.cast.onboard', { seq });
  $('cast-tracker').textContent = tracker;
  $('check-link').href = pageLink(`check.html?tracker=${encodeURIComponent(tracker)}`);
  $('download').hidden = true;
  $('cast-replaced').hidden = !before;
  setT($('cast-replaced'), before ? 'booth.revote.replaced' : null, before || {});
  setT($('cast-receipt'), 'booth.receiptWait');
  showStep('step-cast');
}

async function fetchReceipt(seq, tracker, trackerHex) {
  const out = $('cast-receipt');
  for (let i = 0; i < 40; i++) {
    try {
      const rc = await api(`receipts/${seq}`);
      const f = u.verifyReceipt(key.manifest, b64urlToBytes(rc.receipt));
      if (f.trackerHex !== trackerHex || f.seq !== seq) throw new Error('receipt is for another ballot');
      setT(out, 'booth.cast.receiptOK');
      out.className = 'ok';
      const blob = new Blob([`${rc.receipt}\n`], { type: 'text/plain' });
      const a = $('download');
      a.href = URL.createObjectURL(blob);
      a.download = `urna-receipt-${tracker}.txt`;
      a.hidden = false;
      announce(t('booth.cast.receiptOK'));
      return;
    } catch (e) {
      if (e.status !== 404 && e.code !== 'not_found') {
        setError(out, e);
        out.className = 'error';
        return;
      }
    }
    await sleep(Math.min(250 + i * 100, 1000));
  }
  setT(out, 'booth.cast.receiptLater');
}

// ---- challenge -----------------------------------------------------------

async function challenge() {
  if (!sealed) return;
  setButtons(false);
  setT($('err'), null);
  let c;
  try {
    c = booth.challenge();
  } catch (e) {
    setError($('err'), e);
    $('change').disabled = false;
    $('err').focus(); // the focused button was just disabled
    return;
  }
  sealed = null;
  // Every question's opened answer: options, ranking, scores or text.
  $('opened').replaceChildren(selectionList(c.answers));
  setT($('opened-ok'), c.verified ? 'booth.challenged.ok' : null);
  setT($('opened-post'), 'booth.challenged.posting');
  $('opened-post').className = '';
  showStep('step-challenged');
  try {
    const r = await postEntry(c.entry);
    setT($('opened-post'), 'booth.challenged.posted', { seq: r.seq });
  } catch (e) {
    setError($('opened-post'), e);
    $('opened-post').className = 'error';
  }
  announce($('opened-post').textContent);
}

function change() {
  if (booth) booth.forget();
  sealed = null;
  showStep('step-choices');
}

function done() {
  try { sessionStorage.removeItem(CAST_KEY); } catch { /* ignore */ }
  clearProgress();
  $('cast-tracker').textContent = '';
  if (booth) booth.close();
  booth = null;
  sealed = null;
  registration = null;
  showWeight();
  $('questions').replaceChildren();
  showStep('step-cred');
}

// ---- the credential in the URL fragment -----------------------------------

// takeCredentialFromURL reads a credential from the fragment of the booth's
// address (booth.html#cred=…, the link of a credential letter's QR code:
// a fragment is never sent to a server) and removes the fragment from the
// address bar and the tab's history, so the credential is not left in the
// browser's history or shown on screen. It returns the credential, or ''.
function takeCredentialFromURL() {
  if (!location.hash) return '';
  const cred = new URLSearchParams(location.hash.slice(1)).get('cred') || '';
  history.replaceState(history.state, '', location.pathname + location.search);
  return cred.trim();
}

// ---- start -------------------------------------------------------------

// start wires the booth's controls, then establishes the election key on
// the board; it resolves when the booth is ready for a credential, or has
// said why it will not take one. It records how long that took as the
// performance measures urna.key and urna.booth.
export async function start() {
  const t0 = performance.now();
  // First of all: the fragment leaves the address bar before anything loads.
  const fromURL = takeCredentialFromURL();
  if (fromURL) $('cred').value = fromURL;
  $('cred-form').addEventListener('submit', submitCredential);
  $('cred-show').addEventListener('change', (e) => { $('cred').type = e.target.checked ? 'text' : 'password'; });
  $('choices-form').addEventListener('submit', submitChoices);
  onClick({ cast, challenge, change, again: change, done });
  $('questions').addEventListener('change', () => saveProgress());
  $('questions').addEventListener('input', () => saveProgress());
  // Leaving the booth by a link forgets the progress (a reload keeps it).
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest?.('a[href]');
    if (a && !a.download && a.target !== '_blank') clearProgress();
  });
  try {
    [u, st] = await Promise.all([load(), election()]);
  } catch (e) {
    return fatal(e);
  }
  if (!st) return fatal(new UrnaError('no_election'));
  onLanguage(() => { /* data-tkey elements re-translate themselves */ });
  if (st.phase !== 'open') {
    // Not an error: the voter is told where to go instead. The node's
    // manifest only names the election here: the booth encrypts nothing.
    useManifest(u.parseManifest(st.manifest));
    setE($('etitle'), 'title');
    $('load').hidden = true;
    const over = ['closed', 'tally', 'result'].includes(st.phase);
    setT($('closed-text'), over ? 'booth.closed' : 'booth.notyet', { phase: phaseName(st.phase) });
    showClosed(over);
    return;
  }
  setT($('load'), 'booth.key.checking');
  announce(t('booth.key.checking'));
  try {
    const t1 = performance.now();
    key = await establishKey();
    performance.measure('urna.key', { start: t1 });
  } catch (e) {
    refuse(e);
    return;
  }
  m = u.parseManifest(key.manifest);
  useManifest(m);
  offerChallenge();
  setE($('etitle'), 'title');
  $('load').hidden = true;
  showKey();
  // The voting window of the verified manifest, on this device's clock
  // (SPEC.md §3.9): the board decides on its block times, and refuses a
  // ballot outside it anyway (err.not_open_yet, err.closed).
  if (!inWindow()) return;
  announce(t('booth.key.verified'));
  enter(t0);
}

// showClosed shows why the booth takes no credential, with the voting
// window, and a link to the results once voting is over.
function showClosed(over) {
  $('closed-results').hidden = !over;
  $('closed-sep').hidden = !over;
  $('closed').hidden = false;
}

// inWindow reports whether this device's clock is inside the voting
// window; if not, it says so, and before the opening it opens the booth
// by itself when the time comes.
function inWindow() {
  const w = u.votingWindow(key.manifest, Date.now());
  if (w === 'open') {
    $('closed').hidden = true;
    setT($('closed-text'), null);
    return true;
  }
  for (const s of steps) $(s).hidden = true;
  $('progress').hidden = true;
  setT($('closed-text'), w === 'closed' ? 'booth.window.closed' : 'booth.window.notyet');
  showClosed(w === 'closed');
  announce($('closed-text').textContent);
  if (w === 'not_open_yet') {
    const wait = Math.min(Math.max(m.schedule.opensAt - Date.now(), 0) + 250, 2 ** 31 - 1);
    setTimeout(() => { if (inWindow()) { announce(t('booth.key.verified')); enter(performance.now()); } }, wait);
  }
  return false;
}

// enter shows the booth's first step (or the ballot cast before a reload).
function enter(t0) {
  window.addEventListener('popstate', back);
  const kept = readKept(CAST_KEY);
  resume = readKept(PROGRESS_KEY);
  if (kept && kept.tracker) {
    // Reloaded after casting: the ballot stays shown, with its receipt.
    clearProgress();
    showCast(kept);
    fetchReceipt(kept.seq, kept.tracker, kept.trackerHex);
  } else {
    if (resume) {
      // Reloaded while voting: the choices wait for the credential.
      const note = el('p', { id: 'cred-kept', class: 'notice' });
      $('cred-form').before(setT(note, 'booth.cred.notKept'));
    }
    showStep('step-cred', false, { replace: true });
    if (resume) announce(t('booth.cred.notKept'));
    warmUp();
  }
  performance.measure('urna.booth', { start: t0 });
}
