// The election's opening read from the board's record (SPEC.md §10.6 step
// 1): GET /record streams the record file of SPEC.md §3.11, and the booth
// reads it only up to the first open entry, then stops the download. The
// credential list of a large electorate is one entry of tens of megabytes
// (36 MB for 1,000,000 voters); the /entries JSON of it is about four
// times that (base64 twice and a view of every credential), built whole
// by the node for each request.
//
// Nothing here is trusted: only the framing is read (tags, lengths, a
// block's entry count, an entry's type byte). The caller has the wasm
// module verify the entries against a signed checkpoint (verifyElectionKey).
// What a hostile node can do here is bounded: every frame by its maximum
// length (§3.11), the entries before the open entry in number and bytes,
// and a stream that stops sending by a timeout. A record that breaks the
// framing, ends inside a frame or stalls is an error, never a hang.

import { request, sleep } from './api.js';
import { UrnaError } from './errors.js';

const MAGIC = [0x55, 0x52, 0x4e, 0x41, 0x52, 0x45, 0x43, 0x01]; // "URNAREC", version 1

// Frame tags and their payloads' maximum lengths (SPEC.md §3.11).
const BLOCK = 1;
const ENTRY = 2;
const CHECKPOINT = 3;
const END = 4;
const MAX_FRAME = { [BLOCK]: 100, [ENTRY]: 67_108_999, [CHECKPOINT]: 16_384, [END]: 20 };
const BLOCK_SIZE = 100; // a block header is exactly 100 bytes (§3.6)
const MAX_BLOCK_COUNT = 65_536;

// Entry types the booth looks for (SPEC.md §3.2, bulletin.EntryType).
export const TYPE_OPEN = 7;
export const TYPE_LATE_CREDENTIALS = 14;

// The election's opening is a manifest, a credential list, the key
// ceremony (a few entries per trustee) and late-credentials lists: a
// board with more entries, or more bytes, before an open entry is refused
// rather than held in the page's memory.
const MAX_PREFIX_ENTRIES = 12_800;
const MAX_PREFIX_BYTES = 128 * 1024 * 1024;

// STALL_MS: a record that sends no byte for this long is abandoned (a
// slow connection still sends; a stalled or hostile node does not).
// TOTAL_MS bounds one reading of it, a node that trickles bytes included:
// enough for the 36 MB credential list of 1,000,000 voters at 320 kbit/s.
const STALL_MS = 30_000;
const TOTAL_MS = 15 * 60_000;

// past names where a reader stands: after the entries read so far.
function past(n) {
  return n ? `after entry ${n - 1}` : 'before its first entry';
}

function malformed(message) {
  return new UrnaError('key_unverified', `the board's record is malformed: ${message}`);
}

// frames reads a byte stream as frames of §3.11, each payload gathered
// from the chunks as they arrive: a frame's declared length is not
// allocated before its bytes are there.
class Frames {
  constructor(reader, onBytes) {
    this.reader = reader;
    this.onBytes = onBytes;
    this.chunks = []; // unread chunks, the first from offset at
    this.at = 0;
    this.buffered = 0;
  }

  // fill reads until n bytes are buffered; false if the stream ends first.
  async fill(n) {
    while (this.buffered < n) {
      const { done, value } = await this.reader.read();
      if (done) return false;
      this.onBytes(value.length);
      if (value.length) {
        this.chunks.push(value);
        this.buffered += value.length;
      }
    }
    return true;
  }

  // take returns the next n buffered bytes (fill(n) first).
  take(n) {
    const out = new Uint8Array(n);
    let k = 0;
    while (k < n) {
      const c = this.chunks[0];
      const m = Math.min(n - k, c.length - this.at);
      out.set(c.subarray(this.at, this.at + m), k);
      k += m;
      this.at += m;
      if (this.at === c.length) {
        this.chunks.shift();
        this.at = 0;
      }
    }
    this.buffered -= n;
    return out;
  }

  // next returns the next frame {tag, payload}, or null at the end of the
  // stream between frames; a frame cut short or over its maximum length
  // throws. what names the frame in errors.
  async next(what) {
    if (!(await this.fill(5))) {
      if (this.buffered === 0) return null;
      throw malformed(`it ends inside the frame header of ${what}`);
    }
    const h = this.take(5);
    const tag = h[0];
    const n = new DataView(h.buffer).getUint32(1);
    if (!(tag in MAX_FRAME)) throw malformed(`frame tag ${tag} at ${what}`);
    if (n > MAX_FRAME[tag]) throw malformed(`a frame of ${n} bytes (tag ${tag}) at ${what}, more than the record allows`);
    if (!(await this.fill(n))) throw malformed(`it ends inside ${what} (${this.buffered} of its ${n} bytes)`);
    return { tag, payload: this.take(n) };
  }
}

// readRecord reads GET /record?from=<p.height> into p until the first open
// entry and reports whether it found one; p gathers the entries and their
// types across calls and says where the next call starts. A node that has
// no block at that height yet (404) has nothing new: false.
async function readRecord(p, signal, onBytes) {
  let resp;
  try {
    resp = await request(p.height ? `record?from=${p.height}` : 'record', { signal });
  } catch (e) {
    if (e.status === 404 && e.code === 'not_found') return false;
    throw e;
  }
  if (!resp.body) throw new UrnaError('key_unverified', 'this browser cannot read the board\'s record as a stream');
  const f = new Frames(resp.body.getReader(), onBytes);
  if (!(await f.fill(MAGIC.length))) throw malformed('it ends inside its header');
  if (!f.take(MAGIC.length).every((b, i) => b === MAGIC[i])) throw malformed('not an Urna record of version 1');
  for (;;) {
    const seq = p.entries.length;
    const fr = await f.next(`entry ${seq}`);
    if (!fr) throw malformed(`it ends before its checkpoints, ${past(seq)}`);
    // The checkpoints follow the last block: this record holds no more
    // entries (the open entry is not yet under a quorum checkpoint).
    if (fr.tag === CHECKPOINT || fr.tag === END) return false;
    if (fr.tag !== BLOCK) throw malformed(`an entry outside a block at entry ${seq}`);
    if (fr.payload.length !== BLOCK_SIZE) throw malformed(`a block header of ${fr.payload.length} bytes`);
    const v = new DataView(fr.payload.buffer);
    const height = v.getBigUint64(0);
    const first = v.getBigUint64(48);
    const count = v.getUint32(56);
    if (height !== BigInt(p.height) || first !== BigInt(seq)) {
      throw malformed(`block ${height} starting at entry ${first} where block ${p.height} starting at entry ${seq} was due`);
    }
    if (count < 1 || count > MAX_BLOCK_COUNT) throw malformed(`block ${height} holds ${count} entries`);
    for (let k = 0; k < count; k++) {
      const at = p.entries.length;
      const e = await f.next(`entry ${at}`);
      if (!e) throw malformed(`it ends inside block ${height}, before entry ${at}`);
      if (e.tag !== ENTRY) throw malformed(`frame tag ${e.tag} where entry ${at} was due`);
      if (e.payload.length < 2) throw malformed(`entry ${at} has ${e.payload.length} bytes`);
      p.bytes += e.payload.length;
      if (at >= MAX_PREFIX_ENTRIES || p.bytes > MAX_PREFIX_BYTES) {
        throw new UrnaError('key_unverified', `the board holds more than ${MAX_PREFIX_ENTRIES} entries or ${MAX_PREFIX_BYTES >> 20} MiB before voting opens`);
      }
      p.entries.push(e.payload);
      p.types.push(e.payload[1]); // the envelope: version, then type (§3.1)
      if (e.payload[1] === TYPE_OPEN) return true;
    }
    p.height++;
  }
}

// openingEntries returns the board's entries 0 … s, s the first open entry
// (their bytes, in order, unverified) and their type bytes: {entries,
// types}. It reads the node's record (GET /record, the election's route)
// and stops the download after entry s. The record ends at the newest
// checkpoint a quorum signed: when that does not cover the open entry yet
// it reads what follows (GET /record?from=H) again, tries times in all,
// interval ms apart. It throws an UrnaError of code key_unverified for a
// record that is malformed, cut, stalled, too large or holds no open
// entry, and api's errors for a node that cannot be reached.
export async function openingEntries({ tries = 11, interval = 500 } = {}) {
  const p = { entries: [], types: [], height: 0, bytes: 0 };
  for (let i = 0; i < tries; i++) {
    if (i > 0) await sleep(interval);
    const ctl = new AbortController();
    let stalled = '';
    let timer = 0;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { stalled = `no byte for ${STALL_MS / 1000} s`; ctl.abort(); }, STALL_MS);
    };
    const slow = setTimeout(() => { stalled = `not read in ${TOTAL_MS / 60_000} minutes`; ctl.abort(); }, TOTAL_MS);
    watch();
    try {
      if (await readRecord(p, ctl.signal, watch)) return { entries: p.entries, types: p.types };
    } catch (e) {
      if (stalled) throw new UrnaError('key_unverified', `the board's record stalled: ${stalled}, ${past(p.entries.length)}`);
      if (e.name === 'AbortError' || e instanceof TypeError) {
        // The connection broke while the body was read.
        throw new UrnaError('key_unverified', `the board's record was cut ${past(p.entries.length)}: ${e.message}`);
      }
      throw e;
    } finally {
      clearTimeout(timer);
      clearTimeout(slow);
      ctl.abort(); // stop the download: the rest of the record is not needed
    }
  }
  throw new UrnaError('key_unverified', `the board's record holds no open entry under a signed checkpoint (${p.entries.length} entries read)`);
}
