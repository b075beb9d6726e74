// The trustee's page: make or load the trustee's key (it stays in the
// wasm module and in the key file the trustee saves), then take part in
// the key ceremony and decrypt after the close. Every step verifies the
// whole board in wasm first (web/wasm/trustee.go: package client and the
// same decisions as `urna trustee`, package trustee); this module only
// fetches, shows and posts what the module signed.

import { checkpoint, record, postEntry, sleep } from './api.js';
import { $, el, announce, focusHeading, shortHex, onClick } from './dom.js';
import { UrnaError } from './errors.js';
import { t, setT, setError, onLanguage } from './i18n.js';
import { loadOfficials } from './officials.js';

let go = null; // the module's trustee functions
let key = null; // {handle, name, signingKey, publicFile, keyFile}
let savedFile = null; // the key file text the trustee last saved (or loaded)
let view = null; // the last verified board (TrusteeBoardView)
let pending = null; // a signed deal waiting for the key file to be saved
let urls = [];

function showError(e) {
  const err = $('err');
  setError(err, e);
  if (e) err.focus();
}

// link points a download link at text, as a Blob (nothing leaves the page).
function link(a, text, type = 'application/json') {
  const u = URL.createObjectURL(new Blob([text], { type }));
  urls.push(u);
  a.href = u;
}

function revokeLinks() {
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
}

// setKeyFile takes the newest key file text and says whether it is saved.
function setKeyFile(text) {
  key.keyFile = text;
  revokeLinks();
  link($('save-key'), text);
  link($('deal-save-key'), text);
  link($('save-pub'), key.publicFile);
  renderSaved();
}

function renderSaved() {
  setT($('save-state'), key.keyFile === savedFile ? 'trustee.save.saved' : 'trustee.save.unsaved');
}

function saved() {
  savedFile = key.keyFile;
  renderSaved();
  if (pending) $('deal-post').disabled = false;
}

function showKey(k, made) {
  key = k;
  savedFile = made ? null : k.keyFile;
  $('key-name').textContent = k.name;
  $('key-signing').textContent = k.signingKey;
  $('key-none').hidden = true;
  $('key-loaded').hidden = false;
  $('sec-board').hidden = false;
  setKeyFile(k.keyFile);
  announce(t(made ? 'trustee.key.made' : 'trustee.key.loaded'));
  focusHeading($('sec-key'));
}

async function makeKey(ev) {
  ev.preventDefault();
  showError(null);
  try {
    go ||= await loadOfficials();
    showKey(await go.trusteeNew($('name').value), true);
  } catch (e) {
    showError(e);
  }
}

async function loadKey() {
  showError(null);
  const files = [...$('keyfile').files];
  if (files.length === 0) return;
  try {
    const texts = await Promise.all(files.map((f) => f.text()));
    go ||= await loadOfficials();
    showKey(await go.trusteeLoad(texts), false);
  } catch (e) {
    showError(e);
  } finally {
    $('keyfile').value = '';
  }
}

function forget() {
  if (go && key) go.trusteeForget(key.handle).catch(() => {}); // the page forgets it anyway
  key = view = pending = savedFile = null;
  revokeLinks();
  $('key-none').hidden = false;
  $('key-loaded').hidden = true;
  $('sec-board').hidden = true;
  $('deal-save').hidden = true;
  $('facts').replaceChildren();
  setT($('board-state'), null);
  setT($('done'), null);
  announce(t('trustee.forgotten'));
  $('name').focus();
}

// verified downloads the node's newest checkpoint, then its whole record,
// and has the module verify it and sign step. A record that no checkpoint
// covers yet, or older than the checkpoint shown, is read again a few
// times; then the module's refusal stands.
async function verified(step) {
  setT($('board-state'), 'trustee.board.verifying');
  for (let i = 0; ; i++) {
    const cp = await checkpoint();
    const rec = await record();
    try {
      return await go.trusteeAct(key.handle, step, rec, cp ? [cp.note] : [], false);
    } catch (e) {
      // The nodes sign a checkpoint a little after they commit entries
      // (`urna trustee` waits up to 15 s for it too).
      if ((e.code === 'trustee_lagging' && i < 20) || (e.code === 'trustee_stale' && i < 3)) {
        await sleep(750);
        continue;
      }
      if (refusals.has(e.code)) clearBoard();
      throw e;
    }
  }
}

// The module's answers for a board it will not act on.
const refusals = new Set(['trustee_lagging', 'trustee_stale', 'trustee_refused', 'trustee_fork', 'trustee_not_ours', 'malformed']);

// clearBoard forgets the board shown: it did not verify this time, so
// nothing of it may be shown as verified.
function clearBoard() {
  view = null;
  setT($('board-state'), null);
  $('facts').replaceChildren();
  for (const b of document.querySelectorAll('#next button')) b.hidden = true;
}

function fact(dt, dd) {
  return el('div', {}, setT(el('dt'), dt), dd);
}

function render() {
  if (!view) return;
  const v = view;
  setT($('board-state'), 'trustee.board.ok', { size: v.size, steps: v.steps });
  const voting = v.closed ? ['trustee.fact.voting.closed', { counted: v.counted }]
    : [v.open ? 'trustee.fact.voting.open' : 'trustee.fact.voting.setup', {}];
  $('facts').replaceChildren(
    fact('trustee.fact.election', el('dd', { text: v.title ? `${v.title} (${v.electionId})` : v.electionId })),
    fact('trustee.fact.fingerprint', el('dd', {}, el('code', { class: 'hash', title: v.fingerprint, text: shortHex(v.fingerprint, 16) }))),
    fact('trustee.fact.me', setT(el('dd'), 'trustee.fact.meValue', { me: v.me, n: v.trustees, t: v.threshold })),
    fact('trustee.fact.ceremony', setT(el('dd'), 'trustee.fact.ceremonyValue', { dealt: v.dealt, confirmed: v.confirmed, n: v.trustees })),
    fact('trustee.fact.complaints', el('dd', { text: String(v.toAnswer) })),
    fact('trustee.fact.voting', setT(el('dd'), ...voting)),
    fact('trustee.fact.partials', setT(el('dd'), 'trustee.fact.partialsValue', { n: v.partials, mine: t(v.decrypted ? 'trustee.yes' : 'trustee.no') })),
  );
  const can = {
    deal: v.credentials && !v.iDealt && !pending,
    check: v.iDealt && !v.iChecked && v.dealt === v.trustees,
    answer: v.toAnswer > 0,
    decrypt: v.closed && !v.decrypted,
  };
  for (const [step, ok] of Object.entries(can)) $('act-' + step).hidden = !ok;
  let wait = null;
  if (!Object.values(can).some(Boolean) && !pending) {
    if (!v.credentials) wait = 'trustee.wait.setup';
    else if (!v.iChecked) wait = 'trustee.wait.deals';
    else if (!v.closed) wait = 'trustee.wait.voting';
    else wait = 'trustee.wait.done';
  }
  if (wait && !$('done').dataset.tkey?.startsWith('trustee.done.')) setT($('done'), wait);
}

async function post(entries) {
  announce(t('trustee.posting', { n: entries.length }));
  for (const e of entries) await postEntry(e);
}

function doneMessage(step, v) {
  switch (step) {
    case 'deal': return ['trustee.done.deal', {}];
    case 'check':
      return v.complaints?.length ? ['trustee.done.checkComplaints', { complaints: v.complaints.join(', ') }]
        : ['trustee.done.check', { accepted: (v.accepted || []).join(', ') }];
    case 'answer': return ['trustee.done.answer', { answered: (v.answered || []).join(', ') }];
    default: return ['trustee.done.decrypt', { counted: v.counted }];
  }
}

function busy(on) {
  for (const b of document.querySelectorAll('#sec-board button, #forget')) b.disabled = on || (b.id === 'deal-post' && savedFile !== key?.keyFile);
  $('sec-board').setAttribute('aria-busy', on ? 'true' : 'false');
}

// act runs one step: verify, sign, (for a new dealer seed: wait for the
// key file to be saved), post, and verify again to show the new board.
async function act(step) {
  showError(null);
  setT($('done'), null);
  busy(true);
  try {
    const v = await verified(step);
    setKeyFile(v.keyFile);
    view = v;
    if (step === 'deal' && v.seedMade) {
      pending = v.entries;
      render();
      $('deal-save').hidden = false;
      $('deal-post').disabled = true;
      $('deal-save-key').focus();
      return;
    }
    if (step !== 'status') {
      await post(v.entries);
      setT($('done'), ...doneMessage(step, v));
      announce($('done').textContent);
    }
    await refresh();
  } catch (e) {
    render();
    showError(e);
  } finally {
    busy(false);
  }
}

async function postDeal() {
  if (!pending) return;
  showError(null);
  busy(true);
  try {
    await post(pending);
    pending = null;
    $('deal-save').hidden = true;
    setT($('done'), 'trustee.done.deal');
    announce($('done').textContent);
    await refresh();
  } catch (e) {
    showError(e);
  } finally {
    busy(false);
  }
}

// refresh verifies the board again and shows what the trustee can do.
async function refresh() {
  const v = await verified('status');
  setKeyFile(v.keyFile);
  view = v;
  render();
}

async function check() {
  showError(null);
  busy(true);
  try {
    await refresh();
  } catch (e) {
    showError(e);
  } finally {
    busy(false);
  }
}

// start wires the page; the wasm module loads when a key is made or loaded.
export async function start() {
  $('new-form').addEventListener('submit', makeKey);
  $('keyfile').addEventListener('change', loadKey);
  onClick({ forget, 'save-key': saved, 'deal-save-key': saved, refresh: check, 'deal-post': postDeal });
  for (const step of ['deal', 'check', 'answer', 'decrypt']) $('act-' + step).addEventListener('click', () => act(step));
  onLanguage(render);
  if (!globalThis.WebAssembly) showError(new UrnaError('wasm_missing', 'this browser cannot run WebAssembly'));
}
