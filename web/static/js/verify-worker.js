// Runs the full election verifier (package client, V1–V13) off the page's
// main thread. Message in: {record: Uint8Array}; out: {progress: [step,
// done, total]}*, then {report} or {error, code}.

import { load } from './urna.js';

let last = 0;
self.onmessage = async (ev) => {
  try {
    const u = await load();
    const report = u.verifyRecord(ev.data.record, (step, done, total) => {
      const now = Date.now();
      if (now - last > 100) { last = now; self.postMessage({ progress: [step, done, total] }); }
    });
    self.postMessage({ report });
  } catch (e) {
    self.postMessage({ error: e.message, code: e.code || 'error' });
  }
};
