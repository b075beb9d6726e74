// The booth's WebAssembly bridge (web/wasm): the same Go code as the ballot,
// bulletin and client packages. load() instantiates urna.wasm once; every
// function returns the Go value or throws an UrnaError with a stable code.

import { UrnaError } from './errors.js';
import { wasm } from './assets.js';
import { instantiateGo, unwrap } from './gowasm.js';

let loading = null;

async function instantiate() {
  return wrap(await instantiateGo(wasm));
}

function wrap(g) {
  return {
    parseManifest: (m) => unwrap(g.parseManifest(m)),
    checkCredential: (c) => unwrap(g.checkCredential(c)),
    openBooth: (manifest, jointKey, credential) => {
      const { handle, publicCredential } = unwrap(g.boothOpen(manifest, jointKey || '', credential));
      return {
        publicCredential,
        // entries: the credential list entry and the late-credentials entries (base64url).
        registration: (entries) => unwrap(g.boothRegistered(handle, JSON.stringify(entries))),
        // answers: per question {choices}, {ranking}, {scores} or {text}.
        encrypt: (answers) => unwrap(g.boothEncryptAnswers(handle, JSON.stringify(answers))),
        challenge: () => unwrap(g.boothChallenge(handle)),
        forget: () => unwrap(g.boothForget(handle)),
        close: () => unwrap(g.boothClose(handle)),
      };
    },
    // warmUp(manifest, jointKey, step) → more: one step of encrypting and
    // dropping a throw-away ballot (web/wasm/warmup.go), so that the
    // voter's first one does not pay for compiling the encryption; more
    // says whether step + 1 follows. Nothing of the ballot comes back.
    warmUp: (manifest, jointKey, step) => unwrap(g.boothWarmUp(manifest, jointKey || '', step)),
    openCheckpoint: (manifest, note) => unwrap(g.openCheckpoint(manifest, note)),
    verifyReceipt: (manifest, receipt) => unwrap(g.verifyReceipt(manifest, receipt)),
    verifyInclusion: (manifest, note, entry, seq, size, proof) =>
      unwrap(g.verifyInclusion(manifest, note, entry, seq, size, JSON.stringify(proof))),
    checkConsistency: (manifest, oldNote, newNote, from, to, proof) =>
      unwrap(g.checkConsistency(manifest, oldNote, newNote, from, to, JSON.stringify(proof ?? null))),
    entryFacts: (entry) => unwrap(g.entryFacts(entry)),
    verifyRecord: (record, progress) => unwrap(g.verifyRecord(record, progress)),
    readCheckInput: (text) => unwrap(g.readCheckInput(text)),
    openAudited: (manifest, jointKey, entry) => unwrap(g.openAudited(manifest, jointKey || '', entry)),
    votingWindow: (manifest, nowMs) => unwrap(g.votingWindow(manifest, nowMs)),
    electorate: (manifest, entries) => unwrap(g.electorate(manifest, JSON.stringify(entries))),
    // verifiedManifest(entry0, note, size, proof) → ManifestView: entry 0
    // proven in the checkpoint note's log (web/wasm/manifest_proof.go).
    verifiedManifest: (entry, note, size, proof) =>
      unwrap(g.verifiedManifest(entry, note, size, JSON.stringify(proof))),
    verifyElectionKey: (entries, note, proof) =>
      unwrap(g.verifyElectionKey(JSON.stringify(entries), note || '', JSON.stringify(proof ?? []))),
  };
}

export function load() {
  if (!loading) {
    loading = instantiate();
    loading.catch(() => { loading = null; });
  }
  return loading;
}

// b64urlToBytes decodes unpadded base64url (receipts as the API serves them).
export function b64urlToBytes(s) {
  const t = s.trim().replace(/-/g, '+').replace(/_/g, '/');
  const pad = t.length % 4 === 0 ? '' : '='.repeat(4 - (t.length % 4));
  const bin = atob(t + pad);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// bytesToB64url encodes bytes as unpadded base64url (entries as the API
// serves them and the wasm module takes them).
export function bytesToB64url(b) {
  if (b.toBase64) return b.toBase64({ alphabet: 'base64url', omitPadding: true });
  let bin = '';
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// verifyInWorker runs the full verifier on record bytes in a Web Worker,
// so the page stays responsive. onProgress(step, done, total) is optional.
export function verifyInWorker(record, onProgress) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('verify-worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (ev) => {
      const m = ev.data;
      if (m.progress) { if (onProgress) onProgress(...m.progress); return; }
      w.terminate();
      if (m.error) reject(new UrnaError(m.code, m.error));
      else resolve(m.report);
    };
    w.onerror = (ev) => { w.terminate(); reject(new UrnaError('error', ev.message || 'verifier worker failed')); };
    w.postMessage({ record }, [record.buffer]);
  });
}
