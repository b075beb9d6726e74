// The officials' functions (officials.wasm, web/wasm/main_officials.go),
// run in a Web Worker (officials-worker.js): every function returns a
// promise of the Go value or rejects with an UrnaError, as the booth's
// (urna.js) return or throw. The authority's and the trustees' keys stay
// in the worker's module behind the handles these functions pass.

import { UrnaError } from './errors.js';
import { unwrap } from './gowasm.js';

let worker = null;
let next = 1;
const waiting = new Map(); // id → {resolve, reject}

function failAll(err) {
  for (const w of waiting.values()) w.reject(err);
  waiting.clear();
}

function start() {
  worker = new Worker(new URL('officials-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (ev) => {
    const { id, answer, error, code } = ev.data;
    const w = waiting.get(id);
    if (!w) return;
    waiting.delete(id);
    if (error !== undefined) { w.reject(new UrnaError(code, error)); return; }
    try { w.resolve(unwrap(answer)); } catch (e) { w.reject(e); }
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    worker.terminate();
    worker = null;
    failAll(new UrnaError('wasm_missing', 'the officials\' module stopped: ' + (ev.message || 'worker failed')));
  };
}

// call runs fn(...args) in the worker's module. Uint8Array arguments are
// handed over (transferred), not copied: the caller must not use them
// afterwards.
function call(fn, ...args) {
  if (!worker) start();
  const id = next++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    const moved = args.filter((a) => a instanceof Uint8Array).map((a) => a.buffer);
    worker.postMessage({ id, fn, args }, moved);
  });
}

// loadOfficials starts the worker and its module; it resolves to the
// officials' functions once the module runs, or rejects (wasm_missing,
// network) when it cannot.
export async function loadOfficials() {
  await call('');
  return {
    // The election authority's console.
    consoleNewKey: () => call('consoleNewKey'),
    consoleLoadKey: (file) => call('consoleLoadKey', file),
    consoleForget: (handle) => call('consoleForget', handle),
    consoleTrustee: (file) => call('consoleTrustee', file),
    consoleCAKey: (text) => call('consoleCAKey', text),
    consoleManifest: (handle, authoring) => call('consoleManifest', handle, JSON.stringify(authoring)),
    consoleSign: (handle, manifest) => call('consoleSign', handle, manifest),
    // consoleAct verifies the record (bytes) against the checkpoint notes
    // known, then decides and signs action.
    consoleAct: (handle, action, record, known, fingerprint, reason) =>
      call('consoleAct', handle, action, record, JSON.stringify(known), fingerprint || '', reason || ''),
    // The trustee's page.
    // trusteeNew(name) → {handle, name, signingKey, publicFile, keyFile, dealt}
    trusteeNew: (name) => call('trusteeNew', name),
    // trusteeLoad(texts) reads trustee.key (and trustee.dealer-seed,
    // board-memory.json) given as the files' texts.
    trusteeLoad: (texts) => call('trusteeLoad', JSON.stringify(texts)),
    trusteeForget: (handle) => call('trusteeForget', handle),
    // trusteeAct(handle, step, record, notes, force) verifies the record
    // (bytes) against the checkpoint notes shown, then signs step's entries.
    trusteeAct: (handle, step, record, notes, force) =>
      call('trusteeAct', handle, step, record, JSON.stringify(notes), !!force),
  };
}
