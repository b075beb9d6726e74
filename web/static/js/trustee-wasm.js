// The trustee's functions of the WebAssembly module (web/wasm/trustee.go):
// the trustee's keys and dealer seed stay in the module behind a handle;
// JavaScript sees public values, signed entries and the key file to save.

import { load, unwrap } from './urna.js';
import { UrnaError } from './errors.js';

// loadTrustee instantiates the module (once) and returns the trustee's
// functions.
export async function loadTrustee() {
  await load();
  const g = globalThis.urnaTrusteeGo;
  if (!g) throw new UrnaError('wasm_missing', 'urna.wasm has no trustee functions');
  return {
    // newKey(name) → {handle, name, signingKey, publicFile, keyFile, dealt}
    newKey: (name) => unwrap(g.trusteeNew(name)),
    // loadFiles(texts) reads trustee.key (and trustee.dealer-seed,
    // board-memory.json) given as the files' texts.
    loadFiles: (texts) => unwrap(g.trusteeLoad(JSON.stringify(texts))),
    forget: (handle) => unwrap(g.trusteeForget(handle)),
    // act(handle, step, record, notes, force) verifies the record (bytes)
    // against the checkpoint notes shown, then signs step's entries.
    act: (handle, step, record, notes, force) =>
      unwrap(g.trusteeAct(handle, step, record, JSON.stringify(notes), !!force)),
  };
}
