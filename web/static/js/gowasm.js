// Instantiating one of the Go WebAssembly modules (web/wasm): the booth's
// urna.wasm (urna.js) and the officials' officials.wasm, which runs in a
// Web Worker (officials-worker.js). Each module publishes globalThis.urnaGo,
// whose functions answer JSON: {"ok": value} or {"error", "code", "params"}.

import { UrnaError } from './errors.js';

// unwrap returns the value of a Go function's JSON answer, or throws its
// UrnaError.
export function unwrap(json) {
  const r = JSON.parse(json);
  if ('error' in r) throw new UrnaError(r.code, r.error, { params: r.params });
  return r.ok;
}

// base is the URL of the static root, so a module loads from pages and
// from workers alike.
const base = new URL('../', import.meta.url);

// instantiateGo fetches asset ({path, integrity}, from assets.js), checks
// its Subresource Integrity, runs it and returns its globalThis.urnaGo.
export async function instantiateGo(asset) {
  try {
    await import('./wasm_exec.js'); // Go's loader, copied by `make wasm`: defines globalThis.Go
  } catch (e) {
    throw new UrnaError('wasm_missing', 'wasm_exec.js could not be loaded: ' + e.message);
  }
  const go = new globalThis.Go();
  const ready = new Promise((resolve) => { globalThis.urnaGoReady = resolve; });
  const url = new URL(asset.path, base);
  const name = asset.path.replace(/\..*$/, '') + '.wasm';
  let resp;
  try {
    resp = await fetch(url, asset.integrity ? { integrity: asset.integrity } : {});
  } catch (e) {
    throw new UrnaError('network', name + ' could not be fetched: ' + e.message);
  }
  if (!resp.ok) throw new UrnaError('wasm_missing', name + ' is missing (HTTP ' + resp.status + ')');
  let inst;
  if (WebAssembly.instantiateStreaming && (resp.headers.get('Content-Type') || '').startsWith('application/wasm')) {
    inst = (await WebAssembly.instantiateStreaming(resp, go.importObject)).instance;
  } else {
    inst = (await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject)).instance;
  }
  go.run(inst); // returns when the Go program exits; it never does
  await ready;
  const g = globalThis.urnaGo;
  if (!g || g.version !== 1) throw new UrnaError('wasm_missing', name + ' has an unexpected interface version');
  return g;
}
