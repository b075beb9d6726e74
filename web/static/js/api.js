// The node's API (docs/API.md): every request the pages make to /api/v1
// goes through here, and every failure comes back as an UrnaError.

import { UrnaError } from './errors.js';

const BASE = '/api/v1/';

// The routes of the board as a whole; every other path is per election
// (docs/API.md, Elections).
// The booth's code digest is per election too (/elections/{id}/booth): the
// footer's link stays in the page's election.
const BOARD_ROUTES = new Set(['cluster', 'elections', 'health', 'ready']);

// ELECTION_ID is the syntax of an election id (ballot.ValidElectionID):
// 1..64 bytes of [a-z0-9-].
const ELECTION_ID = /^[a-z0-9-]{1,64}$/;

// chosen returns the election the page serves: the query parameter
// election of the page's address, else null (the board's default
// election, addressed by the un-prefixed routes). A parameter that is no
// election id sets bad: every per-election call then throws bad_election.
function chosen() {
  const q = new URLSearchParams(location.search);
  if (!q.has('election')) return { id: null, bad: null };
  const id = q.get('election');
  return ELECTION_ID.test(id) ? { id, bad: null } : { id: null, bad: id };
}

// electionParam returns the page's election id, or null for the default.
export function electionParam() { return chosen().id; }

// checkElectionParam throws the bad_election UrnaError when the page's
// address names an election with a malformed id.
export function checkElectionParam() {
  const { bad } = chosen();
  if (bad !== null) {
    const id = bad.slice(0, 80);
    throw new UrnaError('bad_election', `"${id}" is not an election id`, { status: 0, params: { id } });
  }
}

// pageLink returns the address of the site's page href (e.g.
// "check.html?tracker=X") for the page's election: it keeps the election
// parameter, so links between pages stay in one election.
export function pageLink(href) {
  const { id } = chosen();
  if (id === null) return href;
  const [head, hash] = href.split('#');
  const sep = head.includes('?') ? '&' : '?';
  return `${head}${sep}election=${encodeURIComponent(id)}${hash === undefined ? '' : '#' + hash}`;
}

// url returns the address of an API path, for links and event streams:
// a per-election path goes to /api/v1/elections/{id}/ when the page
// serves a chosen election.
export function url(path) {
  if (BOARD_ROUTES.has(path.split(/[/?]/)[0])) return BASE + path;
  checkElectionParam();
  const { id } = chosen();
  if (id === null) return BASE + path;
  return `${BASE}elections/${encodeURIComponent(id)}/${path}`;
}

// api GETs (or POSTs body as JSON to) /api/v1/<path> and returns the
// decoded JSON (raw: the body's bytes), or throws an UrnaError: code
// 'network' (status 0) when the node cannot be reached, else the API's
// error code and the HTTP status. election, an election id, addresses
// that election's routes instead of the page's (the index lists several).
export async function api(path, { body, signal, raw, election } = {}) {
  const resp = await request(path, { body, signal, election });
  if (raw) return new Uint8Array(await resp.arrayBuffer());
  return resp.json();
}

// request sends api's request and returns the successful Response, its
// body unread (a stream: the record), or throws api's UrnaError. A node
// that is briefly unable to answer (503 with a transient code: a leader
// change, an overload) is asked again after its Retry-After (see
// retryWait); every other error is thrown at once. Asking again is safe:
// a GET is a read, and a post of entries is idempotent (docs/API.md,
// Writing: an entry already on the board is answered with its position).
// Aborting signal ends the wait as it ends the request.
export async function request(path, { body, signal, election } = {}) {
  const addr = election === undefined ? url(path) : `${BASE}elections/${encodeURIComponent(election)}/${path}`;
  const start = Date.now();
  for (let tries = 1; ; tries++) {
    let resp;
    try {
      resp = await fetch(addr, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: 'no-store',
      });
    } catch (e) {
      throw new UrnaError('network', e.message, { status: 0 });
    }
    if (resp.ok) return resp;
    const e = await answerError(resp);
    const wait = retryWait(e, resp.headers.get('Retry-After'), tries, Date.now() - start);
    if (wait === null) throw e;
    await sleep(wait, signal);
  }
}

// answerError reads the UrnaError of a node's error answer: the API's
// error code, message and step (docs/API.md, Errors), or for an answer
// that is not the API's JSON, http_<status> (not_found for a 404).
async function answerError(resp) {
  let code = resp.status === 404 ? 'not_found' : 'http_' + resp.status;
  let message = resp.statusText;
  let step;
  try {
    const j = await resp.json();
    if (j && j.error) ({ code, message, step } = j.error);
  } catch { /* not JSON */ }
  return new UrnaError(code, message, { status: resp.status, step });
}

// TRANSIENT are the codes of the node's 503 answers that pass by
// themselves (docs/API.md, Errors): no leader during an election of the
// Raft cluster, an overloaded node, a follower behind the leader for a
// consistent read. The API answers no 429.
const TRANSIENT = new Set(['no_leader', 'overloaded', 'not_ready']);
const RETRY_TRIES = 5; // requests in all, the first included
const RETRY_BUDGET_MS = 15_000; // no wait ends later than this after the first request
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

// retryWait returns how long to wait before asking again after error e
// (the tries-th request, elapsed ms after the first), or null when e is
// final: not a transient 503, or the tries or the time budget spent. The
// wait is the answer's Retry-After (seconds, or an HTTP date; 1 s when
// absent or unreadable), kept between 0.2 s and 5 s.
function retryWait(e, retryAfter, tries, elapsed) {
  if (e.status !== 503 || !TRANSIENT.has(e.code) || tries >= RETRY_TRIES) return null;
  let ms = 1000;
  if (retryAfter !== null && retryAfter.trim() !== '') {
    const s = Number(retryAfter);
    const at = Date.parse(retryAfter);
    if (Number.isFinite(s)) ms = s * 1000;
    else if (Number.isFinite(at)) ms = at - Date.now();
  }
  ms = Math.min(Math.max(ms, RETRY_MIN_MS), RETRY_MAX_MS);
  return elapsed + ms > RETRY_BUDGET_MS ? null : ms;
}

// postEntry submits one signed entry (base64url) and returns its result
// ({seq, ...}); a rejected entry throws an UrnaError with the board's code.
export async function postEntry(entry) {
  const { results } = await api('entries', { body: { entries: [entry] } });
  const r = results[0];
  if (r.error) throw new UrnaError(r.error.code, r.error.message, { status: 200, step: r.error.step });
  return r;
}

// orNone GETs path, or null when the node has none yet (404; not when
// the page's election is unknown to the board).
async function orNone(path) {
  try {
    return await api(path);
  } catch (e) {
    if (e.status === 404 && e.code !== 'unknown_election') return null;
    throw e;
  }
}

// election returns the election's status; null when there is none yet.
export function election() { return orNone('election'); }

// cluster returns the board's Raft servers ({leader, servers: [{id, ...}]}).
export function cluster() { return api('cluster'); }

// elections lists the board's elections ({elections: [{election_id,
// phase, default, archived, ...}]}) in creation order.
export function elections() { return api('elections'); }

// checkpoint returns the node's newest quorum checkpoint ({size, root,
// note, signers}), or null before the first one.
export function checkpoint() { return orNone('checkpoint'); }

// record downloads the complete election record (its bytes).
export function record() { return api('record', { raw: true }); }

// followBlocks follows the node's stream of committed blocks (GET events,
// Server-Sent Events): onBlock gets each block's JSON. The browser
// reconnects a dropped stream by itself, but gives up on one the node
// refused (a 503 while it has no leader or serves too many streams, see
// docs/API.md): then followBlocks opens it again after a pause growing from
// 1 s to 30 s, and calls onReopen once it is open again, for the blocks
// committed meanwhile. Without EventSource it does nothing.
export function followBlocks(onBlock, { onReopen } = {}) {
  if (!window.EventSource) return;
  let wait = 1000;
  let reopened = false;
  const open = () => {
    const es = new EventSource(url('events'));
    es.addEventListener('open', () => {
      wait = 1000;
      if (reopened && onReopen) onReopen();
    });
    es.addEventListener('block', (ev) => {
      let b;
      try { b = JSON.parse(ev.data); } catch { return; } // a bad event
      onBlock(b);
    });
    es.addEventListener('error', () => {
      if (es.readyState !== EventSource.CLOSED) return; // the browser retries
      reopened = true;
      setTimeout(open, wait);
      wait = Math.min(2 * wait, 30000);
    });
  };
  open();
}

// pages fetches a list in pages of limit from the start: path?from=<from>
// &limit=<limit> answers {<key>: [...]}, and next(answer, items) gives the
// from of the following page. It stops at an empty page (a short one is
// not the end: docs/API.md), or after max pages.
export async function pages(path, key, from, { limit, max, next }) {
  const out = [];
  for (let n = 0; n < max; n++) {
    const r = await api(`${path}?from=${from}&limit=${limit}`);
    // A short page is not the end: the node also ends a page of entries at
    // 8 MiB (docs/API.md). An empty page is.
    if (r[key].length === 0) break;
    out.push(...r[key]);
    from = next(r, out);
  }
  return out;
}

// sleep waits ms; with a signal that aborts meanwhile it throws api's
// 'network' UrnaError at once, as an aborted request does.
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(id);
      reject(new UrnaError('network', `aborted: ${signal.reason}`, { status: 0 }));
    };
    const id = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
}

// waitForCheckpoint polls the node's newest checkpoint until it covers
// entry seq: its tree size is greater than seq and signedByQuorum(cp) holds
// (the caller checks the signatures against the election's nodes and
// quorum in the wasm module, package bulletin; SPEC.md §3.8). It mirrors
// the Go rule the node and the command-line roles wait with.
// After tries polls it returns the newest checkpoint anyway: the caller's
// own checks on it then fail and say why. An error of signedByQuorum is
// thrown at once.
export async function waitForCheckpoint(seq, signedByQuorum, { tries = 30, interval = 300 } = {}) {
  let cp;
  for (let i = 0; i < tries; i++) {
    if (i > 0) await sleep(interval);
    cp = await api('checkpoint');
    if (cp.size > seq && signedByQuorum(cp)) return cp;
  }
  return cp;
}
