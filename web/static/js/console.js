// The election authority's console: load (or make) the authority key,
// write and post the manifest, follow the key ceremony, open, watch the
// turnout, close, tally and publish. The key is read from a file the
// official chooses and handed to the WebAssembly module (urna.js), which
// keeps it behind a handle: nothing here sends it, stores it or shows it.
// Every entry the console signs is decided in that module by the code
// `urna authority` runs (package authority), on the board's record that
// the module has verified (SPEC.md §10.7) against the node's newest
// checkpoint and the ones this browser remembers.

import { api, election, postEntry, cluster, checkpoint, record, followBlocks, sleep } from './api.js';
import { $, el, announce, focusHeading, shortHex, onClick } from './dom.js';
import { t, setT, setError, errorText, phaseName, onLanguage } from './i18n.js';
import { loadOfficials } from './officials.js';

let u = null;
let key = null; // {handle, public}
let st = null; // the node's status (informative)
let draft = null; // the manifest prepared, not yet posted
let trustees = []; // manifest trustee entries, in order
let samples = []; // turnout over time: {at, ballots, voters}
let busy = false;

const MEMORY = 'urna.console.checkpoints.';

// remembered returns the newest checkpoint note this browser verified
// for the election fp ('' when none): public data, kept so that a node
// cannot later show an older or another history unnoticed.
function remembered(fp) {
  try { return localStorage.getItem(MEMORY + fp) || ''; } catch { return ''; }
}

function remember(fp, note) {
  try { localStorage.setItem(MEMORY + fp, note); } catch { /* storage disabled: the next check still verifies */ }
}

function progress(key, params) {
  setT($('act'), key, params);
  announce(t(key, params));
}

// ---- Step 1: the key -------------------------------------------------

function fileText(input) {
  const f = input.files && input.files[0];
  if (!f) return Promise.resolve(null);
  return f.text();
}

function showKey(k) {
  if (key) u.consoleForget(key.handle).catch(() => {}); // a key no longer shown: dropping it may fail harmlessly
  key = { handle: k.handle, public: k.public };
  $('key-pub').textContent = k.public;
  $('key-out').hidden = false;
  const save = $('key-save');
  save.hidden = !k.keyFile;
  if (k.keyFile) {
    // Blob URLs: the files go from this page to the official's disk, never
    // through the network.
    const link = (id, text, name) => {
      const a = $(id);
      if (a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
      a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      a.download = name;
    };
    link('dl-key', k.keyFile, 'authority.key');
    link('dl-pub', k.publicFile, 'authority.pub');
  }
  setError($('key-err'), null);
  $('key-file').removeAttribute('aria-invalid');
  render();
}

async function loadKeyFile() {
  const text = await fileText($('key-file'));
  if (text === null) return;
  try {
    showKey(await u.consoleLoadKey(text));
    announce(t('console.key.loaded'));
  } catch (e) {
    setError($('key-err'), e);
    $('key-file').setAttribute('aria-invalid', 'true');
  }
}

// ---- Step 2: the manifest --------------------------------------------

const KINDS = ['one', 'k', 'approval', 'ranked'];

function questionBox(n) {
  const id = (s) => `q${n}-${s}`;
  const kind = el('select', { id: id('kind') }, KINDS.map((k) => setT(el('option', { value: k }), 'console.q.kind.' + k)));
  const kRow = el('div', { id: id('krow'), hidden: true },
    setT(el('label', { for: id('k') }), 'console.q.k'), el('input', { id: id('k'), type: 'number', min: '1', value: '2' }));
  // A ranked question fixes the seats its STV count elects (SPEC.md
  // §12.1): 1 to one fewer than its options.
  const seatsRow = el('div', { id: id('seatsrow'), hidden: true },
    setT(el('label', { for: id('seats') }), 'console.q.seats'),
    setT(el('p', { id: id('seats-help'), class: 'help' }), 'console.q.seatsHelp'),
    el('input', { id: id('seats'), type: 'number', min: '1', step: '1', value: '2', 'aria-describedby': id('seats-help') }));
  kind.addEventListener('change', () => { kRow.hidden = kind.value !== 'k'; seatsRow.hidden = kind.value !== 'ranked'; });
  const box = el('fieldset', { class: 'question', 'data-q': n },
    setT(el('legend'), 'console.q.legend', { n: n + 1 }),
    setT(el('label', { for: id('text') }), 'console.q.text'), el('input', { id: id('text'), type: 'text', autocomplete: 'off' }),
    setT(el('label', { for: id('kind') }), 'console.q.kind'), kind, kRow, seatsRow,
    setT(el('label', { for: id('options') }), 'console.q.options'),
    setT(el('p', { id: id('options-help'), class: 'help' }), 'console.q.optionsHelp'),
    el('textarea', { id: id('options'), rows: '4', 'aria-describedby': id('options-help') }),
    setT(el('button', { type: 'button', class: 'link', onclick: () => { box.remove(); } }), 'console.q.remove', { n: n + 1 }));
  return box;
}

let qCount = 0;
function addQuestion() {
  const box = questionBox(qCount++);
  $('questions').append(box);
  return box;
}

function renderTrustees() {
  $('trustee-list').replaceChildren(...trustees.map((tr, i) => el('li', {},
    `${tr.name} `, el('code', { class: 'hash', text: shortHex(tr.signing_key, 16) }), ' ',
    setT(el('button', { type: 'button', class: 'link', onclick: () => { trustees.splice(i, 1); renderTrustees(); } }), 'console.trustee.remove', { name: tr.name }))));
  const th = $('threshold');
  th.max = String(Math.max(1, trustees.length));
}

async function addTrustee(text) {
  const tr = await u.consoleTrustee(text);
  if (trustees.some((x) => x.signing_key === tr.signing_key)) throw new Error(t('console.trustee.twice', { name: tr.name }));
  trustees.push(tr);
  renderTrustees();
}

function nodeRow(id = '', keyText = '') {
  const n = $('nodes').children.length;
  const row = el('div', { class: 'row node' },
    setT(el('label', { for: `node${n}-id` }), 'console.node.id'), el('input', { id: `node${n}-id`, type: 'text', value: id, autocomplete: 'off' }),
    setT(el('label', { for: `node${n}-key` }), 'console.node.key'), el('input', { id: `node${n}-key`, type: 'text', value: keyText, autocomplete: 'off', spellcheck: 'false' }));
  $('nodes').append(row);
}

async function loadNodes() {
  try {
    const c = await cluster();
    const have = new Set([...$('nodes').querySelectorAll('input[id$="-id"]')].map((i) => i.value));
    for (const s of c.servers) if (!have.has(s.id)) nodeRow(s.id);
    announce(t('console.node.loaded', { n: c.servers.length }));
  } catch (e) {
    setError($('create-err'), e);
  }
}

// languages returns the tags typed (the first is the texts' own).
function languages() {
  return $('langs').value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

// renderTranslations shows, for every language after the first, fields
// for the title and each question's text and options, keeping what was
// typed already.
function renderTranslations() {
  const kept = new Map([...$('translations').querySelectorAll('input, textarea')].map((i) => [i.id, i.value]));
  const qs = [...$('questions').querySelectorAll('fieldset.question')].map((b) => b.dataset.q);
  const field = (id, key, params, tag = 'input') => [setT(el('label', { for: id }), key, params),
    el(tag, tag === 'input' ? { id, type: 'text', autocomplete: 'off', value: kept.get(id) ?? '' } : { id, rows: '3' })];
  $('translations').replaceChildren(...languages().slice(1).map((lang) => {
    const box = el('fieldset', { class: 'translation', 'data-lang': lang },
      setT(el('legend'), 'console.tr.legend', { lang }),
      field(`tr-${lang}-title`, 'console.tr.title', { lang }),
      qs.flatMap((q, i) => [...field(`tr-${lang}-q${q}-text`, 'console.tr.text', { n: i + 1, lang }),
        ...field(`tr-${lang}-q${q}-options`, 'console.tr.options', { n: i + 1, lang }, 'textarea')]));
    for (const ta of box.querySelectorAll('textarea')) ta.value = kept.get(ta.id) ?? '';
    return box;
  }));
}

// rfc3339 turns a datetime-local value (the official's local time) into
// the manifest's UTC time, or '' when empty.
function rfc3339(v) {
  return v ? new Date(v).toISOString().replace(/\.000Z$/, 'Z') : '';
}

// b64url encodes bytes as unpadded base64url (the manifest's encoding).
function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// nodeKey accepts a node's public key as `urna node-key` prints it (hex)
// or base64url; the manifest's rules check it in the module.
function nodeKey(text) {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return b64url(s.match(/../g).map((h) => parseInt(h, 16)));
  return s;
}

// authoring gathers the form into the manifest's authoring JSON (SPEC.md
// §4.4); every rule on it is checked by the module (authority.Complete).
async function authoring() {
  const questions = [...$('questions').querySelectorAll('fieldset.question')].map((box) => {
    const n = box.dataset.q;
    const options = $(`q${n}-options`).value.split('\n').map((s) => s.trim()).filter(Boolean);
    const kind = $(`q${n}-kind`).value;
    let min = 1;
    let max = 1;
    if (kind === 'k') min = max = Number($(`q${n}-k`).value) || 0;
    if (kind === 'approval') { min = 0; max = options.length; }
    const seatsIn = $(`q${n}-seats`);
    seatsIn.removeAttribute('aria-invalid');
    if (kind === 'ranked') {
      // A full ranking, at least one option ranked; the seats are checked
      // here so the official learns which field is wrong, and again by
      // the module (ballot.ParseManifestJSON).
      const seats = Number(seatsIn.value);
      seatsIn.max = String(Math.max(1, options.length - 1));
      if (!Number.isInteger(seats) || seats < 1 || seats > options.length - 1) {
        seatsIn.setAttribute('aria-invalid', 'true');
        throw new Error(t('console.q.seatsRange', { n: Number(n) + 1, max: Math.max(1, options.length - 1) }));
      }
      return { text: $(`q${n}-text`).value.trim(), kind: 'ranked', options, min: 1, max: options.length, seats };
    }
    return { text: $(`q${n}-text`).value.trim(), options, min, max };
  });
  const ranked = questions.some((q) => q.kind === 'ranked');
  let ca = $('ca-key').value.trim();
  const caFile = await fileText($('ca-file'));
  if (caFile !== null) ca = caFile;
  const nodes = [...$('nodes').querySelectorAll('.node')].map((row) => {
    const [id, k] = row.querySelectorAll('input');
    return { id: id.value.trim(), key: nodeKey(k.value) };
  }).filter((n) => n.id || n.key);
  const lines = (id) => $(id).value.split('\n').map((x) => x.trim()).filter(Boolean);
  const langs = languages();
  const qs = [...$('questions').querySelectorAll('fieldset.question')].map((b) => b.dataset.q);
  const extended = {};
  if (langs.length) {
    extended.languages = langs;
    if (langs.length > 1) {
      extended.translations = Object.fromEntries(langs.slice(1).map((lang) => {
        const v = (id) => ($(id) ? $(id).value.trim() : '');
        return [lang, { title: v(`tr-${lang}-title`),
          questions: qs.map((q) => ({ text: v(`tr-${lang}-q${q}-text`), options: $(`tr-${lang}-q${q}-options`) ? lines(`tr-${lang}-q${q}-options`) : [] })) }];
      }));
    }
  }
  if (rfc3339($('opens').value)) extended.opens_at = rfc3339($('opens').value);
  if (rfc3339($('closes').value)) extended.closes_at = rfc3339($('closes').value);
  if (!$('manual').checked) extended.manual = false;
  return {
    // A ranked question makes it a version-3 manifest (SPEC.md §12.1),
    // languages or a schedule a version-4 one (§4.4); the module refuses
    // both at once.
    version: ranked ? 3 : (Object.keys(extended).length ? 4 : 0),
    ...extended,
    election_id: $('eid').value.trim(),
    title: $('etitle-in').value.trim(),
    questions,
    credential_authority: ca ? await u.consoleCAKey(ca) : '',
    trustees: trustees.map(({ name, signing_key, share_key }) => ({ name, signing_key, share_key })),
    threshold: Number($('threshold').value) || 0,
    board_nodes: nodes,
    board_quorum: Number($('quorum').value) || 0,
  };
}

async function prepare(ev) {
  ev.preventDefault();
  const err = $('create-err');
  setError(err, null);
  $('draft').hidden = true;
  try {
    draft = await u.consoleManifest(key.handle, await authoring());
  } catch (e) {
    setError(err, e);
    err.focus();
    return;
  }
  const v = draft.view;
  $('draft-fp').textContent = draft.fingerprint.match(/.{1,8}/g).join(' ');
  $('draft-summary').replaceChildren(
    setT(el('li'), 'console.draft.election', { id: v.electionId, title: v.title }),
    setT(el('li'), 'console.draft.questions', { n: v.questions.length }),
    setT(el('li'), 'console.draft.trustees', { names: v.trustees.join(', '), t: v.threshold }),
    setT(el('li'), 'console.draft.nodes', { ids: v.nodes.join(', '), q: v.quorum }));
  $('draft').hidden = false;
  focusHeading($('draft'));
}

async function postManifest() {
  if (!draft || busy) return;
  await act(async () => {
    // The node says whether its board is empty; a node lying so gains
    // nothing: the board refuses a second manifest (as for the CLI).
    const now = await election();
    if (now) {
      // Posted before (a reload, a lost answer): the same manifest is fine.
      if (now.fingerprint !== draft.fingerprint) throw Object.assign(new Error(t('console.draft.taken', { id: now.election_id })), { code: 'exists' });
      await verified('check', draft.fingerprint);
      return 'console.draft.already';
    }
    progress('console.act.posting');
    await postEntry(await u.consoleSign(key.handle, draft.manifest));
    return 'console.draft.posted';
  });
}

// ---- Acting on the verified board --------------------------------------

// verified downloads the record and has the module verify it against the
// node's newest checkpoint (fetched first, so the record must reach it)
// and the one this browser remembers, then decide and sign action. A
// record no quorum checkpoint covers yet is read again a few times (the
// board signs checkpoints just after it commits). It returns the module's
// view, with the signed entry for an action.
async function verified(action, fp, reason) {
  for (let attempt = 0; ; attempt++) {
    progress('console.act.verifying');
    const cp = await checkpoint();
    const rec = await record();
    try {
      const v = await u.consoleAct(key.handle, action, rec, [cp ? cp.note : '', remembered(fp)], fp, reason);
      remember(v.fingerprint, v.newest);
      return v;
    } catch (e) {
      if (e.code !== 'lagging' || attempt >= 8) throw e;
      await sleep(500 + 250 * attempt);
    }
  }
}

// act runs one step of the console, showing progress and its outcome.
async function act(fn) {
  if (busy) return;
  busy = true;
  setError($('err'), null);
  for (const b of document.querySelectorAll('main button')) b.disabled = true;
  try {
    const done = await fn();
    if (done) progress(done.key || done, done.params || {});
  } catch (e) {
    setT($('act'), null);
    setError($('err'), e);
    announce(errorText(e));
    $('err').focus();
  } finally {
    for (const b of document.querySelectorAll('main button')) b.disabled = false;
    busy = false;
    await refresh();
  }
}

function signAndPost(action, doneKey) {
  return act(async () => {
    const reason = action === 'close' ? $('close-reason').value.trim() : '';
    const v = await verified(action, st.fingerprint, reason);
    progress('console.act.posting');
    const r = await postEntry(v.entry);
    const params = { seq: r.seq, steps: v.steps, qual: (v.qualified || []).join(', '), counted: v.counted };
    return { key: doneKey, params };
  });
}

// ---- Following the election -------------------------------------------

function yesNo(b) { return t(b ? 'console.yes' : 'console.no'); }

function renderCeremony() {
  $('fp-line').textContent = t('console.ceremony.fingerprint', { id: st.election_id, fp: st.fingerprint });
  setT($('creds-line'), 'console.ceremony.credentials', { n: st.counts.credentials });
  $('trustees').tBodies[0].replaceChildren(...st.trustees.map((x) => el('tr', {},
    el('th', { scope: 'row', text: `${x.name} (#${x.index})` }),
    el('td', { text: yesNo(x.dealt) }), el('td', { text: yesNo(x.qualified) }), el('td', { text: yesNo(x.decrypted) }))));
}

function sample() {
  const last = samples.at(-1);
  const s = { at: new Date(), ballots: st.counts.ballots, voters: st.counts.voters_voted };
  if (!last || last.ballots !== s.ballots || last.voters !== s.voters) samples.push(s);
}

function renderTurnout() {
  setT($('turnout-now'), 'console.turnout.now', { ballots: st.counts.ballots, voters: st.counts.voters_voted, n: st.counts.credentials });
  $('turnout').tBodies[0].replaceChildren(...samples.slice(-20).reverse().map((s) => el('tr', {},
    el('th', { scope: 'row', text: s.at.toLocaleTimeString(document.documentElement.lang) }), el('td', { text: String(s.ballots) }), el('td', { text: String(s.voters) }))));
}

function render() {
  const p = st ? st.phase : null;
  const state = $('board-state');
  state.hidden = false;
  if (!st) setT(state, 'console.board.empty');
  else setT(state, 'console.board.holds', { id: st.election_id, title: st.title, phase: phaseName(p) });
  $('create-sec').hidden = !key || !!st;
  const ceremony = !!st && (p === 'setup' || p === 'key-ceremony');
  $('ceremony-sec').hidden = !key || !st;
  $('open').hidden = !ceremony;
  $('turnout-sec').hidden = !key || !st || ceremony;
  $('close-box').hidden = p !== 'open';
  $('tally-sec').hidden = !key || !st || !['closed', 'tally', 'result'].includes(p);
  $('tally').hidden = p === 'result';
  $('result-link').hidden = p !== 'result';
  if (!st) return;
  renderCeremony();
  renderTurnout();
  const decrypted = st.trustees.filter((x) => x.decrypted).map((x) => x.name);
  setT($('tally-state'), p === 'result' ? 'console.tally.done' : 'console.tally.state', { names: decrypted.join(', ') || '–', n: decrypted.length });
}

async function refresh() {
  try {
    st = await election();
    if (st) sample();
  } catch (e) {
    setError($('err'), e);
    return;
  }
  render();
}

// follow keeps the status fresh: on every block the node commits (its
// event stream) and, should the stream fail, every few seconds.
function follow() {
  const fresh = () => { if (!busy) refresh(); };
  followBlocks(fresh, { onReopen: fresh });
  setInterval(fresh, 5000);
}

// start shows the console; it resolves once the page is usable.
export async function start() {
  try {
    u = await loadOfficials();
  } catch (e) {
    $('load').hidden = true;
    setError($('err'), e);
    return;
  }
  $('load').hidden = true;
  $('key-file').addEventListener('change', loadKeyFile);
  $('key-new').addEventListener('click', async () => {
    try {
      showKey(await u.consoleNewKey());
      announce(t('console.key.made'));
    } catch (e) { setError($('key-err'), e); }
  });
  addQuestion();
  $('add-q').addEventListener('click', () => focusHeading(addQuestion()) || $(`q${qCount - 1}-text`).focus());
  $('trustee-files').addEventListener('change', async () => {
    setError($('create-err'), null);
    for (const f of $('trustee-files').files) {
      try { await addTrustee(await f.text()); } catch (e) { setError($('create-err'), e); }
    }
    $('trustee-files').value = '';
  });
  $('trustee-add').addEventListener('click', async () => {
    setError($('create-err'), null);
    try { await addTrustee($('trustee-paste').value); $('trustee-paste').value = ''; } catch (e) { setError($('create-err'), e); }
  });
  $('create-form').addEventListener('submit', prepare);
  onClick({
    'tr-update': renderTranslations,
    'nodes-load': loadNodes,
    'node-add': () => nodeRow(),
    'post-manifest': postManifest,
    open: () => signAndPost('open', 'console.open.done'),
    close: () => signAndPost('close', 'console.close.done'),
    tally: () => signAndPost('result', 'console.tally.done.posted'),
  });
  onLanguage(render);
  await refresh();
  follow();
}
