// The node's API (docs/API.md): every request the pages make to /api/v1
// goes through here, and every failure comes back as an UrnaError.

import { UrnaError } from './errors.js';

const BASE = '/api/v1/';

// url returns the address of an API path, for links and event streams.
export function url(path) {
  return BASE + path;
}

// api GETs (or POSTs body as JSON to) /api/v1/<path> and returns the
// decoded JSON (raw: the body's bytes), or throws an UrnaError: code
// 'network' (status 0) when the node cannot be reached, else the API's
// error code and the HTTP status.
export async function api(path, { body, signal, raw } = {}) {
  let resp;
  try {
    resp = await fetch(url(path), {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    throw new UrnaError('network', e.message, { status: 0 });
  }
  if (!resp.ok) {
    let code = resp.status === 404 ? 'not_found' : 'http_' + resp.status;
    let message = resp.statusText;
    let step;
    try {
      const j = await resp.json();
      if (j && j.error) ({ code, message, step } = j.error);
    } catch { /* not JSON */ }
    throw new UrnaError(code, message, { status: resp.status, step });
  }
  if (raw) return new Uint8Array(await resp.arrayBuffer());
  return resp.json();
}

// postEntry submits one signed entry (base64url) and returns its result
// ({seq, ...}); a rejected entry throws an UrnaError with the board's code.
export async function postEntry(entry) {
  const { results } = await api('entries', { body: { entries: [entry] } });
  const r = results[0];
  if (r.error) throw new UrnaError(r.error.code, r.error.message, { status: 200, step: r.error.step });
  return r;
}

// election returns the election's status; null when there is none yet.
export async function election() {
  try {
    return await api('election');
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

// checkpoint returns the node's newest quorum checkpoint ({size, root,
// note, signers}), or null before the first one.
export async function checkpoint() {
  try {
    return await api('checkpoint');
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

// record downloads the complete election record (its bytes).
export function record() { return api('record', { raw: true }); }

// pages fetches a list in pages of limit from the start: path?from=<from>
// &limit=<limit> answers {<key>: [...]}, and next(answer, items) gives the
// from of the following page. It stops at a short page, or after max pages.
export async function pages(path, key, from, { limit, max, next }) {
  const out = [];
  for (let n = 0; n < max; n++) {
    const r = await api(`${path}?from=${from}&limit=${limit}`);
    out.push(...r[key]);
    if (r[key].length < limit) break;
    from = next(r, out);
  }
  return out;
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

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
