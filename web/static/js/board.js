// The board explorer: election summary, timeline of phases, the latest
// checkpoint with each node's signature checked in this browser, blocks and
// entries with live updates (Server-Sent Events), search by tracker.
//
// It reads only what it shows, whatever the size of the board: the newest
// SHOWN entries and BLOCKS blocks, older entries a page at a time on
// "show older", and the timeline from the election status's `types`
// (docs/API.md).

import { api, election, pageLink, followBlocks } from './api.js';
import { $, el, announce, shortHex } from './dom.js';
import { t, setT, setError, phaseName, onLanguage } from './i18n.js';
import { UrnaError } from './errors.js';
import { openElection, setE } from './texts.js';
import { openedList } from './check.js';

const SHOWN = 50; // entries shown at first, and added by "show older"
const BLOCKS = 25; // newest blocks shown

let u = null;
let st = null;
let blocks = []; // the newest blocks shown, in order
let oldest = 0; // the entries table shows entries oldest..next-1
let next = 0;

// ---- summary and timeline -------------------------------------------------

function fact(labelKey, value, code) {
  return el('div', {}, setT(el('dt'), labelKey), el('dd', {}, code ? el('code', { class: 'hash', text: value }) : value));
}

function renderSummary() {
  if (!st) return;
  $('summary').replaceChildren(
    el('div', {}, setE(el('dt'), 'title'), el('dd', {}, phaseName(st.phase))),
    fact('home.id', st.election_id),
    fact('home.entries', String(st.counts.entries)),
    fact('home.ballots', String(st.counts.ballots)),
    fact('home.credentials', String(st.counts.credentials)),
    fact('home.fingerprint', st.fingerprint, true));
}

const order = ['setup', 'key-ceremony', 'open', 'closed', 'tally', 'result'];

// renderTimeline shows the election's phases from the status's count of
// each entry type (its first entry and how many).
function renderTimeline() {
  const first = {};
  const count = {};
  for (const [type, s] of Object.entries((st && st.types) || {})) {
    first[type] = s.first;
    count[type] = s.count;
  }
  const ceremony = (count['dkg-deal'] || 0) + (count['dkg-confirmation'] || 0) + (count['dkg-complaint'] || 0) + (count['dkg-reveal'] || 0);
  const items = [
    ['setup', 'tl.manifest', {}, first.manifest],
    ['setup', 'tl.credentials', {}, first.credentials],
    ['key-ceremony', 'tl.ceremony', { n: ceremony }, first['dkg-deal']],
    ['open', 'tl.open', {}, first.open],
    ...(count['late-credentials'] ? [['open', 'tl.late', { n: count['late-credentials'] }, first['late-credentials']]] : []),
    ['open', 'tl.ballots', { n: count.ballot || 0, a: (count['audited-ballot'] || 0) + (count.audit || 0) }, first.ballot],
    ['closed', 'tl.close', {}, first.close],
    ['tally', 'tl.tally', { n: count['partial-decryption'] || 0 }, first['partial-decryption']],
    ['result', 'tl.result', {}, first.result],
  ];
  const cur = order.indexOf(st ? st.phase : 'setup');
  $('timeline').replaceChildren(...items.map(([phase, key, params, seq]) => {
    const idx = order.indexOf(phase);
    const cls = seq !== undefined ? (idx === cur ? 'current' : 'done') : '';
    const li = el('li', { class: cls, 'aria-current': idx === cur && seq !== undefined ? 'step' : null });
    li.append(setT(el('span'), key, params));
    li.append(seq !== undefined ? setT(el('span', { class: 'when' }), 'tl.at', { seq }) : setT(el('span', { class: 'when' }), 'tl.pending'));
    return li;
  }));
}

// ---- checkpoint -----------------------------------------------------------

async function renderCheckpoint() {
  let cp;
  try {
    cp = await api('checkpoint');
  } catch (e) {
    if (e.status === 404) return;
    throw e;
  }
  const v = u.openCheckpoint(st.manifest, cp.note);
  const dl = el('dl', { class: 'facts' },
    el('div', {}, setT(el('dt'), 'board.cp.size'), el('dd', { text: String(v.size) })),
    el('div', {}, setT(el('dt'), 'board.cp.block'), el('dd', { text: `${v.height} · ${shortHex(v.blockHash)}` })),
    el('div', {}, setT(el('dt'), 'board.cp.root'), el('dd', {}, el('code', { class: 'hash', text: v.root }))));
  const signers = el('ul', { class: 'signers' }, v.signers.map((s) => el('li', { class: s.valid ? 'valid' : 'missing' },
    `${s.valid ? '✓' : '✗'} ${s.id}: `, setT(el('span'), s.valid ? 'board.cp.valid' : 'board.cp.missing'))));
  const verdict = el('p', { class: v.ok ? 'ok' : 'error' });
  setT(verdict, v.ok ? 'board.cp.ok' : 'board.cp.notok');
  const quorum = setT(el('p'), 'board.cp.quorum', { valid: v.valid, n: v.signers.length, quorum: v.quorum });
  const note = el('details', {}, setT(el('summary'), 'board.cp.note'), el('pre', {}, el('code', { text: cp.note })));
  $('checkpoint').replaceChildren(dl, quorum, signers, verdict, note);
}

// ---- blocks and entries ---------------------------------------------------

function timeText(ms) {
  return new Date(ms).toLocaleString(document.documentElement.lang, { hour12: false });
}

function blockRow(b, fresh) {
  return el('tr', { class: fresh ? 'fresh' : null },
    el('td', { text: String(b.height) }), el('td', { text: timeText(b.time) }),
    el('td', { text: String(b.count) }), el('td', {}, el('code', { class: 'hash', title: b.hash, text: shortHex(b.hash, 16) })));
}

function renderBlocks() {
  const body = $('blocks').tBodies[0];
  body.replaceChildren(...blocks.slice(-BLOCKS).reverse().map((b) => blockRow(b, false)));
}

// typeKey returns the message naming an entry type (SPEC.md §3.2).
function typeKey(type) {
  return `type.${type}`;
}

function entryRow(e, fresh) {
  let tracker = '';
  if (e.type === 'ballot' || e.type === 'audited-ballot' || e.type === 'audit') {
    try { tracker = u.entryFacts(e.entry).tracker || ''; } catch { /* shown without */ }
  }
  return el('tr', { class: fresh ? 'fresh' : null, 'data-seq': e.seq },
    el('td', { text: String(e.seq) }), setT(el('td'), typeKey(e.type)),
    el('td', {}, tracker ? el('code', { text: tracker }) : ''),
    // author: the public key that signed the entry, in hex (docs/API.md).
    el('td', {}, el('code', { class: 'hash', title: e.author, text: shortHex(e.author) })),
    el('td', { text: String(e.block) }));
}

// showNewest shows the newest SHOWN of the board's count entries.
async function showNewest(count) {
  const from = Math.max(0, count - SHOWN);
  const fresh = await fetchEntries(from, count);
  $('entries').tBodies[0].replaceChildren(...fresh.reverse().map((e) => entryRow(e, false)));
  oldest = from;
  next = from + fresh.length;
  $('more').hidden = oldest === 0;
}

// showOlder adds the SHOWN entries before the oldest shown, read from the
// node, and moves the focus to the first of them.
async function showOlder() {
  const more = $('more');
  if (more.disabled || oldest === 0) return;
  more.disabled = true;
  try {
    const at = oldest;
    const from = Math.max(0, at - SHOWN);
    const older = await fetchEntries(from, at);
    if (oldest !== at) return; // the newest were shown afresh meanwhile
    const rows = older.reverse().map((e) => entryRow(e, false));
    $('entries').tBodies[0].append(...rows);
    oldest = from;
    more.hidden = oldest === 0;
    if (rows[0]) { rows[0].firstChild.setAttribute('tabindex', '-1'); rows[0].firstChild.focus(); }
  } catch (e) {
    setError($('err'), e);
  } finally {
    more.disabled = false;
  }
}

// fetchEntries reads the entries from..to-1 (a page of the node may end
// early: docs/API.md).
async function fetchEntries(from, to) {
  const out = [];
  while (from < to) {
    const r = await api(`entries?from=${from}&limit=${to - from}`);
    if (r.entries.length === 0) break;
    out.push(...r.entries);
    from = r.next;
  }
  return out;
}

// fetchBlocks reads the blocks from..to-1.
async function fetchBlocks(from, to) {
  if (to <= from) return [];
  const r = await api(`blocks?from=${from}&limit=${to - from}`);
  return r.blocks;
}

// ---- live updates ---------------------------------------------------------

let refreshing = null;
async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      st = await election();
      renderSummary();
      renderTimeline();
      await renderCheckpoint();
    } catch { /* the next block retries */ }
  })();
  await refreshing;
  refreshing = null;
}

async function onBlock(b) {
  const last = blocks.length ? blocks[blocks.length - 1].height : -1;
  if (b.height <= last) return;
  // Blocks committed between the first load and the subscription, or
  // dropped by a slow stream, are read back (those shown) so the table
  // has no gap.
  const missed = b.height > last + 1 ? await fetchBlocks(Math.max(last + 1, b.height + 1 - BLOCKS), b.height + 1) : [b];
  const body = $('blocks').tBodies[0];
  for (const x of missed) {
    if (x.height <= (blocks.length ? blocks[blocks.length - 1].height : -1)) continue;
    blocks.push(x);
    body.prepend(blockRow(x, true));
  }
  blocks = blocks.slice(-BLOCKS);
  while (body.rows.length > BLOCKS) body.lastElementChild.remove();
  if (b.log_size > next + SHOWN) {
    // More new entries than are shown: show the newest afresh.
    await showNewest(b.log_size);
  } else if (b.log_size > next) {
    const fresh = await fetchEntries(next, b.log_size);
    const rows = $('entries').tBodies[0];
    for (const e of fresh) rows.prepend(entryRow(e, true));
    next += fresh.length;
  }
  announce(t('board.newblock', { height: b.height, count: b.count }));
  refresh();
}

// follow handles the blocks of the stream one at a time, in order.
let following = Promise.resolve();
function follow(b) {
  following = following.then(() => onBlock(b)).catch(() => { /* the next block retries */ });
}

// live shows each block as the node commits it; after the stream was
// refused and opened again, the blocks committed meanwhile (up to the
// newest, which the status counts).
function live() {
  followBlocks(follow, {
    onReopen: async () => {
      try {
        const now = await election();
        if (!now || !now.counts.blocks) return;
        const [newest] = await fetchBlocks(now.counts.blocks - 1, now.counts.blocks);
        if (newest) follow(newest);
      } catch { /* the next block retries */ }
    },
  });
}

// ---- search ---------------------------------------------------------------

async function search(ev) {
  ev.preventDefault();
  const text = $('search').value.trim();
  const out = $('search-out');
  if (!text) return $('search').focus();
  let q;
  try {
    const input = u.readCheckInput(text);
    if (input.kind !== 'tracker') throw new UrnaError('tracker_invalid');
    q = input;
  } catch (e) {
    $('search').setAttribute('aria-invalid', 'true');
    return setError(out, e);
  }
  $('search').removeAttribute('aria-invalid');
  try {
    const s = await api(`trackers/${encodeURIComponent(q.trackerHex || q.tracker)}`);
    let key = 'check.notcounted';
    let params = {};
    if (s.audited) key = 'check.audited';
    else if (s.counts) key = 'check.counts';
    else if (s.superseded_by !== null && s.superseded_by !== undefined) { key = 'check.replaced'; params = { seq: s.superseded_by }; }
    const found = setT(el('span'), 'board.search.found', { tracker: q.tracker, seq: s.seq, type: t(typeKey(s.type)) });
    out.replaceChildren(found, ' ', setT(el('span'), key, params));
    if (s.audited) {
      out.append(' ', el('a', { href: pageLink(`check.html?tracker=${encodeURIComponent(q.tracker)}`) }, setT(el('span'), 'board.search.opened')));
      out.append(await openedHere(s.seq));
    }
    const row = document.querySelector(`#entries tr[data-seq="${s.seq}"]`);
    if (row) row.classList.add('fresh');
  } catch (e) {
    if (e.status === 404) out.replaceChildren(setT(el('span'), 'check.notfound', { tracker: q.tracker }));
    else setError(out, e);
  }
}

// openedHere shows what the audited ballot of entry seq contained: its
// published opening, checked in this browser against the encrypted ballot
// under the election key (SPEC.md V9), so that a voter confirms a challenge
// from any device.
async function openedHere(seq) {
  const entry = await api(`entries/${seq}`);
  const o = u.openAudited(st.manifest, st.joint_key, entry.entry);
  // Every question's answer (options chosen, a ranking, scores or a text);
  // an opening that does not fit the manifest has none.
  const box = o.answers ? openedList(o.answers, st.manifest, u) : el('div', { class: 'opened' });
  box.append(setT(el('p', { class: o.verified ? 'ok' : 'error' }), o.verified ? 'check.opened.ok' : 'check.opened.bad', { problem: o.problem || '' }));
  return box;
}

// start shows the board as it is, then follows it live; it resolves once
// the board as it is is shown (or why not).
export async function start() {
  $('search-form').addEventListener('submit', search);
  $('more').addEventListener('click', showOlder);
  onLanguage(() => { renderBlocks(); });
  try {
    [u, st] = await openElection();
    if (!st) return;
    const nblocks = st.counts.blocks || 0;
    [blocks] = await Promise.all([fetchBlocks(Math.max(0, nblocks - BLOCKS), nblocks), showNewest(st.counts.entries)]);
    renderSummary();
    renderTimeline();
    renderBlocks();
    await renderCheckpoint();
  } catch (e) {
    $('load').hidden = true;
    setError($('err'), e);
  }
  live();
}
