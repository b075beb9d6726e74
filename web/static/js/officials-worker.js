// The officials' module (officials.wasm: the console's and the trustee's
// code, web/wasm/main_officials.go) in a Web Worker, so that verifying a
// whole record before every signature never blocks the page. The keys
// stay in this worker's module behind handles, as they stayed in the
// page's before.
//
// Message in: {id, fn, args}; out: {id, answer} with the Go function's
// JSON answer (officials.js unwraps it), or {id, error, code} when the
// module cannot run. fn '' only loads the module.

import { instantiateGo } from './gowasm.js';
import { officials } from './assets.js';

let loading = null;

self.onmessage = async (ev) => {
  const { id, fn, args } = ev.data;
  try {
    loading ||= instantiateGo(officials).catch((e) => { loading = null; throw e; });
    const g = await loading;
    if (fn === '') { self.postMessage({ id, answer: JSON.stringify({ ok: true }) }); return; }
    if (typeof g[fn] !== 'function') throw Object.assign(new Error('no function ' + fn), { code: 'usage' });
    self.postMessage({ id, answer: g[fn](...args) });
  } catch (e) {
    self.postMessage({ id, error: e.message, code: e.code || 'error' });
  }
};
