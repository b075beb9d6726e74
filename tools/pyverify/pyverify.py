#!/usr/bin/env python3
"""pyverify: an independent verifier of Urna election records (SPEC.md v1).

Written from SPEC.md and the RFCs it cites only, Python 3 standard library.

    python3 pyverify.py RECORD [--fingerprint HEX] [-v]

Prints one line per verification step, "Vn PASS" or "Vn FAIL ..." (naming the
first failing sub-step and where), "Vn NOT-REACHED" for a step the record does
not reach, then a short report. Exit status 0 iff every step passes.
"""

import base64
import hashlib
import os
import sys
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import r255  # noqa: E402
from r255 import BASE as G, IDENTITY, L, DecodeError  # noqa: E402

STEPS = ["V%d" % i for i in range(1, 17)]

# --------------------------------------------------------------------------
# §2.3 transcripts


def u32(n):
    return n.to_bytes(4, "big")


def u64(n):
    return n.to_bytes(8, "big")


def transcript(items):
    return b"".join(u32(len(x)) + x for x in items)


def challenge(label, items):
    return r255.hash_to_scalar(transcript(items), b"urna/v1/" + label.encode())


def digest(label, items):
    t = b"urna/v1/" + label.encode()
    return hashlib.sha256(u32(len(t)) + t + transcript(items)).digest()


def sc(n):
    return (n % L).to_bytes(32, "little")


# --------------------------------------------------------------------------
# §2.4 strict reader


class Malformed(Exception):
    pass


class Reader:
    def __init__(self, b):
        self.b = b
        self.o = 0

    def left(self):
        return len(self.b) - self.o

    def raw(self, n):
        if n < 0 or self.o + n > len(self.b):
            raise Malformed("truncated")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u8(self):
        return self.raw(1)[0]

    def u16(self):
        return int.from_bytes(self.raw(2), "big")

    def u32(self):
        return int.from_bytes(self.raw(4), "big")

    def u64(self):
        return int.from_bytes(self.raw(8), "big")

    def bytes_(self, maxlen):
        n = self.u32()
        if n > maxlen:
            raise Malformed("length %d above bound %d" % (n, maxlen))
        return self.raw(n)

    def string(self, minlen, maxlen, what):
        b = self.bytes_(maxlen)
        if len(b) < minlen:
            raise Malformed("%s: length %d below %d" % (what, len(b), minlen))
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("%s: invalid UTF-8" % what)

    def elem(self, allow_identity, what="element"):
        b = self.raw(32)
        try:
            return r255.decode(b, allow_identity), b
        except DecodeError as e:
            raise Malformed("%s: %s" % (what, e))

    def scalar(self, what="scalar"):
        try:
            return r255.decode_scalar(self.raw(32))
        except DecodeError as e:
            raise Malformed("%s: %s" % (what, e))

    def count(self, lo, hi, what, item_size=1):
        n = self.u32()
        if n < lo or n > hi:
            raise Malformed("%s: count %d outside %d..%d" % (what, n, lo, hi))
        if n * item_size > self.left():
            raise Malformed("%s: count %d larger than the input allows" % (what, n))
        return n

    def end(self):
        if self.o != len(self.b):
            raise Malformed("%d trailing bytes" % (len(self.b) - self.o))


def open_versioned(b, what):
    """The start of decoding an entry or a ballot, which both open with
    version 1: a Reader past the version byte and a namespace holding b
    (raw) and its version."""
    r = Reader(b)
    x = SimpleNamespace(raw=b, version=r.u8())
    if x.version != 1:
        raise Malformed("%s version %d" % (what, x.version))
    return r, x


# --------------------------------------------------------------------------
# §4 manifest


ELECTION_ID_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789-"
NODE_ID_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"


def valid_election_id(b):
    """§4.1: 1..64 bytes, each in a-z, 0-9 or '-'."""
    return 1 <= len(b) <= 64 and all(c in ELECTION_ID_BYTES for c in b)


def valid_node_id(b):
    """§4.1: 1..64 bytes, each in A-Z, a-z, 0-9, '.', '_' or '-'."""
    return 1 <= len(b) <= 64 and all(c in NODE_ID_BYTES for c in b)


WITNESS_NAME_BYTES = NODE_ID_BYTES + b"/:"


def valid_witness_name(b):
    """§4.1: 1..128 bytes, each in A-Z, a-z, 0-9, '.', '_', '-', '/' or ':'."""
    return 1 <= len(b) <= 128 and all(c in WITNESS_NAME_BYTES for c in b)


def node_key_error(key):
    """§4.1 node-key rule: None if key is the canonical encoding of an
    Ed25519 point of prime order (RFC 8032 §5.1.3 decoding exactly: y < p,
    x = 0 with the sign bit set rejected), else a reason."""
    if len(key) != 32:
        return "not 32 bytes"
    y = int.from_bytes(key, "little") & ((1 << 255) - 1)
    if y >= r255.P:
        return "not canonical"
    A = r255._ed_decode(key)
    if A is None:
        if (y * y - 1) % r255.P == 0:  # x = 0 with the sign bit set
            return "not canonical"
        return "not on the curve"
    if A.ed_eq(IDENTITY):
        return "identity"
    if A.mul_raw(8).ed_eq(IDENTITY):
        return "small order"
    if not A.mul_raw(L).ed_eq(IDENTITY):
        return "not in the prime-order subgroup"
    return None


def cosignature_message(text, ts):
    """§3.13: "cosignature/v1\n" || "time <ts>\n" || note text."""
    return b"cosignature/v1\ntime " + str(ts).encode() + b"\n" + text


def witness_key_id(name, key):
    """§3.13: SHA-256(name || "\n" || 0x04 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n\x04" + key).digest()[:4]


def verify_cosignature(key, text, sig):
    """§3.13 V3.9: sig = u64 timestamp || 64-byte Ed25519 signature."""
    if len(sig) != 72:
        return False
    ts = int.from_bytes(sig[:8], "big")
    if ts > 2**63 - 1:
        return False
    return r255.ed25519_verify(key, cosignature_message(text, ts), sig[8:])


def manifest_vectors(path):
    """Decodes the manifest of a vector file (ballot/testdata/manifest4.json)
    and checks its fingerprint (§4.2, §4.3)."""
    import json
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    try:
        m = decode_manifest(bytes.fromhex(v["manifest"]))
    except Malformed as e:
        print("manifest: %s" % e)
        print("manifest-vectors FAIL")
        return 1
    ok = m.fp.hex() == v["fingerprint"]
    print("version %d, languages %s, opens_at %d, closes_at %d, manual %s" % (
        m.version, ",".join(m.languages), m.opens_at, m.closes_at, m.manual))
    print("manifest-vectors PASS" if ok else "manifest-vectors FAIL (fingerprint)")
    return 0 if ok else 1


def id_vectors(path):
    """Checks the identifier vectors of a JSON file (ballot/testdata/ids.json)
    against valid_election_id and valid_node_id."""
    import json
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad = 0
    for kind, valid in (("election_id", valid_election_id), ("node_id", valid_node_id)):
        for want in ("valid", "invalid"):
            for s in v[kind][want]:
                if valid(s.encode("utf-8")) != (want == "valid"):
                    print("%s %r: want %s" % (kind, s, want))
                    bad += 1
    print("id-vectors FAIL" if bad else "id-vectors PASS")
    return 1 if bad else 0


def read_members(r, plural, maxlen, valid, what, quorum_name, least=1):
    """The board nodes or the witnesses of a manifest (§4.1): a count of at
    least `least`, then (name, 32-byte Ed25519 key) pairs, then a quorum in
    1..count (0 when there are none)."""
    n = r.count(least, 32, plural)
    members = []
    for _ in range(n):
        name = r.bytes_(maxlen)
        if not valid(name):
            raise Malformed("%s %r invalid" % (what, name))
        members.append((name.decode(), r.raw(32)))
    quorum = r.u32()
    if not (1 <= quorum <= n or quorum == n == 0):
        raise Malformed("%s %d not in 1..%d" % (quorum_name, quorum, n))
    return members, quorum


MAX_TIME = 253402300799999  # 9999-12-31T23:59:59.999Z in Unix milliseconds


def valid_language_tag(t):
    """§4.1: [a-z]{2,3}(-[A-Za-z0-9]{2,8})*, at most 35 bytes."""
    if len(t) > 35:
        return False
    parts = t.split(b"-")
    if not (2 <= len(parts[0]) <= 3 and all(0x61 <= c <= 0x7a for c in parts[0])):
        return False
    for p in parts[1:]:
        if not (2 <= len(p) <= 8 and all(chr(c).isascii() and chr(c).isalnum() for c in p)):
            return False
    return True


def read_version4(r, m):
    """§4.2 fields 25-31 and the version-4 rules of §4.1: languages, one
    translation of every text per language after the first, the window."""
    nl = r.count(0, 8, "languages")
    m.languages = []
    for _ in range(nl):
        tag = r.bytes_(35)
        if not valid_language_tag(tag):
            raise Malformed("language %r is not a tag of §4.1" % tag)
        m.languages.append(tag.decode())
    if len({x.lower() for x in m.languages}) != nl:
        raise Malformed("languages not pairwise distinct")
    m.translations = []
    for lang in m.languages[1:]:
        title = r.string(1, 1024, "%s title" % lang)
        qs = []
        for q, (_, opts, _, _) in enumerate(m.questions):
            text = r.string(1, 4096, "%s question %d text" % (lang, q))
            topts = [r.string(1, 1024, "%s question %d option" % (lang, q)) for _ in opts]
            if len(set(topts)) != len(topts):
                raise Malformed("%s question %d: options not distinct" % (lang, q))
            qs.append((text, topts))
        m.translations.append((title, qs))
    m.opens_at, m.closes_at = r.u64(), r.u64()
    manual = r.u8()
    if manual > 1:
        raise Malformed("manual flag %d" % manual)
    m.manual = manual == 1
    if m.opens_at > MAX_TIME or m.closes_at > MAX_TIME:
        raise Malformed("a time after 9999-12-31T23:59:59.999Z")
    if m.opens_at and m.closes_at and m.closes_at <= m.opens_at:
        raise Malformed("closes_at %d not after opens_at %d" % (m.closes_at, m.opens_at))
    if not m.manual and not (m.opens_at and m.closes_at):
        raise Malformed("no manual close without both opens_at and closes_at")
    if nl == 0 and m.opens_at == 0 and m.closes_at == 0 and m.manual:
        raise Malformed("a version-4 manifest without languages or a schedule (use version 1 or 2)")


def window_error(m, etype, t):
    """§3.9 voting window (V5.7) for an entry of type etype in a block of
    time t; None when it is in the window."""
    if etype in (8, 9, 13):
        if m.opens_at and t < m.opens_at:
            return "block time %d before opens_at %d" % (t, m.opens_at)
        if m.closes_at and t >= m.closes_at:
            return "block time %d at or after closes_at %d" % (t, m.closes_at)
    if etype == 10 and not m.manual and t < m.closes_at:
        return "close in a block of time %d before closes_at %d without the manual close" % (t, m.closes_at)
    return None


KIND_SELECT, KIND_RANKED, KIND_SCORE, KIND_WRITE_IN = 0, 1, 2, 3  # §12.1
WRITE_IN_CHUNK = 30


def write_in_chunks(mx):
    """§12.2: w = ceil((1 + max) / 30)."""
    return (mx + WRITE_IN_CHUNK) // WRITE_IN_CHUNK


def kind_part_size(kind, n, mn, mx):
    """§12.2: the size of a question's part of a version-2 ballot."""
    if kind == KIND_SELECT:
        return 8 + 320 * n + 128 * (mx - mn + 1)
    if kind == KIND_RANKED:
        k = mx
        return 8 + 320 * n * k + 256 * (n + k + k - 1) + 4 + 128 * (k - mn + 1)
    if kind == KIND_SCORE:
        return 8 + n * (64 + 128 * (mx - mn + 1))
    return 4 + 128 * write_in_chunks(mx)


def audit_part_size(kind, n, mx):
    """§12.10 a_q: a question's part of the largest audit2."""
    if kind == KIND_SELECT:
        return 8 + 97 * n
    if kind == KIND_RANKED:
        return 20 + 4 * mx + 96 * n * mx
    if kind == KIND_SCORE:
        return 8 + 100 * n
    return 8 + 126 * write_in_chunks(mx)


def decode_manifest(b):
    r = Reader(b)
    m = SimpleNamespace()
    m.bytes = b
    m.version = r.u8()
    if m.version not in (1, 2, 3, 4):
        raise Malformed("manifest version %d" % m.version)
    eid = r.bytes_(64)
    if not valid_election_id(eid):
        raise Malformed("election_id %r invalid" % eid)
    m.election_id = eid.decode()
    m.title = r.string(1, 1024, "title")
    nq = r.count(1, 64, "questions")
    m.questions, m.kinds, m.seats = [], [], {}
    for q in range(nq):
        text = r.string(1, 4096, "question %d text" % q)
        kind = r.u8() if m.version == 3 else KIND_SELECT  # §12.1 field 5a
        if kind > KIND_WRITE_IN:
            raise Malformed("question %d: kind %d" % (q, kind))
        if kind == KIND_WRITE_IN:
            no = r.count(0, 0, "question %d options" % q)
        else:
            no = r.count(2, 64, "question %d options" % q)
        opts = [r.string(1, 1024, "question %d option" % q) for _ in range(no)]
        if len(set(opts)) != len(opts):
            raise Malformed("question %d: options not distinct" % q)
        mn, mx = r.u32(), r.u32()
        ok = {KIND_SELECT: mn <= mx <= no and mx >= 1, KIND_RANKED: mn <= mx <= no and mx >= 1,
              KIND_SCORE: mn < mx <= 100, KIND_WRITE_IN: mn == 0 and 1 <= mx <= 255}[kind]
        if not ok:
            raise Malformed("question %d: min %d max %d invalid" % (q, mn, mx))
        if kind == KIND_RANKED:  # §12.1 field 9a: the seats STV elects, 1..#options-1
            seats = r.u32()
            if not 1 <= seats < no:
                raise Malformed("question %d: %d seats, want 1..%d" % (q, seats, no - 1))
            m.seats[q] = seats
        m.questions.append((text, opts, mn, mx))
        m.kinds.append(kind)
    if m.version == 3 and all(k == KIND_SELECT for k in m.kinds):
        raise Malformed("a version-3 manifest without a ranked, score or write-in question")
    # §9.1: O_q, the options counted homomorphically (0 for a mixed
    # question); §12.5: the mixed questions and their row widths W_q
    m.O = [len(o) if k == KIND_SELECT else 0 for k, (_, o, _, _) in zip(m.kinds, m.questions)]
    m.mixed = [q for q, k in enumerate(m.kinds) if k != KIND_SELECT]
    m.width = {q: write_in_chunks(m.questions[q][3]) if m.kinds[q] == KIND_WRITE_IN else len(m.questions[q][1])
               for q in m.mixed}
    m.authority, m.authority_b = r.elem(False, "authority")
    m.ca, m.ca_b = r.elem(False, "credential_authority")
    n = r.count(1, 32, "trustees")
    m.trustees = []
    for i in range(n):
        name = r.string(1, 64, "trustee name")
        pk, pkb = r.elem(False, "trustee signing_key")
        share = r.raw(32)
        m.trustees.append((name, pk, pkb, share))
    m.threshold = r.u32()
    if not (1 <= m.threshold <= n):
        raise Malformed("threshold %d not in 1..%d" % (m.threshold, n))
    m.nodes, m.quorum = read_members(r, "board nodes", 64, valid_node_id, "node id", "board_quorum")
    nn = len(m.nodes)
    m.witnesses, m.wquorum = [], 0
    m.languages, m.translations, m.opens_at, m.closes_at, m.manual = [], [], 0, 0, True
    if m.version in (2, 3, 4):
        m.witnesses, m.wquorum = read_members(
            r, "witnesses", 128, valid_witness_name, "witness name", "witness_quorum",
            least=1 if m.version == 2 else 0)
    if m.version == 4:
        read_version4(r, m)
    r.end()
    for what, nid, key in [("node", a, b) for a, b in m.nodes] + [("witness", a, b) for a, b in m.witnesses]:
        err = node_key_error(key)
        if err:
            raise Malformed("%s %s key: %s" % (what, nid, err))
    names = [x[0] for x in m.nodes] + [x[0] for x in m.witnesses]
    if len(set(names)) != len(names):
        raise Malformed("node ids and witness names not pairwise distinct")
    eds = [x[1] for x in m.nodes] + [x[1] for x in m.witnesses]
    if len(set(eds)) != len(eds):
        raise Malformed("node and witness keys not pairwise distinct")
    # §4.1 pairwise distinctness
    if len({t[0] for t in m.trustees}) != n:
        raise Malformed("trustee names not distinct")
    if len({t[3] for t in m.trustees}) != n:
        raise Malformed("trustee share keys not distinct")
    if len({x[0] for x in m.nodes}) != nn:
        raise Malformed("node ids not distinct")
    if len({x[1] for x in m.nodes}) != nn:
        raise Malformed("node keys not distinct")
    keys = [m.authority_b, m.ca_b] + [t[2] for t in m.trustees]
    if len(set(keys)) != len(keys):
        raise Malformed("authority, credential authority and trustee keys not pairwise distinct")
    if m.version == 3:
        size = 69 + sum(1 + kind_part_size(k, len(o), mn, mx) for k, (_, o, mn, mx) in zip(m.kinds, m.questions))
    else:
        size = 69 + sum(8 + 320 * len(o) + 128 * (mx - mn + 1) for (_, o, mn, mx) in m.questions)
    if size > 65536:
        raise Malformed("largest ballot %d bytes > 65536" % size)
    if m.version == 3:  # §12.1, §12.10: the largest audit fits its body limit
        audit = 40 + sum(2 + audit_part_size(k, len(o), mx) for k, (_, o, _, mx) in zip(m.kinds, m.questions))
        if audit > 32768:
            raise Malformed("largest audit %d bytes > 32768" % audit)
    m.fp = digest("manifest-fingerprint", [b])
    return m


# --------------------------------------------------------------------------
# §3.1 entries

TYPES = {
    1: ("manifest", 1, 1048576),
    2: ("credentials", 2, 41943040),
    3: ("dkg-deal", 3, 1048576),
    4: ("dkg-confirmation", 3, 65536),
    5: ("dkg-complaint", 3, 65536),
    6: ("dkg-reveal", 3, 65536),
    7: ("open", 1, 65536),
    8: ("ballot", 4, 65536),
    9: ("audited-ballot", 4, 131072),
    10: ("close", 1, 4096),
    11: ("partial-decryption", 3, 4194304),
    12: ("result", 1, 67108864),
    13: ("audit", 5, 32768),
    14: ("late-credentials", 2, 41943040),
    15: ("shuffle", 3, 67108864),
    16: ("mix-decryption", 3, 33554432),
}
# §11.6: an entry is at most the largest body limit plus its envelope (135
# bytes); §3.11's ENTRY frame bound follows it (FINDINGS F13).
MAX_ENTRY = 67108864 + 135


def decode_entry(b):
    """§3.1 strict decoding (V1.3)."""
    if len(b) > MAX_ENTRY:
        raise Malformed("entry longer than %d" % MAX_ENTRY)
    r, e = open_versioned(b, "entry")
    e.type = r.u8()
    if e.type not in TYPES:
        raise Malformed("unregistered entry type %d" % e.type)
    e.election = r.raw(32)
    e.role = r.u8()
    if e.role not in (1, 2, 3, 4, 5):
        raise Malformed("invalid role %d" % e.role)
    e.author, e.author_b = r.elem(False, "author key")
    e.body = r.bytes_(TYPES[e.type][2])
    e.tbs = b[:r.o]
    e.R, e.R_b = r.elem(False, "signature R")
    e.s = r.scalar("signature s")
    r.end()
    e.name = TYPES[e.type][0]
    return e


def schnorr_verify(X, X_b, R, R_b, s, msg):
    c = challenge("schnorr-signature", [X_b, R_b, msg])
    return (G * s).r_eq(R + X * c)


def envelope_ok(e):
    t = b"urna/v1/board-entry-signature"
    return schnorr_verify(e.author, e.author_b, e.R, e.R_b, e.s, u32(len(t)) + t + e.tbs)


# --------------------------------------------------------------------------
# §3.6 blocks


def decode_header(b):
    if len(b) != 100:
        raise Malformed("block header of %d bytes" % len(b))
    r = Reader(b)
    h = SimpleNamespace()
    h.raw = b
    h.height = r.u64()
    h.prev = r.raw(32)
    h.time = r.u64()
    h.first = r.u64()
    h.count = r.u32()
    h.size = r.u64()
    h.root = r.raw(32)
    if not (1 <= h.count <= 65536):
        raise Malformed("block count %d" % h.count)
    if h.first + h.count >= 2**64 or h.size != h.first + h.count:
        raise Malformed("log size %d != first seq %d + count %d" % (h.size, h.first, h.count))
    if h.height == 0:
        if h.prev != bytes(32) or h.first != 0:
            raise Malformed("genesis block with non-zero prev or first seq")
    elif h.prev == bytes(32):
        raise Malformed("zero prev at height %d" % h.height)
    h.hash = digest("board-block", [b])
    return h


# --------------------------------------------------------------------------
# §3.7 Merkle tree (RFC 6962 / 9162)


class MerkleLog:
    """Stores the leaf hashes; computes MTH of any prefix (with memoization
    of complete power-of-two subtrees)."""

    def __init__(self):
        self.leaves = []
        self.memo = {}

    def append(self, entry):
        self.leaves.append(hashlib.sha256(b"\x00" + entry).digest())

    def mth(self, lo, hi):
        n = hi - lo
        if n == 1:
            return self.leaves[lo]
        key = (lo, hi)
        if key in self.memo:
            return self.memo[key]
        k = 1
        while k * 2 < n:
            k *= 2
        v = hashlib.sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi)).digest()
        if n & (n - 1) == 0:
            self.memo[key] = v
        return v

    def root(self, size):
        return self.mth(0, size)


# --------------------------------------------------------------------------
# §3.8 checkpoints


def b64std_strict(s):
    try:
        raw = base64.b64decode(s, validate=True)
    except Exception:
        return None
    if base64.b64encode(raw).decode() != s:
        return None
    return raw


def dec_uint(s):
    if not s or any(c not in "0123456789" for c in s) or (len(s) > 1 and s[0] == "0"):
        return None
    return int(s)


def witness_quorum_error(m, cp):
    """§3.13 V3.9: no listed witness's line is invalid, and at least
    witness_quorum distinct listed witnesses cosigned. None if satisfied."""
    wit = {(name, witness_key_id(name, key)): key for name, key in m.witnesses}
    cosigners = set()
    for line, name, kh, sig in cp.sigs:
        key = wit.get((name, kh))
        if key is None:
            continue
        if not verify_cosignature(key, cp.text, sig):
            return "invalid cosignature by witness %s" % name
        cosigners.add(name)
    if len(cosigners) < m.wquorum:
        return "%d distinct valid witness cosignatures < witness quorum %d" % (len(cosigners), m.wquorum)
    return None


def checkpoint_errors(m, cp):
    """§3.8, §3.13: opens checkpoint cp under manifest m: V3.1 origin, V3.4
    at most 100 lines, V3.2 every board-node line valid, V3.3 node quorum,
    V3.9 witness quorum. Returns the failures as (sub-step, reason)."""
    out = []
    origin = "urna/%s/%s" % (m.election_id, m.fp[:8].hex())
    if cp.origin != origin:
        out.append(("V3.1", "origin %r != %r" % (cp.origin, origin)))
    if len(cp.sigs) > 100:
        out.append(("V3.4", "%d signature lines > 100" % len(cp.sigs)))
    signers = set()
    seen = set()
    nodes = {}
    for nid, key in m.nodes:
        kh = hashlib.sha256(nid.encode() + b"\n\x01" + key).digest()[:4]
        nodes[(nid, kh)] = key
    for line, nid, kh, sig in cp.sigs:
        if line in seen:
            continue
        seen.add(line)
        key = nodes.get((nid, kh))
        if key is None:
            continue
        if len(sig) != 64 or not r255.ed25519_verify(key, cp.text, sig):
            out.append(("V3.2", "invalid signature by board node %s" % nid))
            continue
        signers.add(nid)
    if len(signers) < m.quorum:
        out.append(("V3.3", "%d distinct valid node signatures < quorum %d" % (len(signers), m.quorum)))
    if m.wquorum > 0:
        err = witness_quorum_error(m, cp)
        if err:
            out.append(("V3.9", err))
    return out


def node_hash(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def consistency_ok(first, second, proof, first_root, second_root):
    """RFC 9162 §2.1.4.2: verifies a consistency proof between tree sizes
    first ≤ second with the given roots."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second:
        return False
    if first & (first - 1) == 0:
        proof = [first_root] + list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    if not proof:
        return False
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def b64url_strict(s):
    """Base64url without padding, canonical (§10.8)."""
    if not isinstance(s, str) or "=" in s:
        return None
    try:
        raw = base64.b64decode(s.translate(str.maketrans("-_", "+/")) + "=" * (-len(s) % 4), validate=True)
    except Exception:
        return None
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != s:
        return None
    return raw


class EvidenceError(Exception):
    def __init__(self, step, msg):
        super().__init__(msg)
        self.step = step


def check_evidence(data):
    """§10.8 E0–E3. Returns (manifest, old, new, proven, why); raises
    EvidenceError naming the step that fails."""
    import json
    try:
        f = json.loads(data.decode("utf-8"))
    except Exception as x:
        raise EvidenceError("E0", "not JSON: %s" % x)
    members = {"kind": str, "version": int, "manifest": str, "old": str, "new": str,
               "proof": str, "implied_old_root": str, "reason": str}
    if not isinstance(f, dict):
        raise EvidenceError("E0", "not a JSON object")
    for k, v in f.items():
        if k not in members:
            raise EvidenceError("E0", "unknown member %r" % k)
        if type(v) is not members[k]:
            raise EvidenceError("E0", "member %r has the wrong type" % k)
    if f.get("kind") != "urna-evidence" or f.get("version") != 1:
        raise EvidenceError("E0", "kind %r version %r" % (f.get("kind"), f.get("version")))
    mb = b64url_strict(f.get("manifest", ""))
    if mb is None:
        raise EvidenceError("E0", "manifest is not base64url without padding")
    try:
        m = decode_manifest(mb)
    except Malformed as x:
        raise EvidenceError("E0", "manifest: %s" % x)
    proof = None
    if f.get("proof", "") != "":
        raw = b64url_strict(f["proof"])
        if raw is None:
            raise EvidenceError("E0", "proof is not base64url without padding")
        try:
            r = Reader(raw)
            old_size, new_size = r.u64(), r.u64()
            n = r.count(0, 128, "proof hashes")
            hashes = [r.raw(32) for _ in range(n)]
            r.end()
        except Malformed as x:
            raise EvidenceError("E0", "proof: %s" % x)
        if old_size == 0 or old_size > new_size:
            raise EvidenceError("E0", "proof sizes %d -> %d" % (old_size, new_size))
        proof = (old_size, new_size, hashes)
    implied = None
    if f.get("implied_old_root", "") != "":
        h = f["implied_old_root"]
        if len(h) != 64 or any(c not in "0123456789abcdefABCDEF" for c in h):
            raise EvidenceError("E0", "implied_old_root is not 64 hex digits")
        implied = bytes.fromhex(h)
    cps = []
    for step, name in (("E1", "old"), ("E2", "new")):
        try:
            cp = decode_checkpoint(f.get(name, "").encode("utf-8"))
        except Malformed as x:
            raise EvidenceError(step, "%s checkpoint: %s" % (name, x))
        errs = checkpoint_errors(m, cp)
        if errs:
            raise EvidenceError(step, "%s checkpoint: %s %s" % (name, errs[0][0], errs[0][1]))
        cps.append(cp)
    o, n = cps
    if o.size > n.size:
        raise EvidenceError("E2", "old checkpoint size %d is larger than new %d" % (o.size, n.size))
    proven, why = False, ""
    if o.size == n.size and o.root != n.root:
        proven, why = True, "two roots for log size %d" % o.size
    elif o.size == n.size and (o.height != n.height or o.block_hash != n.block_hash):
        proven, why = True, "two blocks for log size %d" % o.size
    elif o.size == n.size:
        why = "the checkpoints agree"
    elif o.height >= n.height:
        proven, why = True, "log grew from %d to %d but block height did not" % (o.size, n.size)
    elif proof is None or proof[0] != o.size or proof[1] != n.size:
        why = "no consistency proof between the checkpoints' sizes"
    elif consistency_ok(o.size, n.size, proof[2], o.root, n.root):
        why = "the proof shows the checkpoints consistent"
    elif implied is not None and implied != o.root and consistency_ok(o.size, n.size, proof[2], implied, n.root):
        proven, why = True, "the log of size %d has another root in the new checkpoint's tree" % o.size
    else:
        why = "the consistency proof does not link the checkpoints (not proof of a fork by itself)"
    return m, o, n, proven, why


def evidence_main(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        m, o, n, proven, why = check_evidence(data)
    except EvidenceError as x:
        print("%s FAIL: %s" % (x.step, x))
        print("EVIDENCE INVALID")
        return 1
    print("E0 PASS")
    print("# election %s fingerprint %s" % (m.election_id, m.fp.hex()))
    print("E1 PASS old size %d height %d" % (o.size, o.height))
    print("E2 PASS new size %d height %d" % (n.size, n.height))
    print("E3 %s: %s" % ("PROVEN" if proven else "NOT-PROVEN", why))
    return 0 if proven else 1


def cosignature_vectors(path):
    """Checks bulletin/testdata/cosignature.json (§3.13) and ballot/testdata/
    nodekeys.json (§4.1), given as the cosignature file's path."""
    import json
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad = []
    key = bytes.fromhex(v["witness_key"])
    name = v["witness_name"]
    if witness_key_id(name, key).hex() != v["key_id"]:
        bad.append("key id")
    text = v["text"].encode()
    if cosignature_message(text, v["timestamp"]) != v["message"].encode():
        bad.append("message")
    m = SimpleNamespace()
    m.witnesses, m.wquorum = [(name, key)], v["witness_quorum"]

    def check(note):
        return witness_quorum_error(m, decode_checkpoint(note.encode()))

    if check(v["note"]) is not None:
        bad.append("the cosigned note: %s" % check(v["note"]))
    nodes_only = v["note"][:-len(v["line"])]
    for x in v["invalid"]:
        err = check(nodes_only + x["line"])
        if err is None or "invalid cosignature" not in err:
            bad.append("invalid line accepted: %s" % x["name"])
    for x in v["ignored"]:
        err = check(nodes_only + x["line"])
        if err is None or "0 distinct" not in err:
            bad.append("ignored line counted: %s (%s)" % (x["name"], err))
    kpath = os.path.join(os.path.dirname(path), "..", "..", "ballot", "testdata", "nodekeys.json")
    with open(kpath, encoding="utf-8") as f:
        k = json.load(f)
    for h in k["valid"]:
        if node_key_error(bytes.fromhex(h)) is not None:
            bad.append("valid node key rejected: %s" % h)
    for x in k["invalid"]:
        if node_key_error(bytes.fromhex(x["key"])) is None:
            bad.append("invalid node key accepted: %s" % x["name"])
    for b in bad:
        print(b)
    print("cosignature-vectors FAIL" if bad else "cosignature-vectors PASS")
    return 1 if bad else 0


def decode_checkpoint(note):
    """Decodes a signed note (§3.8). Returns a Checkpoint or raises Malformed."""
    if len(note) > 16384:
        raise Malformed("note longer than 16384 bytes")
    try:
        s = note.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("note not UTF-8")
    i = s.find("\n\n")
    if i < 0:
        raise Malformed("note without blank line")
    text = s[:i + 1]
    sigs = s[i + 2:]
    lines = text.split("\n")
    if len(lines) != 5 or lines[4] != "":
        raise Malformed("checkpoint text is not four lines")
    cp = SimpleNamespace()
    cp.note = note
    cp.text = text.encode()
    cp.origin = lines[0]
    cp.size = dec_uint(lines[1])
    if cp.size is None or cp.size < 1:
        raise Malformed("bad size line %r" % lines[1])
    cp.root = b64std_strict(lines[2])
    if cp.root is None or len(cp.root) != 32:
        raise Malformed("bad root line %r" % lines[2])
    ext = lines[3].split(" ")
    if len(ext) != 3 or ext[0] != "block":
        raise Malformed("bad extension line %r" % lines[3])
    cp.height = dec_uint(ext[1])
    cp.block_hash = b64std_strict(ext[2])
    if cp.height is None or cp.block_hash is None or len(cp.block_hash) != 32:
        raise Malformed("bad extension line %r" % lines[3])
    reenc = "%s\n%d\n%s\nblock %d %s\n" % (cp.origin, cp.size, base64.b64encode(cp.root).decode(),
                                          cp.height, base64.b64encode(cp.block_hash).decode())
    if reenc != text:
        raise Malformed("checkpoint text does not re-encode identically")
    if not sigs.endswith("\n"):
        raise Malformed("signature block does not end in newline")
    cp.sigs = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise Malformed("bad signature line %r" % line)
        parts = line[2:].split(" ")
        if len(parts) != 2 or not parts[0]:
            raise Malformed("bad signature line %r" % line)
        raw = b64std_strict(parts[1])
        if raw is None or len(raw) < 5:
            raise Malformed("bad signature base64 in %r" % line)
        cp.sigs.append((line, parts[0], raw[:4], raw[4:]))
    if len(cp.sigs) < 1:
        raise Malformed("note without signatures")
    return cp


# --------------------------------------------------------------------------
# Bodies (§5.3, §6.1, §7.3, §8.7, §3.5, §9.5)


MAX_WEIGHT = 1000


def decode_credentials(b):
    """§5.3: a credential list of version 1 (first byte 0: u32 N, N
    elements, weight 1 each) or 2 (u8 2, [32] roll, u32 N, N × (element,
    u32 weight in 1..1000)). Returns ([(credential bytes, weight)], roll)."""
    r = Reader(b)
    weighted = len(b) > 0 and b[0] == 2
    roll = None
    if weighted:
        r.u8()
        roll = r.raw(32)
    elif len(b) > 0 and b[0] != 0:
        raise Malformed("credential list: unknown version byte %d" % b[0])
    n = r.count(1, 2**20, "credentials", 36 if weighted else 32)
    out = []
    prev = None
    for _ in range(n):
        _, eb = r.elem(False, "credential")
        if prev is not None and eb <= prev:
            raise Malformed("credentials not strictly increasing")
        prev = eb
        w = 1
        if weighted:
            w = r.u32()
            if not 1 <= w <= MAX_WEIGHT:
                raise Malformed("credential weight %d outside 1..%d" % (w, MAX_WEIGHT))
        out.append((eb, w))
    r.end()
    return out, roll


def weighted_aggregate(O, counted, weight):
    """§9.1, V11.2: per (q, o), the sum of w·(alpha, beta) over the counted
    ballots, w the weight of the ballot's credential (§5.3). The one
    aggregate of this verifier. O: the manifest's O_q (0 for a mixed
    question); counted: ballots; weight(ballot) -> w."""
    agg = [[(IDENTITY, IDENTITY)] * n for n in O]
    for x in counted:
        w = weight(x)
        for q, opts in enumerate(select_options(x)):
            for i, (a, _, b, _, _) in enumerate(opts):
                A, B = agg[q][i]
                agg[q][i] = (A + w * a, B + w * b)
    return agg


def select_options(x):
    """The option ciphertexts of a ballot's selection questions, per
    question ([] for a mixed question of a version-2 ballot)."""
    if x.version == 1:
        return [opts for (opts, _) in x.questions]
    return [q.opts if q.kind == KIND_SELECT else [] for q in x.questions]


def read_branch(r):
    a, _ = r.elem(True, "branch a")
    b, _ = r.elem(True, "branch b")
    c = r.scalar("branch c")
    s = r.scalar("branch s")
    return (a, b, c, s, r.b[r.o - 128:r.o - 64])


def read_ciphertext(r):
    """An ElGamal ciphertext (alpha, its bytes, beta, its bytes): alpha is
    never the identity, beta may be."""
    a, ab = r.elem(False, "alpha")
    b, bb = r.elem(True, "beta")
    return a, ab, b, bb


def decode_ballot(b):
    r, x = open_versioned(b, "ballot")
    x.fp = r.raw(32)
    x.cred, x.cred_b = r.elem(False, "ballot credential")
    nq = r.count(1, 64, "ballot questions")
    x.questions = []
    for _ in range(nq):
        no = r.count(2, 64, "ballot options", 320)
        opts = []
        for _ in range(no):
            ct = read_ciphertext(r)
            opts.append(ct + ([read_branch(r), read_branch(r)],))
        nb = r.count(1, 65, "range branches", 128)
        rng = [read_branch(r) for _ in range(nb)]
        x.questions.append((opts, rng))
    r.end()
    x.tracker = tracker_of(x.fp, [[(ab, bbb) for (_, ab, _, bbb, _) in opts] for (opts, _) in x.questions])
    return x


def decode_any_ballot(b):
    """§6.1 or, with version byte 2, §12.2 (V1.6 "ballot §6.1 (version 2:
    §12.2)"); which version a manifest takes is V8.3."""
    if b[:1] == b"\x02":
        return decode_kinds_ballot(b)
    return decode_ballot(b)


def tracker_of(fp, cts):
    """§7.1 (1.2): Digest("choices-tracker"; fp || u32 Q || per q: u32 n || n x (alpha || beta))."""
    out = bytearray(fp)
    out += u32(len(cts))
    for row in cts:
        out += u32(len(row))
        for ab, bb in row:
            out += ab + bb
    return digest("choices-tracker", [bytes(out)])


def read_opening(r, shape):
    nq = r.u32()
    if nq != len(shape):
        raise Malformed("opening has %d questions, ballot %d" % (nq, len(shape)))
    opening = []
    for q in range(nq):
        no = r.u32()
        if no != shape[q]:
            raise Malformed("opening question %d has %d options, ballot %d" % (q, no, shape[q]))
        row = []
        for _ in range(no):
            m = r.u8()
            if m not in (0, 1):
                raise Malformed("opening m = %d" % m)
            row.append((m, r.scalar("opening r")))
        opening.append(row)
    return opening


def decode_audit(b):
    """§7.3 (1.2): fingerprint, per question the ciphertexts, then the opening."""
    r = Reader(b)
    x = SimpleNamespace()
    x.fp = r.raw(32)
    nq = r.count(1, 64, "audit questions")
    x.cts = []
    for _ in range(nq):
        no = r.count(2, 64, "audit options", 64)
        x.cts.append([read_ciphertext(r) for _ in range(no)])
    x.opening = read_opening(r, [len(row) for row in x.cts])
    r.end()
    x.tracker = tracker_of(x.fp, [[(ab, bbb) for (_, ab, _, bbb) in row] for row in x.cts])
    return x


MAX_BALLOT = 65536


def decode_audited(b):
    """§7.3.1, or §12.9 when the ballot inside is version 2: (ballot,
    opening); a version-2 opening is (answers, randomness)."""
    r = Reader(b)
    bb = r.bytes_(MAX_BALLOT)
    if bb[:1] == b"\x02":
        x, answers, rands = decode_kinds_audited(b)
        return x, (answers, rands)
    x = decode_ballot(bb)
    opening = read_opening(r, [len(opts) for (opts, _) in x.questions])
    r.end()
    return x, opening


def idx(r, what):
    i = r.u16()
    if not (1 <= i <= 1000):
        raise Malformed("%s index %d not in 1..1000" % (what, i))
    return i


def idx_list(r, plural, what, message, excluded=None):
    """A 2-byte count, then that many indices in 1..1000, strictly increasing
    and never equal to excluded."""
    n = r.count(0, 1000, plural, 2)
    out = []
    for _ in range(n):
        i = idx(r, what)
        if (out and i <= out[-1]) or i == excluded:
            raise Malformed(message)
        out.append(i)
    return out


def decode_deal(b):
    r = Reader(b)
    d = SimpleNamespace()
    d.dealer = idx(r, "dealer")
    n = r.count(1, 1000, "commitments", 32)
    d.C = []
    d.C_b = []
    for _ in range(n):
        p, pb = r.elem(False, "commitment")
        d.C.append(p)
        d.C_b.append(pb)
    d.R, d.R_b = r.elem(False, "proof R")
    d.z = r.scalar("proof z")
    ns = r.count(0, 999, "encrypted shares", 82)
    d.recipients = []
    for _ in range(ns):
        j = idx(r, "recipient")
        if d.recipients and j <= d.recipients[-1]:
            raise Malformed("recipients not strictly increasing")
        if j == d.dealer:
            raise Malformed("share to the dealer itself")
        r.raw(32 + 48)
        d.recipients.append(j)
    r.end()
    return d


def decode_confirmation(b):
    r = Reader(b)
    t = idx(r, "trustee")
    ds = idx_list(r, "dealers", "dealer",
                  "confirmation dealers not strictly increasing or include the trustee", excluded=t)
    r.end()
    return t, ds


def decode_complaint(b):
    r = Reader(b)
    i = idx(r, "dealer")
    j = idx(r, "complainer")
    r.end()
    if i == j:
        raise Malformed("complaint dealer = complainer")
    return i, j


def decode_reveal(b):
    r = Reader(b)
    i = idx(r, "dealer")
    j = idx(r, "complainer")
    s = r.scalar("share")
    r.end()
    if i == j:
        raise Malformed("reveal dealer = complainer")
    return i, j, s


def decode_open(b):
    r = Reader(b)
    K, Kb = r.elem(False, "joint key")
    q = idx_list(r, "qualified", "qualified", "QUAL not strictly increasing")
    r.end()
    return K, Kb, q


def decode_close(b):
    r = Reader(b)
    s = r.string(0, 1024, "close reason")
    r.end()
    return s


def decode_partial(b):
    r = Reader(b)
    j = idx(r, "trustee")
    nq = r.count(0, 2**32 - 1, "partial questions", 4)
    qs = []
    for _ in range(nq):
        no = r.count(0, 2**32 - 1, "partial factors", 128)
        row = []
        for _ in range(no):
            D, Db = r.elem(True, "D")
            a, ab = r.elem(True, "a")
            bb, bbb = r.elem(True, "b")
            z = r.scalar("z")
            row.append((D, Db, a, ab, bb, bbb, z))
        qs.append(row)
    r.end()
    return j, qs


def decode_result(b, mixed=False):
    """§9.5; with mixed (a manifest with mixed questions) the mixed answers
    of §11.5 follow the counts. Returns (trustees, counts, mixed answers)."""
    r = Reader(b)
    ts = idx_list(r, "result trustees", "result trustee", "result trustees not strictly increasing")
    nq = r.count(0, 2**32 - 1, "result questions", 4)
    counts = []
    for _ in range(nq):
        no = r.count(0, 2**32 - 1, "result options", 8)
        counts.append([r.u64() for _ in range(no)])
    answers = decode_mixed_answers(r) if mixed else None
    r.end()
    return ts, counts, answers


# --------------------------------------------------------------------------
# Proof checks


def verify_disjunctive(label, prefix, A, B, K, values, branches):
    """§6.3. Returns None if valid, else (substep-suffix, branch, message)."""
    items = list(prefix)
    for (a, b, c, s, ab_raw) in branches:
        items.append(ab_raw[:32])
        items.append(ab_raw[32:])
    c = challenge(label, items)
    if sum(br[2] for br in branches) % L != c:
        return ("2", None, "sum of branch challenges != c (P1)")
    for j, (a, b, cj, sj, _) in enumerate(branches):
        if not (G * sj).r_eq(a + A * cj):
            return ("3", j, "P2 false")
        if not (K * sj).r_eq(b + (B - G * values[j]) * cj):
            return ("3", j, "P3 false")
    return None


def lagrange(S, j):
    num, den = 1, 1
    for k in S:
        if k != j:
            num = num * k % L
            den = den * (k - j) % L
    return num * pow(den, L - 2, L) % L


def eval_commitments(C, j):
    """E(j) = Σ_k j^k·C_k."""
    acc = IDENTITY
    x = 1
    for Ck in C:
        acc = acc + Ck * x
        x = x * j % L
    return acc


# --------------------------------------------------------------------------
# The verifier


class Report:
    def __init__(self):
        self.fails = {s: [] for s in STEPS}
        self.ran = set()
        self.info = []

    def fail(self, sub, where, msg):
        step = sub.split(".")[0]
        self.ran.add(step)
        self.fails[step].append((sub, where, msg))

    def run(self, step):
        self.ran.add(step)


class Stop(Exception):
    pass


PH_EMPTY, PH_SETUP, PH_KC, PH_OPEN, PH_CLOSED, PH_TALLY, PH_RESULT = range(7)
PHASE_OF_TYPE = {1: {PH_EMPTY}, 2: {PH_SETUP}, 3: {PH_KC}, 4: {PH_KC}, 5: {PH_KC}, 6: {PH_KC},
                 7: {PH_KC}, 8: {PH_OPEN}, 9: {PH_OPEN}, 10: {PH_OPEN}, 11: {PH_CLOSED, PH_TALLY},
                 12: {PH_TALLY}, 13: {PH_OPEN}, 14: {PH_KC, PH_OPEN}, 15: {PH_CLOSED, PH_TALLY},
                 16: {PH_CLOSED, PH_TALLY}}


class _NoPrefix:
    def __mod__(self, _):
        return ""


class Verifier:
    def __init__(self, data, expected_fp=None, verbose=False):
        self.data = data
        self.expected_fp = expected_fp
        self.verbose = verbose
        self.rep = Report()
        self.log = MerkleLog()
        self.blocks = []  # headers
        self.entries_n = 0
        # election state
        self.m = None
        self.phase = PH_EMPTY
        self.ids = set()
        self.creds = None
        self.n_audits = 0  # audit and audited-ballot entries the rules accepted (§3.9 cap)
        self.trackers = set()
        self.deals = {}          # dealer -> Deal (accepted by the rules)
        self.deal_valid = {}     # dealer -> bool (V7.2/V7.3)
        self.confirmed = set()
        self.complaints = {}     # dealer -> set of complainers (rules)
        self.complaint_order = []
        self.answered = set()    # (dealer, complainer) answered by the rules
        self.reveal_valid = {}   # (dealer, complainer) -> bool for the first reveal
        self.K = None
        self.K_b = None
        self.X = None            # verification keys X_1..X_N (index 1-based dict)
        self.qual = None
        self.partials = {}       # trustee -> (valid, factors) (accepted by the rules)
        self.partial_order = []
        self.results = []
        # V10
        self.burnt = set()
        self.counted = {}        # credential bytes -> (seq, ballot)
        self.stats = {"counted": 0, "superseded": 0, "invalid": 0, "audited": 0, "rejected": 0}
        self.audited_reports = []
        self.aggregate = None
        self.maxcount = None
        self.mix = {}            # mixed question q -> its cascade (§11.2), from the close on

    # --- framing -----------------------------------------------------------
    def run(self):
        rep = self.rep
        try:
            self.read_record()
        except Stop:
            pass
        return rep

    def read_record(self):
        rep = self.rep
        d = self.data
        for s in ("V1",):
            rep.run(s)
        if len(d) < 8 or d[:7] != b"URNAREC" or d[7] != 1:
            rep.fail("V1.1", "file", "bad magic or version")
            raise Stop
        o = 8
        frames = []
        maxlen = {1: 100, 2: MAX_ENTRY, 3: 16384, 4: 20}
        while True:
            if o == len(d):
                rep.fail("V1.1", "file", "record ends without END frame")
                raise Stop
            if o + 5 > len(d):
                rep.fail("V1.1", "offset %d" % o, "truncated frame header")
                raise Stop
            tag = d[o]
            n = int.from_bytes(d[o + 1:o + 5], "big")
            if tag not in maxlen:
                rep.fail("V1.1", "offset %d" % o, "unknown frame tag %d" % tag)
                raise Stop
            if n > maxlen[tag]:
                rep.fail("V1.1", "offset %d" % o, "frame length %d above maximum %d" % (n, maxlen[tag]))
                raise Stop
            if o + 5 + n > len(d):
                rep.fail("V1.1", "offset %d" % o, "truncated frame")
                raise Stop
            frames.append((tag, d[o + 5:o + 5 + n]))
            o += 5 + n
            if tag == 4:
                break
        if o != len(d):
            rep.fail("V1.1", "file", "%d bytes after END" % (len(d) - o))
            raise Stop
        # order: (BLOCK ENTRY×count)+ CHECKPOINT{1,1024} END
        i = 0
        nblocks = nentries = 0
        if not frames or frames[0][0] != 1:
            rep.fail("V1.1", "file", "record does not start with a BLOCK frame")
            raise Stop
        items = []
        while i < len(frames) and frames[i][0] == 1:
            try:
                h = decode_header(frames[i][1])
            except Malformed as e:
                rep.fail("V1.2", "block #%d" % nblocks, str(e))
                raise Stop
            nblocks += 1
            i += 1
            ents = []
            for k in range(h.count):
                if i >= len(frames) or frames[i][0] != 2:
                    rep.fail("V1.1", "block height %d" % h.height, "fewer ENTRY frames than count %d" % h.count)
                    raise Stop
                ents.append(frames[i][1])
                i += 1
            nentries += len(ents)
            items.append((h, ents))
            if i < len(frames) and frames[i][0] == 2:
                rep.fail("V1.1", "block height %d" % h.height, "more ENTRY frames than count %d" % h.count)
                raise Stop
        cps = []
        while i < len(frames) and frames[i][0] == 3:
            cps.append(frames[i][1])
            i += 1
        if not (1 <= len(cps) <= 1024):
            rep.fail("V1.1", "file", "%d CHECKPOINT frames (need 1..1024)" % len(cps))
            raise Stop
        if i != len(frames) - 1 or frames[i][0] != 4:
            rep.fail("V1.1", "file", "frames out of order")
            raise Stop
        end = frames[i][1]
        if len(end) != 20:
            rep.fail("V1.1", "END", "END payload of %d bytes" % len(end))
            raise Stop
        ce, cb, cc = int.from_bytes(end[:8], "big"), int.from_bytes(end[8:16], "big"), int.from_bytes(end[16:], "big")
        if (ce, cb, cc) != (nentries, nblocks, len(cps)):
            rep.fail("V1.1", "END", "END counts (%d, %d, %d) != frames (%d, %d, %d)" % (
                ce, cb, cc, nentries, nblocks, len(cps)))
            raise Stop
        # V1.3 every entry decodes strictly (framing failure: stop)
        decoded = []
        seq = 0
        for h, ents in items:
            row = []
            for raw in ents:
                try:
                    row.append(decode_entry(raw))
                except Malformed as e:
                    rep.fail("V1.3", "entry seq %d" % seq, str(e))
                    raise Stop
                seq += 1
            decoded.append((h, row))
        # V1.5 checkpoints decode
        checkpoints = []
        for k, note in enumerate(cps):
            try:
                checkpoints.append(decode_checkpoint(note))
            except Malformed as e:
                rep.fail("V1.5", "checkpoint #%d" % k, str(e))
                checkpoints.append(None)
        # process
        for s in ("V2", "V3", "V4", "V5", "V6", "V7", "V8", "V9", "V10", "V11", "V12"):
            pass
        prev = None
        seq = 0
        for h, row in decoded:
            self.check_block(h, prev, seq)
            self.block_time = h.time
            for e in row:
                self.log.append(e.raw)
                self.process_entry(seq, e)
                seq += 1
            self.check_block_root(h, seq)
            self.blocks.append(h)
            prev = h
        self.entries_n = seq
        self.finish_tally()
        self.check_checkpoints(checkpoints)
        if self.expected_fp is not None and self.m is not None:
            self.rep.run("V4")
            if self.m.fp != self.expected_fp:
                self.rep.fail("V4.6", "manifest", "fingerprint %s != expected %s" % (
                    self.m.fp.hex(), self.expected_fp.hex()))

    # --- V2 / V3.5 ---------------------------------------------------------
    def check_block(self, h, prev, seq):
        rep = self.rep
        rep.run("V2")
        where = "block height %d" % h.height
        if prev is None:
            if h.height != 0 or h.prev != bytes(32) or h.first != 0:
                rep.fail("V2.1", where, "first block is not height 0 / zero prev / first seq 0")
        else:
            if h.height != prev.height + 1:
                rep.fail("V2.2", where, "height %d after %d" % (h.height, prev.height))
            if h.prev != prev.hash:
                rep.fail("V2.2", where, "prev %s != hash of previous header %s" % (h.prev.hex(), prev.hash.hex()))
            if h.time < prev.time:
                rep.fail("V2.4", where, "time %d before previous %d" % (h.time, prev.time))
        if h.first != seq:
            rep.fail("V2.3", where, "first seq %d but %d entries precede the block" % (h.first, seq))

    def check_block_root(self, h, seq):
        rep = self.rep
        rep.run("V3")
        where = "block height %d" % h.height
        if h.size != seq:
            rep.fail("V3.5", where, "log size %d but %d entries so far" % (h.size, seq))
            return
        if self.log.root(seq) != h.root:
            rep.fail("V3.5", where, "log root is not the Merkle root of entries 0..%d" % (seq - 1))

    def check_checkpoints(self, cps):
        rep = self.rep
        rep.run("V3")
        m = self.m
        full = False
        by_height = {h.height: h for h in self.blocks}
        for k, cp in enumerate(cps):
            where = "checkpoint #%d" % k
            if cp is None:
                continue
            if m is None:
                rep.fail("V3.1", where, "no manifest to open the checkpoint against")
                continue
            ok = True
            for sub, msg in checkpoint_errors(m, cp):
                rep.fail(sub, where, msg)
                ok = False
            h = by_height.get(cp.height)
            if h is None or h.size != cp.size or h.root != cp.root or h.hash != cp.block_hash:
                rep.fail("V3.5", where, "no block of height %d with the checkpoint's size, root and hash" % cp.height)
                ok = False
            if ok and cp.size == self.entries_n:
                full = True
        if not full:
            rep.fail("V3.6", "record", "no valid checkpoint of size %d (the whole record)" % self.entries_n)

    # --- entries ------------------------------------------------------------
    def process_entry(self, seq, e):
        rep = self.rep
        where = "entry seq %d (%s)" % (seq, e.name)
        for s in ("V4", "V5"):
            rep.run(s)
        if seq == 0:
            self.entry0(e, where)
            return
        if self.m is None:
            rep.fail("V5.1", where, "no valid manifest at entry 0")
            return
        m = self.m
        # V4.5 / V5.2
        if e.election != m.fp:
            rep.fail("V4.5", where, "envelope fingerprint is not the manifest's")
            return
        eid = digest("board-entry", [e.raw])
        if eid in self.ids:
            rep.fail("V5.3", where, "duplicate entry id")
            return
        if self.phase == PH_RESULT:
            rep.fail("V5.5", where, "entry after the result")
            return
        # V5.4 authorship
        want_role = TYPES[e.type][1]
        if e.role != want_role:
            rep.fail("V5.4", where, "role %d, type needs %d" % (e.role, want_role))
            return
        author_idx = None
        if e.role == 1 and e.author_b != m.authority_b:
            rep.fail("V5.4", where, "author is not the election authority")
            return
        if e.role == 2 and e.author_b != m.ca_b:
            rep.fail("V5.4", where, "author is not the credential authority")
            return
        if e.role == 3:
            for i, t in enumerate(m.trustees):
                if t[2] == e.author_b:
                    author_idx = i + 1
            if author_idx is None:
                rep.fail("V5.4", where, "author is not a trustee of the manifest")
                return
        if e.role == 4 and (self.creds is None or e.author_b not in self.creds):
            rep.fail("V5.4", where, "author is not a registered credential")
            return
        if self.phase not in PHASE_OF_TYPE[e.type]:
            rep.fail("V5.5", where, "%s not accepted in phase %d" % (e.name, self.phase))
            return
        werr = window_error(m, e.type, self.block_time)
        if werr:
            rep.fail("V5.7", where, werr)
            return
        # envelope signature (V1.4): reported under V8.5 / V9.1 / V5
        sig_ok = envelope_ok(e)
        if not sig_ok and e.type not in (8, 9, 13):
            rep.fail("V5", where, "envelope signature invalid (V1.4)")
            return
        handler = getattr(self, "on_" + e.name.replace("-", "_"))
        accepted = handler(seq, e, where, author_idx, sig_ok)
        if accepted:
            self.ids.add(eid)

    def entry0(self, e, where):
        rep = self.rep
        if e.type != 1:
            rep.fail("V5.1", where, "entry 0 is not a manifest")
            return
        rep.run("V4")
        try:
            m = decode_manifest(e.body)
        except Malformed as x:
            rep.fail("V4.1", where, str(x))
            return
        if e.role != 1 or e.author_b != m.authority_b:
            rep.fail("V4.4", where, "manifest not authored by its authority key")
            return
        if e.election != m.fp:
            rep.fail("V4.5", where, "envelope fingerprint != manifest fingerprint")
            return
        if not envelope_ok(e):
            rep.fail("V4.4", where, "manifest envelope signature invalid")
            return
        self.m = m
        if not m.mixed:
            for st in ("V14", "V15", "V16"):
                self.rep.run(st)
            self.rep.info.append("V14-V16 skipped: the manifest has no mixed question")
        self.ids.add(digest("board-entry", [e.raw]))
        self.phase = PH_SETUP
        self.rep.info.append("manifest: election %s, fingerprint %s, %d questions, %d trustees (t=%d), %d board nodes (quorum %d)" % (
            m.election_id, m.fp.hex(), len(m.questions), len(m.trustees), m.threshold, len(m.nodes), m.quorum))
        if m.version == 4:
            self.rep.info.append("manifest version 4: languages %s; window [%d, %d) ms (0: none), manual close %s" % (
                ",".join(m.languages) or "-", m.opens_at, m.closes_at, "allowed" if m.manual else "not allowed"))

    def on_credentials(self, seq, e, where, _a, _s):
        self.rep.run("V6")
        try:
            creds = decode_credentials(e.body)
        except Malformed as x:
            self.rep.fail("V1.6", where, "credential list: %s" % x)  # also V6.2
            self.rep.fail("V6.2", where, str(x))
            return False
        creds, roll = creds
        if not self.unit_weights(where, creds):
            return False
        self.creds = dict(creds)  # credential bytes -> weight
        self.phase = PH_KC
        self.rep.run("V7")
        self.rep.info.append("V6.3 credential list: N = %d public credentials, total weight %d%s" % (
            len(creds), sum(self.creds.values()), "" if roll is None else ", roll fingerprint " + roll.hex()))
        return True

    def unit_weights(self, where, creds):
        """§11.2: with a mixed question every weight is 1 (V5)."""
        if self.m.mixed and any(w != 1 for _, w in creds):
            self.rep.fail("V5.6", where, "a weight other than 1 in an election with mixed questions (§11.2)")
            return False
        return True

    def on_late_credentials(self, seq, e, where, _a, _s):
        """§3.9 late-credentials row, V6.4: new credentials, before the close."""
        self.rep.run("V6")
        try:
            creds, roll = decode_credentials(e.body)
        except Malformed as x:
            self.rep.fail("V1.6", where, "late credentials: %s" % x)
            return False
        if not self.unit_weights(where, creds):
            return False
        if len(self.creds) + len(creds) > 2**20:
            self.rep.fail("V6.4", where, "more than 2^20 credentials in all")
            return False
        for c, _ in creds:
            if c in self.creds:
                self.rep.fail("V6.4", where, "credential %s already registered" % c[:6].hex())
                return False
        self.creds.update(creds)
        self.rep.info.append("V6.4 late credentials at seq %d: %d more (weight %d), N = %d%s" % (
            seq, len(creds), sum(w for _, w in creds), len(self.creds),
            "" if roll is None else ", roll fingerprint " + roll.hex()))
        return True

    def trustee_post(self, step, e, where, a, decode, what, trustee, posted):
        """Runs step and decodes the body of a trustee's post; returns it, or
        None when it does not decode (V1.6), or when the trustee it names,
        trustee(body), is not its author a or a is already in posted (V5.6)."""
        self.rep.run(step)
        body = self.decode_body(e, where, decode, what)
        if body is None:
            return None
        j = trustee(body)
        if j != a or a in posted:
            self.rep.fail("V5.6", where, "%s of trustee %d: not its author %s, or already posted" % (what, j, a))
            return None
        return body

    def on_dkg_deal(self, seq, e, where, a, _s):
        rep = self.rep
        m = self.m
        d = self.trustee_post("V7", e, where, a, decode_deal, "dealer post", lambda d: d.dealer, self.deals)
        if d is None:
            return False
        self.deals[a] = d
        N, T = len(m.trustees), m.threshold
        valid = True
        if len(d.C) != T:
            rep.fail("V7.2", where, "%d commitments, threshold is %d" % (len(d.C), T))
            valid = False
        elif d.recipients != [j for j in range(1, N + 1) if j != a]:
            rep.fail("V7.2", where, "encrypted shares are not for every other trustee")
            valid = False
        else:
            c = challenge("dlog-proof", [m.fp, u64(N), u64(T), u64(a)] + d.C_b + [d.R_b])
            if not (G * d.z).r_eq(d.R + d.C[0] * c):
                rep.fail("V7.3", where, "proof of knowledge of a_%d0 false" % a)
                valid = False
        self.deal_valid[a] = valid
        return True

    def on_dkg_confirmation(self, seq, e, where, a, _s):
        body = self.decode_body(e, where, decode_confirmation, "confirmation")
        if body is None:
            return False
        t, ds = body
        if t != a or a in self.confirmed or any(i not in self.deals or i == a for i in ds):
            self.rep.fail("V5.6", where, "confirmation rules")
            return False
        self.confirmed.add(a)
        return True

    def on_dkg_complaint(self, seq, e, where, a, _s):
        self.rep.run("V7")
        body = self.decode_body(e, where, decode_complaint, "complaint")
        if body is None:
            return False
        i, j = body
        if j != a or i == a or i not in self.deals or j in self.complaints.get(i, set()):
            self.rep.fail("V5.6", where, "complaint rules")
            return False
        if i > len(self.m.trustees):
            self.rep.fail("V7.4", where, "dealer index %d out of range" % i)
        self.complaints.setdefault(i, set()).add(j)
        return True

    def on_dkg_reveal(self, seq, e, where, a, _s):
        rep = self.rep
        rep.run("V7")
        body = self.decode_body(e, where, decode_reveal, "reveal")
        if body is None:
            return False
        i, j, s = body
        if i != a or j not in self.complaints.get(a, set()) or (i, j) in self.answered:
            rep.fail("V5.6", where, "reveal rules")
            return False
        if j > len(self.m.trustees):
            rep.fail("V7.4", where, "complainer index %d out of range" % j)
        self.answered.add((i, j))
        d = self.deals[i]
        ok = (G * s).r_eq(eval_commitments(d.C, j))
        if not ok:
            rep.fail("V7.5", where, "revealed share s_%d%d does not match the commitments" % (i, j))
        self.reveal_valid[(i, j)] = ok
        return True

    def on_open(self, seq, e, where, a, _s):
        rep = self.rep
        rep.run("V7")
        m = self.m
        N, T = len(m.trustees), m.threshold
        body = self.decode_body(e, where, decode_open, "open")
        if body is None:
            return False
        K, Kb, qual_body = body
        # rules' QUAL (§3.9.2)
        rq = [i for i in sorted(self.deals)
              if len(self.complaints.get(i, set())) < T
              and all((i, j) in self.answered for j in self.complaints.get(i, set()))]
        # V7.6 QUAL
        qual = []
        excluded = []
        for i in range(1, N + 1):
            if i not in self.deals:
                excluded.append((i, "no post"))
            elif not self.deal_valid[i]:
                excluded.append((i, "V7.2/V7.3"))
            elif len(self.complaints.get(i, set())) >= T:
                excluded.append((i, "T or more complaints"))
            elif not all((i, j) in self.answered for j in self.complaints.get(i, set())):
                excluded.append((i, "unanswered complaint"))
            elif not all(self.reveal_valid.get((i, j)) for j in self.complaints.get(i, set())):
                excluded.append((i, "invalid reveal"))
            else:
                qual.append(i)
        for i, why in excluded:
            rep.info.append("V7.6 dealer %d excluded from QUAL: %s" % (i, why))
        rules_ok = True
        if len(rq) < T or qual_body != rq:
            rules_ok = False
        Kr = IDENTITY
        for i in rq:
            Kr = Kr + self.deals[i].C[0]
        if not rules_ok or not Kr.r_eq(K):
            rep.fail("V5.6", where, "open body QUAL/K differ from the rules' QUAL %s" % rq)
        if len(qual) < T:
            rep.fail("V7.6", where, "QUAL %s has fewer than T=%d members" % (qual, T))
        if qual_body != qual:
            rep.fail("V7.6", where, "open body QUAL %s != recomputed QUAL %s" % (qual_body, qual))
        Kv = IDENTITY
        for i in qual:
            Kv = Kv + self.deals[i].C[0]
        if Kv.is_r_identity() or not Kv.r_eq(K):
            rep.fail("V7.7", where, "open body joint key != sum of QUAL's C_i0")
        if not rules_ok or not Kr.r_eq(K):
            return False
        # V7.8
        self.qual = qual
        self.K, self.K_b = Kv, Kv.encode()
        sums = []
        for k in range(T):
            acc = IDENTITY
            for i in qual:
                acc = acc + self.deals[i].C[k]
            sums.append(acc)
        self.X = {j: eval_commitments(sums, j) for j in range(1, N + 1)}
        self.phase = PH_OPEN
        self.aggregate = [[(IDENTITY, IDENTITY)] * n for n in m.O]
        rep.info.append("V7 QUAL = %s, joint key K = %s" % (qual, self.K_b.hex()))
        return True

    # --- ballots -------------------------------------------------------------
    def verify_ballot(self, x, e, where, sig_ok, step):
        """V8.2–V8.7 (step = "V8" or "V9.1"). Returns True if valid."""
        rep = self.rep
        m = self.m
        sub = (lambda s: "V8." + s) if step == "V8" else (lambda s: "V9.1")
        pre = _NoPrefix() if step == "V8" else "V8.%s: "
        if x.version != (2 if m.version == 3 else 1):
            rep.fail(sub("3"), where, (pre % "3") + "ballot version %d under a version-%d manifest" % (x.version, m.version))
            return False
        if x.version == 2:
            return self.verify_kinds(x, e, where, sig_ok, step)
        if x.fp != m.fp:
            rep.fail(sub("2"), where, (pre % "2") + "ballot fingerprint is not the manifest's")
            return False
        if len(x.questions) != len(m.questions):
            rep.fail(sub("3"), where, (pre % "3") + "ballot has %d questions" % len(x.questions))
            return False
        for q, ((opts, rng), (_, mo, mn, mx)) in enumerate(zip(x.questions, m.questions)):
            if len(opts) != len(mo) or len(rng) != mx - mn + 1:
                rep.fail(sub("3"), where, (pre % "3") + "question %d shape differs from the manifest" % q)
                return False
        if x.cred_b not in self.creds or x.cred_b != e.author_b:
            rep.fail(sub("4"), where, (pre % "4") + "credential not registered or not the author")
            return False
        if not sig_ok:
            rep.fail(sub("5"), where, (pre % "5") + "envelope signature invalid")
            return False
        K, Kb = self.K, self.K_b
        for q, ((opts, rng), (_, mo, mn, mx)) in enumerate(zip(x.questions, m.questions)):
            A, B = IDENTITY, IDENTITY
            cts = []
            for i, (a, ab, b, bb, br) in enumerate(opts):
                prefix = [m.fp, Kb, x.cred_b, u64(q), u64(i), ab, bb]
                bad = verify_disjunctive("disjunctive-proof", prefix, a, b, K, [0, 1], br)
                if bad:
                    s6 = "6." + bad[0]
                    rep.fail(sub(s6), where, (pre % s6) + "question %d option %d%s: %s" % (
                        q, i, "" if bad[1] is None else " branch %d" % bad[1], bad[2]))
                    return False
                A, B = A + a, B + b
                cts += [ab, bb]
            prefix = [m.fp, Kb, x.cred_b, u64(q), u64(mn), u64(mx)] + cts
            bad = verify_disjunctive("range-proof", prefix, A, B, K, list(range(mn, mx + 1)), rng)
            if bad:
                s7 = "7." + bad[0]
                rep.fail(sub(s7), where, (pre % s7) + "question %d%s: %s" % (
                    q, "" if bad[1] is None else " branch %d" % bad[1], bad[2]))
                return False
        return True

    def verify_kinds(self, x, e, where, sig_ok, step):
        """verify_ballot for a version-2 ballot (§12.7)."""
        rep = self.rep

        def fail(sub, msg):
            rep.fail(sub if step == "V8" else "V9.1", where, msg if step == "V8" else "%s: %s" % (sub, msg))
            return False
        try:
            kinds_shape(self.m, x)
        except KindFail as err:
            return fail(err.step, str(err))
        if x.cred_b not in self.creds or x.cred_b != e.author_b:
            return fail("V8.4", "credential not registered or not the author")
        if not sig_ok:
            return fail("V8.5", "envelope signature invalid")
        try:
            kinds_proofs(self.m, self.K, self.K_b, x)
        except KindFail as err:
            return fail(err.step, str(err))
        return True

    def on_ballot(self, seq, e, where, a, sig_ok):
        rep = self.rep
        rep.run("V8")
        rep.run("V10")
        x = self.decode_body(e, where, decode_any_ballot, "ballot", "V8.1")
        if x is None:
            return False
        if x.cred_b != e.author_b:
            rep.fail("V5.6", where, "ballot credential is not the author")
            rep.fail("V8.4", where, "ballot credential is not the author")
            return False
        if not self.take_tracker(where, x.tracker):
            self.stats["rejected"] += 1
            return False
        # accepted by the rules
        valid = self.verify_ballot(x, e, where, sig_ok, "V8")
        # V10
        if not valid:
            self.stats["invalid"] += 1
            return True
        if x.tracker in self.burnt:
            self.stats["rejected"] += 1
            return True
        self.burnt.add(x.tracker)
        old = self.counted.get(x.cred_b)
        if old is not None:
            self.stats["superseded"] += 1
        self.counted[x.cred_b] = (seq, x)
        return True

    def decode_body(self, e, where, decode, what, step=None):
        """decode(e.body), or None for a body that does not decode: that fails
        V1.6 and, when given, step (the entry then counts as invalid)."""
        try:
            return decode(e.body)
        except Malformed as err:
            if step is None:
                self.rep.fail("V1.6", where, "%s: %s" % (what, err))
            else:
                self.malformed(where, what, step, err)
            return None

    def malformed(self, where, what, step, err):
        """A body that does not decode: V1.6 and step fail, and the entry is invalid."""
        self.rep.fail("V1.6", where, "%s: %s" % (what, err))
        self.rep.fail(step, where, str(err))
        self.stats["invalid"] += 1

    def take_tracker(self, where, tracker):
        """V5.6: a tracker stands once on the board (ballots and audits alike)."""
        if tracker in self.trackers:
            self.rep.fail("V5.6", where, "tracker already on the board")
            return False
        self.trackers.add(tracker)
        return True

    def count_audit(self, tracker, valid):
        """Counts an audit: a valid one burns its tracker."""
        if valid:
            self.burnt.add(tracker)
            self.stats["audited"] += 1
        else:
            self.stats["invalid"] += 1

    def audit_room(self, where):
        """§3.9: at most N + 64 audits (both kinds) per election."""
        if self.n_audits >= len(self.creds) + 64:
            self.rep.fail("V5.6", where, "audit beyond the election's cap of %d" % (len(self.creds) + 64))
            return False
        return True

    def check_opening(self, seq, where, cts, opening, tracker):
        """V9.2-V9.4 on ciphertexts [(alpha, beta)] per question."""
        rep, m = self.rep, self.m
        chosen = []
        for q, (row_ct, row, (_, mo, mn, mx)) in enumerate(zip(cts, opening, m.questions)):
            k = sum(mm for mm, _ in row)
            if not (mn <= k <= mx):
                rep.fail("V9.2", where, "question %d: %d selections not in [%d, %d]" % (q, k, mn, mx))
                return False
            for i, ((a_, b_), (mm, r)) in enumerate(zip(row_ct, row)):
                if not (G * r).r_eq(a_) or not (G * mm + self.K * r).r_eq(b_):
                    rep.fail("V9.3", where, "question %d option %d does not re-encrypt" % (q, i))
                    return False
            chosen.append([i for i, (mm, _) in enumerate(row) if mm])
        rep.info.append("V9.4 audited ballot at seq %d (tracker %s): selections %s" % (
            seq, tracker.hex()[:16], chosen))
        return True

    def audit_entry(self, e, where, decode, what):
        """The start of V9 for an audit or audited ballot: the §3.9 cap, then
        the body (None when refused or malformed)."""
        self.rep.run("V9")
        if not self.audit_room(where):
            return None
        return self.decode_body(e, where, decode, what, "V9.1")

    def admit_audit(self, where, x, named=True):
        """§3.9 for audit x: it names this election (V4.5; the audit rows,
        named), its tracker stands once on the board, and it counts towards
        the cap."""
        if named and x.fp != self.m.fp:
            self.rep.fail("V4.5", where, "audit names another election")
            return False
        if not self.take_tracker(where, x.tracker):
            return False
        self.n_audits += 1
        return True

    def on_audit(self, seq, e, where, a, sig_ok):
        rep = self.rep
        m = self.m
        if e.author_b in self.creds or e.author_b in (m.authority_b, m.ca_b) or any(t[2] == e.author_b for t in m.trustees):
            rep.run("V9")
            rep.fail("V5.4", where, "audit signed by a credential or a party's key")
            return False
        if m.version == 3:
            return self.on_audit2(seq, e, where, sig_ok)
        x = self.audit_entry(e, where, decode_audit, "audit")
        if x is None:
            return False
        if not self.admit_audit(where, x):
            return False
        valid = sig_ok
        if not sig_ok:
            rep.fail("V9.1", where, "envelope signature invalid")
        elif len(x.cts) != len(m.questions) or any(len(row) != len(q[1]) for row, q in zip(x.cts, m.questions)):
            rep.fail("V9.1", where, "audit shape is not the manifest's")
            valid = False
        else:
            valid = self.check_opening(seq, where, [[(al, be) for (al, _, be, _) in row] for row in x.cts], x.opening, x.tracker)
        self.count_audit(x.tracker, valid)
        return True

    def on_audit2(self, seq, e, where, sig_ok):
        """An audit of a version-3 election (§12.10): audit2, V9.1-V9.4."""
        rep, m = self.rep, self.m
        rep.run("V9")
        if not self.audit_room(where):
            return False
        try:
            x, answers, rands = decode_audit2(e.body)
        except Malformed as err:
            if decodes_as(decode_audit, e.body):
                # "Which layout": the rules decode audit2 only (§10.4)
                rep.fail("V5.6", where, "a §7.3 audit in an election with a version-3 manifest")
                rep.fail("V9.1.1", where, "the body is a §7.3 audit, not audit2")
            else:
                self.malformed(where, "audit", "V9.1.1", err)
            return False
        if not self.admit_audit(where, x):
            return False
        valid = False
        try:
            if not sig_ok:
                raise KindFail("V9.1", "envelope signature invalid")
            audit2_shape(m, x)
            check_kinds_opening(m, self.K, x, answers, rands)
            valid = True
            rep.info.append("V9.4 audit at seq %d (tracker %s): answers %s" % (seq, x.tracker.hex()[:16], answers))
        except KindFail as err:
            rep.fail(err.step, where, str(err))
        self.count_audit(x.tracker, valid)
        return True

    def on_audited_ballot(self, seq, e, where, a, sig_ok):
        rep = self.rep
        body = self.audit_entry(e, where, decode_audited, "audited ballot")
        if body is None:
            return False
        x, opening = body
        if x.cred_b != e.author_b:
            rep.fail("V5.6", where, "audited ballot credential is not the author")
            return False
        if not self.admit_audit(where, x, named=False):
            return False
        valid = self.verify_ballot(x, e, where, sig_ok, "V9")
        if valid and x.version == 2:
            try:
                check_kinds_opening(self.m, self.K, x, *opening)
                rep.info.append("V9.4 audited ballot at seq %d (tracker %s): answers %s" % (
                    seq, x.tracker.hex()[:16], opening[0]))
            except KindFail as err:
                rep.fail(err.step, where, str(err))
                valid = False
        elif valid:
            cts = [[(a_, b_) for (a_, _, b_, _, _) in opts] for (opts, _) in x.questions]
            valid = self.check_opening(seq, where, cts, opening, x.tracker)
        self.count_audit(x.tracker, valid)
        return True

    def on_close(self, seq, e, where, a, _s):
        if self.decode_body(e, where, decode_close, "close") is None:
            return False
        self.phase = PH_CLOSED
        for st in ("V8", "V9"):  # voting is over: vacuously passing if no such entry
            self.rep.run(st)
        self.settle_aggregate()
        return True

    def settle_aggregate(self):
        """V10 and V11 at the close entry."""
        rep = self.rep
        rep.run("V10")
        rep.run("V11")
        m = self.m
        self.aggregate = weighted_aggregate(m.O, [x for (_, x) in self.counted.values()],
                                            lambda x: self.creds[x.cred_b])
        self.maxcount = sum(self.creds[c] for c in self.counted)  # V10.6
        self.stats["counted"] = len(self.counted)
        rep.info.append("V10 ballots: counted %(counted)d, superseded %(superseded)d, invalid %(invalid)d, "
                        "audited %(audited)d, rejected %(rejected)d" % self.stats)
        rep.info.append("V10.6 maxCount = %d; counted seqs %s" % (
            self.maxcount, sorted(s for s, _ in self.counted.values())))
        # §11.1: the first input of each mixed question, the counted ballots'
        # rows (§12.5) in board order
        ballots = [x for _, x in sorted(self.counted.values(), key=lambda sx: sx[0])]
        for q in m.mixed:
            rows = [[a.encode() + b.encode() for a, b in mix_row(x.questions[q])] for x in ballots]
            self.mix[q] = SimpleNamespace(rows=rows, positions=0, shufflers=set(), decs={})

    # --- tally ---------------------------------------------------------------
    def on_partial_decryption(self, seq, e, where, a, _s):
        rep = self.rep
        m = self.m
        body = self.trustee_post("V12", e, where, a, decode_partial, "partial decryption", lambda b: b[0], self.partials)
        if body is None:
            return False
        j, qs = body
        self.phase = PH_TALLY
        valid = True
        if [len(row) for row in qs] != m.O:
            rep.fail("V12.1", where, "shape differs from the manifest")
            valid = False
        else:
            Xj = self.X[j]
            Xjb = Xj.encode()
            for q, row in enumerate(qs):
                for o, (D, Db, a_, ab, b_, bb, z) in enumerate(row):
                    A, B = self.aggregate[q][o]
                    c = challenge("decryption-proof", [m.fp, u64(j), Xjb, u64(q), u64(o),
                                                       A.encode(), B.encode(), Db, ab, bb])
                    if not (G * z).r_eq(a_ + Xj * c) or not (A * z).r_eq(b_ + D * c):
                        rep.fail("V12.3", where, "trustee %d factor (q=%d, o=%d) proof false" % (j, q, o))
                        valid = False
                        break
                if not valid:
                    break
        self.partials[j] = (valid, qs)
        return True

    def on_result(self, seq, e, where, a, _s):
        rep = self.rep
        rep.run("V13")
        m = self.m
        if len(self.partials) < m.threshold:
            rep.fail("V5.6", where, "result with fewer than T partial decryptions on the board")
            return False
        short = [q for q in m.mixed if len(self.mix[q].decs) < m.threshold]
        if short:
            rep.fail("V5.6", where, "result before T mix decryptions of mixed question(s) %s (§11.2)" % short)
            return False
        body = self.decode_body(e, where, lambda b: decode_result(b, bool(m.mixed)), "result")
        if body is None:
            return False
        ts, counts, self.mixed_answers = body
        self.phase = PH_RESULT
        self.rep.run("V12")
        self.results.append((seq, where, ts, counts, e.body))
        return True

    # --- mixed questions (§11) ---------------------------------------------
    def mix_entry(self, step, e, where, decode, what, refusal):
        """Runs step (V14 or V15) and decodes a shuffle or mix-decryption
        body; returns it and its question's cascade, or None when it does
        not decode (V1.6), its question is not mixed (V5.6 and step.1) or
        the rules of §11.2 refuse it (V5.6: refusal(x, cascade) says why)."""
        self.rep.run(step)
        x = self.decode_body(e, where, decode, what)
        if x is None:
            return None
        st = self.mix.get(x.q)
        if st is None:
            self.rep.fail("V5.6", where, "%s of question %d, not a mixed question" % (what, x.q))
            self.rep.fail(step + ".1", where, "question %d is not a mixed question" % x.q)
            return None
        why = refusal(x, st)
        if why:
            self.rep.fail("V5.6", where, "%s of question %d by trustee %d: %s (§11.2)" % (what, x.q, x.trustee, why))
            return None
        return x, st

    def on_shuffle(self, seq, e, where, a, _s):
        """§11.2 shuffle row (V5), then V14.1-V14.3."""
        rep, m = self.rep, self.m
        got = self.mix_entry("V14", e, where, decode_shuffle_entry, "shuffle", lambda x, st: (
            x.trustee != a or a in st.shufflers or x.position != st.positions + 1 or st.decs) and
            "position %d, author %d, %d shuffles and %d decryptions accepted" % (
                x.position, a, st.positions, len(st.decs)))
        if got is None:
            return False
        x, st = got
        st.shufflers.add(a)
        st.positions += 1
        what = "question %d position %d" % (x.q, x.position)
        current = mix_input(m.fp, x.q, x.w, st.rows)
        if x.n != len(st.rows) or x.w != m.width[x.q]:
            rep.fail("V14.2", where, "%s: %d rows of width %d, its input has %d rows of width %d" % (
                what, x.n, x.w, len(st.rows), m.width[x.q]))
        elif x.input != current:
            rep.fail("V14.2", where, "%s: stale input: shuffled rows %s, the current input is %s" % (
                what, x.input.hex(), current.hex()))
        else:
            try:
                verify_shuffle(mix_context(m.fp, x.q, a, x.position), self.K_b, x.w, st.rows, x.rows, x.proof)
            except ShuffleFail as err:
                rep.fail("V14.3", where, "%s: %s" % (what, err))
            st.rows = x.rows  # the next input is the output as posted (V14.2)
        return True

    def on_mix_decryption(self, seq, e, where, a, _s):
        """§11.2 mix-decryption row (V5), then V15.1-V15.2."""
        rep, m = self.rep, self.m
        got = self.mix_entry("V15", e, where, decode_mix_decryption, "mix decryption", lambda x, st: (
            x.trustee != a or st.positions < m.threshold or a in st.decs) and
            "author %d, %d shuffles (T = %d), decrypted already: %s" % (a, st.positions, m.threshold, a in st.decs))
        if got is None:
            return False
        x, st = got
        valid = True
        if (x.n, x.w) != (len(st.rows), m.width[x.q]):
            rep.fail("V15.2", where, "question %d trustee %d: shares of %d x %d, the last rows are %d x %d" % (
                x.q, a, x.n, x.w, len(st.rows), m.width[x.q]))
            valid = False
        elif not verify_mix_decryption(m.fp, x.q, a, self.X[a], st.rows, x):
            rep.fail("V15.2", where, "question %d trustee %d: the batched proof of the shares is false" % (x.q, a))
            valid = False
        st.decs[a] = (valid, x.shares)
        return True

    def finish_mixed(self, where):
        """V16.1-V16.3 at the result: decrypt, decode and compare the mixed
        answers. Returns {q: answers} when they verify."""
        rep, m = self.rep, self.m
        rep.run("V16")
        got = self.mixed_answers or []
        if [(q, k) for q, k, _, _ in got] != [(q, m.kinds[q]) for q in m.mixed]:
            rep.fail("V16.3", where, "the result lists sections %s, the manifest's mixed questions are %s" % (
                [(q, k) for q, k, _, _ in got], [(q, m.kinds[q]) for q in m.mixed]))
            return None
        out = {}
        T = m.threshold
        for (q, kind, seats, listed) in got:
            if seats != m.seats.get(q):
                rep.fail("V16.3", where, "question %d: the result counts STV for %s seats, the manifest fixes %s" % (
                    q, seats, m.seats.get(q)))
                return None
            st = self.mix[q]
            if st.positions < T:
                rep.fail("V16.1", where, "question %d: %d shuffles, T = %d" % (q, st.positions, T))
                return None
            S = sorted(j for j, (ok, _) in st.decs.items() if ok)[:T]
            if len(S) < T:
                rep.fail("V16.1", where, "question %d: %d valid mix decryptions, T = %d" % (q, len(S), T))
                return None
            lam = {j: lagrange(S, j) for j in S}
            _, _, mn, mx = m.questions[q]
            answers = []
            for i, row in enumerate(st.rows):
                elems = []
                for k, ct in enumerate(row):
                    M = r255.decode(ct[32:])
                    for j in S:
                        M = M - st.decs[j][1][i][k][0] * lam[j]
                    elems.append(M)
                try:
                    answers.append(decode_row(kind, mn, mx, elems))
                except (ValueError, UnicodeDecodeError) as err:
                    if kind != KIND_WRITE_IN:
                        rep.fail("V16.2", where, "question %d row %d does not decode: %s" % (q, i + 1, err))
                        return None
                    answers.append(None)
            if answers != listed:
                diff = next((i for i, (a_, b_) in enumerate(zip(answers, listed)) if a_ != b_), min(len(answers), len(listed)))
                rep.fail("V16.3", where, "question %d: the result lists %d answers, the rows decrypt to %d; first "
                         "difference at row %d" % (q, len(listed), len(answers), diff + 1))
                return None
            out[q] = answers
            import json
            rep.info.append("V16.4 question %d: %s" % (q, json.dumps(outcomes(m, q, answers), sort_keys=True)))
            rep.info.append("V16 question %d (%s): %d answers, decrypted by trustees %s after %d shuffles%s" % (
                q, ["", "ranked", "score", "write-in"][kind], len(answers), S, st.positions,
                "" if kind != KIND_WRITE_IN else ", %d invalid write-ins" % answers.count(None)))
        return out

    def finish_tally(self):
        rep = self.rep
        m = self.m
        if m is None:
            return
        for s in ("V7", "V8", "V9", "V10", "V11", "V12", "V13"):
            pass
        if not self.results:
            return
        seq, where, ts, counts, body = self.results[0]
        if m.mixed:
            rep.run("V14")
            rep.run("V15")
            self.outcomes = self.finish_mixed(where)
        self.finish_select(where, ts, counts, body)

    def finish_select(self, where, ts, counts, body):
        """V13 on the result's counts."""
        rep, m = self.rep, self.m
        rep.run("V13")
        T = m.threshold
        valid = sorted(j for j, (ok, _) in self.partials.items() if ok)
        if len(valid) < T:
            rep.fail("V13.1", where, "only %d valid partial decryptions (T = %d)" % (len(valid), T))
            return
        S = valid[:T]
        if ts != S:
            rep.fail("V13.2", where, "result trustees %s != T smallest valid %s" % (ts, S))
            return
        if [len(r) for r in counts] != m.O:
            rep.fail("V13.3", where, "counts shape differs from the manifest")
            return
        lam = {j: lagrange(S, j) for j in S}
        ok = True
        for q, row in enumerate(counts):
            for o, cnt in enumerate(row):
                if cnt > self.maxcount:
                    rep.fail("V13.4", where, "count[%d][%d] = %d > maxCount %d" % (q, o, cnt, self.maxcount))
                    ok = False
                    continue
                A, B = self.aggregate[q][o]
                Mq = B
                for j in S:
                    Mq = Mq - self.partials[j][1][q][o][0] * lam[j]
                if not (G * cnt).r_eq(Mq):
                    rep.fail("V13.4", where, "count[%d][%d] = %d: count*G != B - sum(lambda*D)" % (q, o, cnt))
                    ok = False
        if ok:
            rd = digest("result", [m.fp, body])
            rep.info.append("V13 result (trustees %s): counts %s; result digest %s" % (S, counts, rd.hex()))

# --------------------------------------------------------------------------
# SPEC.md §11: mixed questions on the board (shuffle and mix-decryption
# entries, the mixed answers of the result, V14-V16)


def mix_context(fp, q, j, p):
    """§11.1: the context of trustee j's shuffle of question q at position p."""
    return transcript([b"urna/v1/mix-context", fp, u64(q), u64(j), u64(p)])


def mix_input(fp, q, w, rows):
    """§11.3: the name of a shuffle's input rows (lists of 64-byte
    ciphertexts of width w) of question q."""
    return digest("mix-input", [fp, u64(q), u64(len(rows)), u64(w)] + [b"".join(row) for row in rows])


def decode_shuffle_entry(b):
    """§11.3: u16 question, u16 trustee, u16 position, the 32-byte name of
    its input rows, u32 N, u32 w, N x w ciphertexts (64 bytes each,
    canonical components, identity allowed), then the proof (§13.5) for the
    same N and w. Rows stay bytes."""
    r = Reader(b)
    x = SimpleNamespace()
    x.q = r.u16()
    x.trustee = idx(r, "shuffle trustee")
    x.position = idx(r, "shuffle position")
    x.input = r.raw(32)
    x.n, x.w = r.u32(), r.u32()
    if x.n > SHUFFLE_MAX_ROWS or not 1 <= x.w <= SHUFFLE_MAX_WIDTH:
        raise Malformed("shuffle of N = %d rows of width %d out of bounds" % (x.n, x.w))
    size = 64 * x.n * x.w + 8 + 32 * (5 * x.n + 6 + 3 * x.w)
    if r.left() != size:
        raise Malformed("shuffle body has %d bytes after its header, N = %d and w = %d need %d" % (
            r.left(), x.n, x.w, size))
    x.rows = []
    for _ in range(x.n):
        row = []
        for _ in range(x.w):
            ct = r.raw(64)
            try:
                r255.decode(ct[:32])
                r255.decode(ct[32:])
            except DecodeError as err:
                raise Malformed("shuffle row element: %s" % err)
            row.append(ct)
        x.rows.append(row)
    x.proof = r.raw(r.left())
    try:
        decode_shuffle_proof(x.proof, x.n, x.w)
    except ShuffleFail as err:
        raise Malformed("shuffle proof: %s" % err)
    return x


def decode_mix_decryption(b):
    """§11.4: u16 question, u16 trustee, u32 N, u32 w, N x w shares D_ik
    (canonical elements), c, s (canonical scalars); exactly
    12 + 32·(N·w + 2) bytes."""
    r = Reader(b)
    x = SimpleNamespace()
    x.q = r.u16()
    x.trustee = idx(r, "mix-decryption trustee")
    x.n, x.w = r.u32(), r.u32()
    if x.n > SHUFFLE_MAX_ROWS or not 1 <= x.w <= SHUFFLE_MAX_WIDTH:
        raise Malformed("mix decryption of N = %d rows of width %d out of bounds" % (x.n, x.w))
    if len(b) != 12 + 32 * (x.n * x.w + 2):
        raise Malformed("mix decryption of %d bytes, N = %d and w = %d need %d" % (
            len(b), x.n, x.w, 12 + 32 * (x.n * x.w + 2)))
    x.shares = [[r.elem(True, "share D") for _ in range(x.w)] for _ in range(x.n)]
    x.c = r.scalar("mix-decryption c")
    x.s = r.scalar("mix-decryption s")
    r.end()
    return x


def verify_mix_decryption(fp, q, j, Xj, rows, x):
    """§11.4: the batched Chaum-Pedersen proof of trustee j's shares x.shares
    of rows (lists of 64-byte ciphertexts). True iff it verifies."""
    items = [fp, u64(q), u64(j), Xj.encode(), u64(x.n), u64(x.w)]
    for row, shares in zip(rows, x.shares):
        items.append(b"".join(ct[:32] + db for ct, (_, db) in zip(row, shares)))
    seed = digest("mix-decryption-seed", items)
    A, D = IDENTITY, IDENTITY
    for i, (row, shares) in enumerate(zip(rows, x.shares)):
        for k, (ct, (Dik, _)) in enumerate(zip(row, shares)):
            z = challenge("mix-decryption-coeff", [seed, u64(i + 1), u64(k + 1)])
            A, D = A + r255.decode(ct[:32]) * z, D + Dik * z
    T1 = G * x.s - Xj * x.c
    T2 = A * x.s - D * x.c
    return x.c == challenge("mix-decryption-proof", [seed, A.encode(), D.encode(), T1.encode(), T2.encode()])


def decode_mixed_answers(r):
    """§11.5: u32 M (>= 1), M x (u16 q, u8 kind, [u8 seats], u32 N, N
    answers), q increasing, seats (1..63) for a ranked question only.
    Returns (q, kind, seats or None, answers). Answers: a ranking (list),
    scores (list), a write-in text (str) or None (flag 0, a row that did
    not decode)."""
    nm = r.count(1, 64, "mixed answer sections", 7)
    out = []
    for _ in range(nm):
        q = r.u16()
        if out and q <= out[-1][0]:
            raise Malformed("mixed answer sections not in increasing question order")
        kind = r.u8()
        if kind not in (KIND_RANKED, KIND_SCORE, KIND_WRITE_IN):
            raise Malformed("mixed answer kind %d" % kind)
        seats = None
        if kind == KIND_RANKED:
            seats = r.u8()
            if not 1 <= seats <= 63:
                raise Malformed("question %d: the result's STV elects %d seats" % (q, seats))
        n = r.count(0, SHUFFLE_MAX_ROWS, "mixed answers", 1)
        answers = []
        for _ in range(n):
            if kind == KIND_WRITE_IN:
                flag = r.u8()
                if flag > 1:
                    raise Malformed("write-in flag %d" % flag)
                if flag == 0:
                    answers.append(None)
                    continue
                t = r.raw(r.u8())
                try:
                    answers.append(t.decode("utf-8"))
                except UnicodeDecodeError:
                    raise Malformed("write-in answer is not UTF-8")
                continue
            vals = list(r.raw(r.u8()))
            if kind == KIND_RANKED and len(set(vals)) != len(vals):
                raise Malformed("a ranking lists an option twice")
            answers.append(vals)
        out.append((q, kind, seats, answers))
    return out


# --------------------------------------------------------------------------
# SPEC.md §11.8: counting methods over the verified answers (V16.4). Options
# are 0..n-1; a ranking lists options, most preferred first.


def fewest_backwards(cands, rounds):
    """§11.8's tie rule for an exclusion: the options of cands with the
    fewest votes in the last round, narrowed through the earlier rounds,
    latest first; then the option listed last. Returns (option, tie broken)."""
    tied = [o for o in cands if rounds[-1][o] == min(rounds[-1][c] for c in cands)]
    broken = len(tied) > 1
    for tallies in reversed(rounds[:-1]):
        if len(tied) == 1:
            break
        low = min(tallies[o] for o in tied)
        tied = [o for o in tied if tallies[o] == low]
    return max(tied), broken


def irv(n, rankings):
    """IRV: single winner, every round."""
    blank = sum(1 for r in rankings if not r)
    cont = set(range(n))
    rounds, out = [], []
    while True:
        tallies, exhausted = [0] * n, 0
        for r in rankings:
            if not r:
                continue
            top = next((o for o in r if o in cont), None)
            if top is None:
                exhausted += 1
            else:
                tallies[top] += 1
        rounds.append(tallies)
        live = sum(tallies)
        best = max(cont, key=lambda o: (tallies[o], -o))
        if 2 * tallies[best] > live or len(cont) == 1:
            out.append({"tallies": tallies, "exhausted": exhausted, "excluded": -1})
            return {"blank": blank, "rounds": out, "winner": best}
        ex, _ = fewest_backwards(sorted(cont), rounds)
        out.append({"tallies": tallies, "exhausted": exhausted, "excluded": ex})
        cont.discard(ex)


def stv(n, seats, rankings):
    """STV by the Weighted Inclusive Gregory Method, Droop quota, exact
    rationals: returns the seats, quota and the options elected in order."""
    from fractions import Fraction
    ballots = [[Fraction(1), list(r)] for r in rankings if r]
    valid = len(ballots)
    quota = valid // (seats + 1) + 1
    cont = set(range(n))
    elected, pending, rounds = [], [], []
    while len(elected) < seats:
        if len(cont) + len(elected) + len(pending) <= seats:
            # every continuing option takes a seat, the best first
            piles = {o: sum(w for w, r in ballots if next((x for x in r if x in cont), None) == o) for o in cont}
            for o in sorted(cont, key=lambda o: (-piles[o], o)):
                elected.append(o)
            cont = set()
            break
        # a ballot stays with an elected option until its surplus moves on
        parked = {o for o, _, _ in pending}
        piles = {o: [] for o in cont}
        for b in ballots:
            top = next((x for x in b[1] if x in cont or x in parked), None)
            if top in cont:
                piles[top].append(b)
        tally = {o: sum(w for w, _ in piles[o]) for o in cont}
        rounds.append(tally)
        reached = sorted((o for o in cont if tally[o] >= quota), key=lambda o: (-tally[o], o))
        for o in reached:
            elected.append(o)
            cont.discard(o)
            pending.append((o, tally[o], piles[o]))
        if len(elected) >= seats:
            break
        if pending:
            pending.sort(key=lambda x: (-x[1], x[0]))
            o, votes, pile = pending.pop(0)
            tv = (votes - quota) / votes
            for b in pile:
                b[0] *= tv
            continue
        ex, _ = fewest_backwards(sorted(cont), [[tally.get(o, 0) for o in range(n)] for tally in rounds])
        cont.discard(ex)
    return {"seats": seats, "valid": valid, "quota": quota, "elected": elected[:seats]}


def beaten_tiers(n, beats):
    """Tiers, best first: each tier is the remaining options that no
    remaining option beats, in increasing index."""
    left, tiers = list(range(n)), []
    while left:
        tier = [a for a in left if not any(beats(b, a) for b in left if b != a)]
        if not tier:  # a cycle of strict beats cannot happen for these relations
            tier = left
        tiers.append(tier)
        left = [a for a in left if a not in tier]
    return tiers


def schulze(n, rankings):
    """Schulze, winning votes; unranked options equal and below the ranked."""
    d = [[0] * n for _ in range(n)]
    for r in rankings:
        pos = {o: i for i, o in enumerate(r)}
        for a in range(n):
            for b in range(n):
                if a != b and a in pos and (b not in pos or pos[a] < pos[b]):
                    d[a][b] += 1
    p = [[d[a][b] if a != b and d[a][b] > d[b][a] else 0 for b in range(n)] for a in range(n)]
    for i in range(n):
        for j in range(n):
            if j == i:
                continue
            for k in range(n):
                if k != i and k != j:
                    p[j][k] = max(p[j][k], min(p[j][i], p[i][k]))
    order = beaten_tiers(n, lambda a, b: p[a][b] > p[b][a])
    return {"pairwise": d, "strongest": p, "order": order, "winners": order[0]}


def majority_values(grades):
    """Balinski–Laraki: the lower median, removed, then the next, ..."""
    g = sorted(grades)
    out = []
    while g:
        out.append(g.pop((len(g) - 1) // 2))
    return out


def judgment(n, mn, mx, scores):
    """Majority judgment with the lower median and the majority ranking."""
    counts = [[0] * (mx - mn + 1) for _ in range(n)]
    for sc_ in scores:
        for o, v in enumerate(sc_):
            counts[o][v - mn] += 1
    mv = [majority_values([sc_[o] for sc_ in scores]) for o in range(n)]
    median = [v[0] if v else mn for v in mv]
    order = beaten_tiers(n, lambda a, b: mv[a] > mv[b])
    return {"counts": counts, "median": median, "order": order, "winners": order[0]}


def score_sums(n, scores):
    sums = [sum(sc_[o] for sc_ in scores) for o in range(n)]
    order = beaten_tiers(n, lambda a, b: sums[a] > sums[b])
    return {"sums": sums, "order": order, "winners": order[0]}


def outcomes(m, q, answers):
    """V16.4: the §11.8 outcomes of mixed question q's verified answers."""
    kind, (_, opts, mn, mx) = m.kinds[q], m.questions[q]
    n = len(opts)
    if kind == KIND_RANKED:
        return {"irv": irv(n, answers), "stv": stv(n, m.seats[q], answers), "schulze": schulze(n, answers)}
    if kind == KIND_SCORE:
        return {"judgment": judgment(n, mn, mx, answers), "score": score_sums(n, answers)}
    return {"write_ins": [a for a in answers if a is not None], "invalid": answers.count(None)}


def entry_ids(data):
    """Yields (seq, id) of every ENTRY frame of a record (no other checks)."""
    o, seq = 8, 0
    while o + 5 <= len(data):
        tag = data[o]
        n = int.from_bytes(data[o + 1:o + 5], "big")
        if tag == 2:
            yield seq, digest("board-entry", [data[o + 5:o + 5 + n]])
            seq += 1
        o += 5 + n


# --------------------------------------------------------------------------
# SPEC.md §12: version-2 ballots (§12.2), their proofs (§12.3, §12.7), mix
# rows (§12.5), decoding (§12.4, §12.6) and audits (§12.9)


class KindFail(Exception):
    def __init__(self, step, msg):
        Exception.__init__(self, "%s: %s" % (step, msg))
        self.step = step


def decode_kinds_ballot(b):
    """§12.2: a version-2 ballot. Questions are (kind, fields) namespaces."""
    r = Reader(b)
    x = SimpleNamespace(raw=b, version=r.u8())
    if x.version != 2:
        raise Malformed("ballot version is not 2")
    x.fp = r.raw(32)
    x.cred, x.cred_b = r.elem(False, "ballot credential")
    nq = r.count(1, 64, "ballot questions")
    x.questions = []
    for _ in range(nq):
        q = SimpleNamespace(kind=r.u8())
        if q.kind == KIND_SELECT:
            no = r.count(2, 64, "ballot options", 320)
            q.opts = [read_ciphertext(r) + ([read_branch(r), read_branch(r)],) for _ in range(no)]
            nb = r.count(1, 65, "range branches", 128)
            q.rng = [read_branch(r) for _ in range(nb)]
        elif q.kind == KIND_RANKED:
            q.n = r.count(2, 64, "ranked options")
            q.k = r.count(1, q.n, "ranks")
            q.entries = [read_ciphertext(r) + ([read_branch(r), read_branch(r)],) for _ in range(q.n * q.k)]
            q.sums = [[read_branch(r), read_branch(r)] for _ in range(q.n + q.k + q.k - 1)]
            nb = r.count(1, q.k + 1, "total branches", 128)
            q.sums.append([read_branch(r) for _ in range(nb)])
        elif q.kind == KIND_SCORE:
            q.n = r.count(2, 64, "score options")
            q.nb = r.count(2, 101, "score branches")
            q.entries = [read_ciphertext(r) + ([read_branch(r) for _ in range(q.nb)],) for _ in range(q.n)]
        elif q.kind == KIND_WRITE_IN:
            w = r.count(1, 9, "write-in chunks", 128)
            q.chunks = []
            for _ in range(w):
                ct = read_ciphertext(r)
                t, tb = r.elem(True, "write-in t")
                q.chunks.append(ct + (t, tb, r.scalar("write-in s")))
        else:
            raise Malformed("question kind %d" % q.kind)
        x.questions.append(q)
    r.end()
    x.tracker = digest("kind-choices-tracker", [choices2(x)])  # §12.10
    return x


def kind_cts(q):
    """A version-2 question's ciphertexts in ballot order (§12.10 choices2):
    options, ranking entries e = i·k + j, scores or write-in chunks."""
    return {KIND_SELECT: lambda: q.opts, KIND_RANKED: lambda: q.entries, KIND_SCORE: lambda: q.entries,
            KIND_WRITE_IN: lambda: q.chunks}[q.kind]()


def choices2(x):
    """§12.10: fingerprint, u32 Q, per question u8 kind, its counts (n; n, k;
    n; w) and its ciphertexts, the proofs and the credential left out."""
    out = bytearray(x.fp) + u32(len(x.questions))
    for q in x.questions:
        cts = kind_cts(q)
        out += bytes([q.kind])
        if q.kind == KIND_RANKED:
            out += u32(q.n) + u32(q.k)
        else:
            out += u32(len(cts))
        for ct in cts:
            out += ct[1] + ct[3]
    return bytes(out)


def ranked_sums(q, mn):
    """§12.3.1 items 2-5 in encoding order: (kind, index, v0, vmax, plus, minus)
    with plus and minus lists of entry indexes e = i*k + j."""
    n, k = q.n, q.k
    out = [(0, i, 0, 1, [i * k + j for j in range(k)], []) for i in range(n)]
    out += [(1, j, 0, 1, [i * k + j for i in range(n)], []) for j in range(k)]
    out += [(2, j, 0, 1, [i * k + j for i in range(n)], [i * k + j + 1 for i in range(n)]) for j in range(k - 1)]
    out.append((3, 0, mn, k, list(range(n * k)), []))
    return out


def p1_ok(label, prefix, branches):
    """§6.3 P1: the branch challenges add up to the transcript's challenge."""
    items = list(prefix) + [x for br in branches for x in (br[4][:32], br[4][32:])]
    return sum(br[2] for br in branches) % L == challenge(label, items)


def p23_ok(A, B, K, v0, branches):
    """§6.3 P2 and P3 of every branch j, value v0 + j."""
    for j, (a, b, c, s_, _) in enumerate(branches):
        if not (G * s_).r_eq(a + A * c) or not (K * s_).r_eq(b + (B - G * (v0 + j)) * c):
            return False
    return True


def verify_kinds_ballot(m, K, Kb, x):
    """V8.2, V8.3 and V8.6-V8.10 of a version-2 ballot (§12.7): raises
    KindFail(step, reason) at the first failing check; P1 checks of every
    question come before the P2/P3 equations."""
    kinds_shape(m, x)
    kinds_proofs(m, K, Kb, x)


def kinds_shape(m, x, steps=("V8.2", "V8.3")):
    """V8.2 and V8.3 of a version-2 ballot (§12.7), or with steps
    ("V9.1.2", "V9.1.3") those of an audit2 (§12.10), which has no proofs
    to count. Raises KindFail."""
    if x.fp != m.fp:
        raise KindFail(steps[0], "fingerprint is not the manifest's")
    if len(x.questions) != len(m.questions):
        raise KindFail(steps[1], "%d questions, manifest %d" % (len(x.questions), len(m.questions)))
    for qi, (q, kind, (_, opts, mn, mx)) in enumerate(zip(x.questions, m.kinds, m.questions)):
        b = mx - mn + 1  # branches of a range, total or score proof
        shape = {KIND_SELECT: lambda: len(q.opts) == len(opts) and len(getattr(q, "rng", [None] * b)) == b,
                 KIND_RANKED: lambda: q.n == len(opts) and q.k == mx and len(getattr(q, "sums", [[None] * b])[-1]) == b,
                 KIND_SCORE: lambda: q.n == len(opts) and getattr(q, "nb", b) == b,
                 KIND_WRITE_IN: lambda: len(q.chunks) == write_in_chunks(mx)}[q.kind]
        if q.kind != kind or not shape():
            raise KindFail(steps[1], "question %d does not have the manifest's kind and shape" % qi)


def kinds_proofs(m, K, Kb, x):
    """V8.6-V8.10 of a version-2 ballot of m's shape (§12.7). Raises KindFail."""
    eqs = []  # (step, what, A, B, v0, branches) for P2/P3, in order
    for qi, (q, (_, opts, mn, mx)) in enumerate(zip(x.questions, m.questions)):
        pre = [m.fp, Kb, x.cred_b, u64(qi)]
        if q.kind == KIND_SELECT:
            A, B, cts = IDENTITY, IDENTITY, []
            for i, (a, ab, b, bb, br) in enumerate(q.opts):
                if not p1_ok("disjunctive-proof", pre + [u64(i), ab, bb], br):
                    raise KindFail("V8.6.2", "question %d option %d: P1" % (qi, i))
                eqs.append(("V8.6.3", "question %d option %d" % (qi, i), a, b, 0, br))
                A, B, cts = A + a, B + b, cts + [ab, bb]
            if not p1_ok("range-proof", pre + [u64(mn), u64(mx)] + cts, q.rng):
                raise KindFail("V8.7.2", "question %d range proof: P1" % qi)
            eqs.append(("V8.7.3", "question %d range proof" % qi, A, B, mn, q.rng))
        elif q.kind == KIND_RANKED:
            cts = []
            for e, (a, ab, b, bb, br) in enumerate(q.entries):
                i, j = divmod(e, q.k)
                if not p1_ok("ranked-entry-proof", pre + [u64(i), u64(j), ab, bb], br):
                    raise KindFail("V8.8.1", "question %d entry (option %d, rank %d): P1" % (qi, i, j))
                eqs.append(("V8.8.3", "question %d entry (option %d, rank %d)" % (qi, i, j), a, b, 0, br))
                cts += [ab, bb]
            for (kind, idx, v0, vmax, plus, minus), br in zip(ranked_sums(q, mn), q.sums):
                name = "question %d %s %d" % (qi, ["row", "column", "step", "total"][kind], idx)
                if not p1_ok("ranked-sum-proof", pre + [u64(kind), u64(idx), u64(v0), u64(vmax)] + cts, br):
                    raise KindFail("V8.8.2", name + ": P1")
                A, B = IDENTITY, IDENTITY
                for e in plus:
                    A, B = A + q.entries[e][0], B + q.entries[e][2]
                for e in minus:
                    A, B = A - q.entries[e][0], B - q.entries[e][2]
                eqs.append(("V8.8.3", name, A, B, v0, br))
        elif q.kind == KIND_SCORE:
            for i, (a, ab, b, bb, br) in enumerate(q.entries):
                if not p1_ok("score-proof", pre + [u64(i), u64(mn), u64(mx), ab, bb], br):
                    raise KindFail("V8.9.1", "question %d option %d: P1" % (qi, i))
                eqs.append(("V8.9.2", "question %d option %d" % (qi, i), a, b, mn, br))
        else:
            items = pre + [u64(len(q.chunks))] + [x_ for ch in q.chunks for x_ in (ch[1], ch[3])] + [ch[5] for ch in q.chunks]
            c = challenge("writein-proof", items)
            for k_, (a, _, _, _, t, _, s_) in enumerate(q.chunks):
                if not (G * s_).r_eq(t + a * c):
                    raise KindFail("V8.10.1", "question %d write-in chunk %d" % (qi, k_))
    for step, what, A, B, v0, br in eqs:
        if not p23_ok(A, B, K, v0, br):
            raise KindFail(step, what + ": P2/P3")


def mix_row(q):
    """§12.5: the question's row of (alpha, beta) points."""
    if q.kind == KIND_RANKED:
        row = []
        for i in range(q.n):
            A, B = IDENTITY, IDENTITY
            for j in range(q.k):
                a, _, b, _, _ = q.entries[i * q.k + j]
                A, B = A + a * (j + 1), B + b * (j + 1)
            row.append((A, B))
        return row
    if q.kind == KIND_SCORE:
        return [(a, b) for (a, _, b, _, _) in q.entries]
    return [(ch[0], ch[2]) for ch in q.chunks]


def encode_chunk(d):
    """§12.4: try-and-increment of a 30-byte chunk."""
    for j in range(16384):
        cand = bytes([2 * (j % 128)]) + d + bytes([j // 128])
        try:
            return r255.decode(cand)
        except DecodeError:
            continue
    raise ValueError("chunk does not encode")


def write_in_bytes(text_b, w):
    return bytes([len(text_b)]) + text_b + bytes(WRITE_IN_CHUNK * w - 1 - len(text_b))


def write_in_text(buf, mx):
    """D3 on the chunks' bytes: a length <= mx, zero padding, UTF-8."""
    n = buf[0]
    if n > mx or 1 + n > len(buf) or any(buf[1 + n:]):
        raise ValueError("not a write-in of at most %d bytes" % mx)
    return buf[1:1 + n].decode("utf-8")


def decode_row(kind, mn, mx, elems):
    """§12.6 D1-D3: the answer of a decrypted row (ranking, scores or text)."""
    def small(M, hi):
        for v in range(hi + 1):
            if (G * v).r_eq(M):
                return v
        raise ValueError("not a small multiple of G")
    if kind == KIND_RANKED:
        ranks = [small(M, mx) for M in elems]
        t = sum(1 for r_ in ranks if r_)
        if sorted(r_ for r_ in ranks if r_) != list(range(1, t + 1)) or t < mn:
            raise ValueError("not a ranking")
        return [ranks.index(p) for p in range(1, t + 1)]
    if kind == KIND_SCORE:
        vals = [small(M, mx) for M in elems]
        if any(v < mn for v in vals):
            raise ValueError("score below min")
        return vals
    buf = b""
    for M in elems:
        d = M.encode()[1:31]
        if not encode_chunk(d).r_eq(M):
            raise ValueError("not a chunk encoding")
        buf += d
    return write_in_text(buf, mx)


def answer_of(kind, a):
    """The vector's JSON answer for a question of this kind."""
    return {KIND_SELECT: a.get("Choices") or [], KIND_RANKED: a.get("Ranking") or [],
            KIND_SCORE: a.get("Scores") or [], KIND_WRITE_IN: a.get("Text") or ""}[kind]


def kinds_vectors(path):
    """ballot/testdata/kinds.json: the honest ballots verify, their mix rows
    and decrypted answers are the vector's, every bad ballot fails at its
    step, the write-in encodings match."""
    import json
    with open(path) as f:
        v = json.load(f)
    m = decode_manifest(bytes.fromhex(v["manifest"]))
    ok = m.fp.hex() == v["fingerprint"]
    if not ok:
        print("FAIL fingerprint")
    Kb = bytes.fromhex(v["election_key"])
    K = r255.decode(Kb, allow_identity=False)
    x_sk = r255.decode_scalar(bytes.fromhex(v["secret_key"]))
    for n, bv in enumerate(v["ballots"]):
        x = decode_kinds_ballot(bytes.fromhex(bv["ballot"]))
        if x.tracker.hex() != bv["tracker"]:
            ok = False
            print("FAIL ballot %d: tracker %s, vector %s" % (n, x.tracker.hex(), bv["tracker"]))
        try:
            verify_kinds_ballot(m, K, Kb, x)
        except KindFail as e:
            ok = False
            print("FAIL ballot %d: %s" % (n, e))
            continue
        for qi, q in enumerate(x.questions):
            if q.kind == KIND_SELECT:
                continue
            row = mix_row(q)
            if b"".join(a.encode() + b.encode() for a, b in row).hex() != bv["mix_rows"][qi]:
                ok = False
                print("FAIL ballot %d question %d: mix row" % (n, qi))
            elems = [b - a * x_sk for a, b in row]
            if b"".join(M.encode() for M in elems).hex() != bv["plaintexts"][qi]:
                ok = False
                print("FAIL ballot %d question %d: plaintexts" % (n, qi))
            _, _, mn, mx = m.questions[qi]
            if decode_row(q.kind, mn, mx, elems) != answer_of(q.kind, bv["answers"][qi]):
                ok = False
                print("FAIL ballot %d question %d: decoded answer" % (n, qi))
        print("ballot %d PASS" % n)
    for bb in v["bad_ballots"]:
        try:
            verify_kinds_ballot(m, K, Kb, decode_kinds_ballot(bytes.fromhex(bb["ballot"])))
            got = "accepted"
        except KindFail as e:
            got = e.step
        except Malformed as e:
            got = "V8.1"
        if got != bb["step"]:
            ok = False
            print("FAIL bad ballot %r: %s, want %s" % (bb["what"], got, bb["step"]))
        else:
            print("bad ballot %r rejected at %s PASS" % (bb["what"], got))
    for wv in v["write_ins"]:
        w = write_in_chunks(wv["max"])
        buf = write_in_bytes(wv["text"].encode(), w)
        got = [encode_chunk(buf[k * 30:(k + 1) * 30]).encode().hex() for k in range(w)]
        if got != wv["elements"]:
            ok = False
            print("FAIL write-in %r" % wv["text"])
    print("kinds-vectors %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def decode_kinds_audited(b):
    """§12.9: an audited version-2 ballot (u32-prefixed ballot, then the
    opening). Returns (ballot, answers, randomness)."""
    r = Reader(b)
    x = decode_kinds_ballot(r.bytes_(65536))
    answers, rands = read_kinds_opening(r, x)
    r.end()
    return x, answers, rands


def read_kinds_opening(r, x):
    """§12.9 Decoding: the opening of x's questions (their kinds, n, k and
    w). Returns (answers, randomness); the caller checks the end."""
    nq = r.count(0, 64, "opening questions")
    if nq != len(x.questions):
        raise Malformed("opening has %d questions, ballot %d" % (nq, len(x.questions)))
    answers, rands = [], []
    for qi, q in enumerate(x.questions):
        if r.u8() != q.kind:
            raise Malformed("question %d: opening kind" % qi)
        n = r.u32()
        want = {KIND_SELECT: lambda: len(q.opts), KIND_RANKED: lambda: q.n, KIND_SCORE: lambda: q.n,
                KIND_WRITE_IN: lambda: len(q.chunks)}[q.kind]()
        if n != want:
            raise Malformed("question %d: opening has %d options or chunks, ballot %d" % (qi, n, want))
        rs = []
        if q.kind == KIND_SELECT:
            a = []
            for i in range(n):
                f = r.u8()
                if f > 1:
                    raise Malformed("flag %d" % f)
                if f:
                    a.append(i)
                rs.append(r.scalar())
        elif q.kind == KIND_RANKED:
            if r.u32() != q.k:
                raise Malformed("question %d: opening ranks" % qi)
            t = r.u32()
            if t > q.k:
                raise Malformed("ranking of %d options, k = %d" % (t, q.k))
            a = [r.u32() for _ in range(t)]
            if any(i >= n for i in a):
                raise Malformed("ranked option out of range")
            rs = [r.scalar() for _ in range(n * q.k)]
        elif q.kind == KIND_SCORE:
            a = []
            for _ in range(n):
                a.append(r.u32())
                rs.append(r.scalar())
        else:
            buf = b""
            for _ in range(n):
                buf += r.raw(30)
                rs.append(r.scalar())
            try:
                a = write_in_text(buf, len(buf) - 1)
            except (ValueError, UnicodeDecodeError) as e:
                raise Malformed("write-in chunk texts: %s" % e)
        answers.append(a)
        rands.append(rs)
    return answers, rands


def decode_audit2(b):
    """§12.10 audit2 = choices2 ‖ opening (§12.9), no trailing bytes.
    Returns (x, answers, randomness), x shaped as a version-2 ballot's
    questions (ciphertexts only) with its fingerprint and tracker."""
    r = Reader(b)
    x = SimpleNamespace(version=2)
    x.fp = r.raw(32)
    nq = r.count(1, 64, "audit questions")
    x.questions = []
    for _ in range(nq):
        q = SimpleNamespace(kind=r.u8())
        if q.kind not in (KIND_SELECT, KIND_RANKED, KIND_SCORE, KIND_WRITE_IN):
            raise Malformed("audit question kind %d" % q.kind)
        if q.kind == KIND_WRITE_IN:
            n = r.count(1, 9, "write-in chunks", 64)
        else:
            q.n = n = r.count(2, 64, "audit options")
            if q.kind == KIND_RANKED:
                q.k = r.count(1, q.n, "ranks")
                n = q.n * q.k
        cts = [read_ciphertext(r) + (None,) for _ in range(n)]
        if q.kind == KIND_SELECT:
            q.opts = cts
        elif q.kind == KIND_WRITE_IN:
            q.chunks = cts
        else:
            q.entries = cts
        x.questions.append(q)
    x.tracker = digest("kind-choices-tracker", [b[:r.o]])
    answers, rands = read_kinds_opening(r, x)
    r.end()
    return x, answers, rands


def audit2_shape(m, x):
    """§12.10 V9.1.2 and V9.1.3. Raises KindFail."""
    kinds_shape(m, x, ("V9.1.2", "V9.1.3"))


def verify_kinds_opening(m, K, Kb, x, answers, rands):
    """§12.9 V9.1-V9.3. Raises KindFail."""
    try:
        verify_kinds_ballot(m, K, Kb, x)
    except KindFail as e:
        raise KindFail("V9.1", str(e))
    check_kinds_opening(m, K, x, answers, rands)


def check_kinds_opening(m, K, x, answers, rands):
    """§12.9 V9.2-V9.3 of a version-2 ballot that passed V9.1. Raises KindFail."""
    for qi, (q, a, rs, kind, (_, opts, mn, mx)) in enumerate(zip(x.questions, answers, rands, m.kinds, m.questions)):
        n = len(opts)
        if kind == KIND_SELECT:
            ok = len(set(a)) == len(a) and mn <= len(a) <= mx
            vals = [1 if i in a else 0 for i in range(n)]
        elif kind == KIND_RANKED:
            ok = len(set(a)) == len(a) and mn <= len(a) <= mx
            vals = [0] * (n * mx)
            for j, i in enumerate(a):
                vals[i * mx + j] = 1
        elif kind == KIND_SCORE:
            ok = all(mn <= v <= mx for v in a)
            vals = a
        else:
            ok = len(a.encode()) <= mx
        if not ok:
            raise KindFail("V9.2", "question %d: the answer breaks the question's rule" % qi)
        if kind == KIND_WRITE_IN:
            w = len(q.chunks)
            buf = write_in_bytes(a.encode(), w)
            for k_, (ch, r_) in enumerate(zip(q.chunks, rs)):
                M = encode_chunk(buf[k_ * 30:(k_ + 1) * 30])
                if not ((G * r_).r_eq(ch[0]) and (M + K * r_).r_eq(ch[2])):
                    raise KindFail("V9.3", "question %d write-in chunk %d" % (qi, k_))
            continue
        cts = q.opts if kind == KIND_SELECT else q.entries
        for e, ((al, _, be, _, _), v, r_) in enumerate(zip(cts, vals, rs)):
            if not ((G * r_).r_eq(al) and (G * v + K * r_).r_eq(be)):
                raise KindFail("V9.3", "question %d ciphertext %d" % (qi, e))


def decodes_as(decode, b):
    try:
        decode(b)
        return True
    except Malformed:
        return False


def audit_kinds_vectors(path):
    """ballot/testdata/audit_kinds.json: each audited ballot decodes and
    verifies, or fails at its step; the valid one opens to the answers."""
    import json
    with open(path) as f:
        v = json.load(f)
    m = decode_manifest(bytes.fromhex(v["manifest"]))
    Kb = bytes.fromhex(v["election_key"])
    K = r255.decode(Kb, allow_identity=False)
    want = [answer_of(k, a) for k, a in zip(m.kinds, v["answers"])]
    results = []

    def judge(label, case, opens, malformed):
        """opens() checks one vector case and returns its answers; the
        verdict is "" (valid, the vector's answers), a step, or malformed's."""
        try:
            got = "" if opens() == want else "wrong answers"
        except Malformed:
            got = malformed
        except KindFail as e:
            got = e.step
        results.append(got == case["step"])
        print("%s%r: %s%s" % (label, case["what"], got or "valid",
                             " PASS" if got == case["step"] else ", want %s FAIL" % (case["step"] or "valid")))

    def audited(av):
        x, answers, rands = decode_kinds_audited(bytes.fromhex(av["audited_ballot"]))
        verify_kinds_opening(m, K, Kb, x, answers, rands)
        return answers

    def audit(av):
        x, answers, rands = decode_audit2(bytes.fromhex(av["audit"]))
        if av["tracker"] and x.tracker.hex() != av["tracker"]:
            raise KindFail("tracker", x.tracker.hex())
        audit2_shape(m, x)
        check_kinds_opening(m, K, x, answers, rands)
        return answers
    for av in v["audited_ballots"]:
        judge("", av, lambda: audited(av), "decode")
    if "ballot_tracker" in v:
        ballot = decode_kinds_audited(bytes.fromhex(v["audited_ballots"][0]["audited_ballot"]))[0]
        results.append(ballot.tracker.hex() == v["ballot_tracker"])
        if not results[-1]:
            print("FAIL ballot tracker %s, vector %s" % (ballot.tracker.hex(), v["ballot_tracker"]))
    for av in v.get("audits", []):
        # a §7.3 audit is V9.1.1 ("Which layout"), any other bad body "decode"
        judge("audit ", av, lambda: audit(av), "V9.1.1" if decodes_as(decode_audit, bytes.fromhex(av["audit"])) else "decode")
    ok = all(results)
    print("audit-kinds-vectors %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


# --------------------------------------------------------------------------
# SPEC.md §13: the Terelius–Wikström proof of a shuffle (S.1–S.6)

SHUFFLE_MAX_ROWS = 1 << 20
SHUFFLE_MAX_WIDTH = 1024


class ShuffleFail(Exception):
    def __init__(self, step, msg):
        Exception.__init__(self, "%s: %s" % (step, msg))
        self.step = step


def shuffle_generators(context, n):
    """§13.2: h_i = HashToElement(transcript(context, u64 i), "urna/v1/shuffle-generators")."""
    dst = b"urna/v1/shuffle-generators"
    return [r255.hash_to_element(transcript([context, u64(i)]), dst) for i in range(n + 1)]


def decode_shuffle_proof(b, n, w):
    """§13.5 and S2: the proof's fields, as (bytes, point) for elements and
    ints for scalars."""
    if len(b) < 8:
        raise ShuffleFail("S2", "proof of %d bytes" % len(b))
    pn, pw = int.from_bytes(b[0:4], "big"), int.from_bytes(b[4:8], "big")
    if pn > SHUFFLE_MAX_ROWS or pw < 1 or pw > SHUFFLE_MAX_WIDTH:
        raise ShuffleFail("S2", "proof for N = %d, w = %d" % (pn, pw))
    if len(b) != 8 + 32 * (5 * pn + 6 + 3 * pw):
        raise ShuffleFail("S2", "proof of %d bytes for N = %d, w = %d" % (len(b), pn, pw))
    if (pn, pw) != (n, w):
        raise ShuffleFail("S2", "proof for N = %d, w = %d; statement has N = %d, w = %d" % (pn, pw, n, w))
    off = [8]

    def fields(k, decode):
        out = []
        for _ in range(k):
            x = b[off[0]:off[0] + 32]
            off[0] += 32
            try:
                out.append(decode(x))
            except DecodeError as e:
                raise ShuffleFail("S2", str(e))
        return out

    def elems(k):
        return fields(k, lambda x: (x, r255.decode(x)))

    def scalars(k):
        return fields(k, r255.decode_scalar)
    p = SimpleNamespace()
    p.c, p.chat = elems(n), elems(n)
    p.t1, p.t2, p.t3 = elems(3)
    t4 = elems(2 * w)
    p.t4a, p.t4b = t4[0::2], t4[1::2]
    p.that = elems(n)
    p.s1, p.s2, p.s3 = scalars(3)
    p.s4, p.shat, p.sp = scalars(w), scalars(n), scalars(n)
    return p


def msum(terms):
    """Σ k·P over (k, P) pairs."""
    acc = IDENTITY
    for k, pt in terms:
        acc = acc + pt * k
    return acc


def verify_shuffle(context, key_b, w, inputs, outputs, proof_b):
    """S1–S6 of SPEC.md §13.6, one equation at a time. inputs and
    outputs are lists of rows, a row a list of w ciphertexts of 64 bytes
    (α || β). Raises ShuffleFail(step, reason); returns None if valid."""
    # S1
    try:
        K = r255.decode(key_b, allow_identity=False)
    except DecodeError as e:
        raise ShuffleFail("S1", "key: %s" % e)
    n = len(inputs)
    if n > SHUFFLE_MAX_ROWS or not 1 <= w <= SHUFFLE_MAX_WIDTH:
        raise ShuffleFail("S1", "N = %d, w = %d out of bounds" % (n, w))
    if len(outputs) != n:
        raise ShuffleFail("S1", "%d input rows, %d output rows" % (n, len(outputs)))

    def rows(what, rs):
        out = []
        for i, row in enumerate(rs):
            if len(row) != w or any(len(ct) != 64 for ct in row):
                raise ShuffleFail("S1", "%s row %d is not %d ciphertexts" % (what, i + 1, w))
            try:
                out.append([(r255.decode(ct[:32]), r255.decode(ct[32:])) for ct in row])
            except DecodeError as e:
                raise ShuffleFail("S1", "%s row %d: %s" % (what, i + 1, e))
        return out
    e_in, e_out = rows("input", inputs), rows("output", outputs)
    # S2, S3
    p = decode_shuffle_proof(proof_b, n, w)
    h = shuffle_generators(context, n)
    # S4
    seed = digest("shuffle-statement", [context, key_b, u64(n), u64(w)] +
                  [b"".join(r) for r in inputs] + [b"".join(r) for r in outputs] +
                  [x for x, _ in p.c])
    u = [challenge("shuffle-challenges", [seed, u64(j + 1)]) for j in range(n)]
    # S5
    items = [seed] + [x for x, _ in p.chat] + [p.t1[0], p.t2[0], p.t3[0]]
    for k in range(w):
        items += [p.t4a[k][0], p.t4b[k][0]]
    c = challenge("shuffle-proof", items + [x for x, _ in p.that])
    # S6
    C = [pt for _, pt in p.c]
    CH = [h[0]] + [pt for _, pt in p.chat]

    def check(name, left, right):
        if not left.r_eq(right):
            raise ShuffleFail("S6", "equation %s does not hold" % name)
    sum_c = msum([(1, x) for x in C])
    sum_h = msum([(1, x) for x in h[1:]])
    check("S6.1", G * p.s1, p.t1[1] + (sum_c - sum_h) * c)
    prod_u = 1
    for x in u:
        prod_u = prod_u * x % L
    check("S6.2", G * p.s2, p.t2[1] + (CH[n] - h[0] * prod_u) * c)
    check("S6.3", G * p.s3 + msum(zip(p.sp, h[1:])), p.t3[1] + msum(zip(u, C)) * c)
    for k in range(w):
        left_a = msum([(p.sp[i], e_out[i][k][0]) for i in range(n)]) - G * p.s4[k]
        right_a = p.t4a[k][1] + msum([(u[j], e_in[j][k][0]) for j in range(n)]) * c
        check("S6.4 (α, k = %d)" % (k + 1), left_a, right_a)
        left_b = msum([(p.sp[i], e_out[i][k][1]) for i in range(n)]) - K * p.s4[k]
        right_b = p.t4b[k][1] + msum([(u[j], e_in[j][k][1]) for j in range(n)]) * c
        check("S6.4 (β, k = %d)" % (k + 1), left_b, right_b)
    for i in range(n):
        check("S6.5 (i = %d)" % (i + 1), G * p.shat[i] + CH[i] * p.sp[i], p.that[i][1] + CH[i + 1] * c)
    return None


def read_shuffle_vector(path):
    """The text format of tally/shuffle/testdata/vector.txt (§13.8): lines
    "context HEX", "key HEX", "width W", "input I CT...", "output I CT...",
    "permutation [...]" (ignored), "proof HEX"; "#" starts a comment."""
    v = SimpleNamespace(context=None, key=None, width=None, inputs=[], outputs=[], proof=None)
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            tag = parts[0]
            if tag == "context":
                v.context = bytes.fromhex(parts[1]) if len(parts) > 1 else b""
            elif tag == "key":
                v.key = bytes.fromhex(parts[1])
            elif tag == "width":
                v.width = int(parts[1])
            elif tag in ("input", "output"):
                rows = v.inputs if tag == "input" else v.outputs
                # §13.8: rows are numbered 1..N, in order.
                if len(parts) < 2 or parts[1] != str(len(rows) + 1):
                    raise ValueError("%s: %s line without row number %d: %r" % (path, tag, len(rows) + 1, line.strip()[:40]))
                rows.append([bytes.fromhex(x) for x in parts[2:]])
            elif tag == "proof":
                v.proof = bytes.fromhex(parts[1])
    if v.context is None or v.key is None or v.width is None or v.proof is None:
        raise ValueError("%s: missing context, key, width or proof" % path)
    return v


def shuffle_main(paths):
    """Prints, per file, "PATH: S PASS ..." or "PATH: S FAIL Sn: reason";
    exit status 0 iff every shuffle is valid."""
    allok = True
    for path in paths:
        try:
            v = read_shuffle_vector(path)
            verify_shuffle(v.context, v.key, v.width, v.inputs, v.outputs, v.proof)
            print("%s: S PASS (N = %d, w = %d)" % (path, len(v.inputs), v.width))
        except ShuffleFail as e:
            allok = False
            print("%s: S FAIL %s" % (path, e))
        except ValueError as e:
            allok = False
            print("%s: S FAIL S1: malformed vector: %s" % (path, e))
    return 0 if allok else 1


def selftest():
    """Known answers: RFC 9496 generator multiples, the §2.2 vector, decoder
    rejections (non-canonical, negative, wrong length), RFC 8032 test 1."""
    mult = ["0000000000000000000000000000000000000000000000000000000000000000",
            "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
            "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
            "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259"]
    for k, h in enumerate(mult):
        assert (G * k).encode().hex() == h, k
        assert r255.decode(bytes.fromhex(h)).r_eq(G * k)
    assert r255.hash_to_scalar(b"abc", b"urna/v1/test") == int.from_bytes(bytes.fromhex(
        "c760479226ec345e19d1ff979d6ab5317a70d5cadcc3b5fcdce222f141be8a04"), "little")
    for bad in [r255.P.to_bytes(32, "little"), (r255.P + 2).to_bytes(32, "little"),
                (1).to_bytes(32, "little"), bytes(31), b"\xff" * 32]:
        try:
            r255.decode(bad)
        except DecodeError:
            continue
        raise AssertionError("accepted invalid encoding %s" % bad.hex())
    try:
        r255.decode(bytes(32), allow_identity=False)
        raise AssertionError("accepted identity")
    except DecodeError:
        pass
    try:
        r255.decode_scalar(L.to_bytes(32, "little"))
        raise AssertionError("accepted scalar l")
    except DecodeError:
        pass
    pub = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
                        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert r255.hash_to_element(b"abc", b"urna/test").encode().hex() == \
        "56e0fe16b948f64c9453d672bfc4df8055f48078788da7f2968bfb249d4efc0d"  # Go's group.HashToElement
    assert r255.ed25519_verify(pub, b"", sig)
    assert not r255.ed25519_verify(pub, b"x", sig)
    print("selftest PASS")
    return 0


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("record", nargs="?")
    ap.add_argument("--fingerprint", help="election fingerprint obtained out of band (hex)")
    ap.add_argument("--ids", action="store_true", help="only print every entry's seq and id (§3.4)")
    ap.add_argument("--selftest", action="store_true", help="run the primitive known-answer tests")
    ap.add_argument("--id-vectors", metavar="JSON", help="check identifier vectors (§4.1) and exit")
    ap.add_argument("--manifest-vectors", metavar="JSON", help="decode a manifest vector (§4.2) and check its fingerprint, then exit")
    ap.add_argument("--cosignature-vectors", metavar="JSON", help="check cosignature (§3.13) and node-key (§4.1) vectors and exit")
    ap.add_argument("--evidence", metavar="FILE", help="check an evidence file of a fork (§10.8) and exit")
    ap.add_argument("--kinds-vectors", metavar="JSON", help="check ballot/testdata/kinds.json (SPEC.md §12.2-§12.7) and exit")
    ap.add_argument("--audit-kinds-vectors", metavar="JSON", help="check ballot/testdata/audit_kinds.json (SPEC.md §12.9) and exit")
    ap.add_argument("--shuffle", metavar="FILE", nargs="+", help="check a shuffle in the format of tally/shuffle/testdata/vector.txt (SPEC.md §13.6) and exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    # The modes that check one input and exit; of several given, the first here wins.
    modes = (("evidence", evidence_main), ("shuffle", shuffle_main),
             ("kinds_vectors", kinds_vectors), ("audit_kinds_vectors", audit_kinds_vectors),
             ("selftest", lambda _: selftest()), ("id_vectors", id_vectors),
             ("manifest_vectors", manifest_vectors), ("cosignature_vectors", cosignature_vectors))
    for dest, check in modes:
        if getattr(args, dest):
            return check(getattr(args, dest))
    if not args.record:
        ap.error("RECORD is required")
    with open(args.record, "rb") as f:
        data = f.read()
    if args.ids:
        for seq, i in entry_ids(data):
            print(seq, i.hex())
        return 0
    fp = bytes.fromhex(args.fingerprint) if args.fingerprint else None
    v = Verifier(data, fp, args.verbose)
    rep = v.run()
    allok = True
    for s in STEPS:
        fl = rep.fails[s]
        if fl:
            allok = False
            sub, where, msg = fl[0]
            more = " (+%d more)" % (len(fl) - 1) if len(fl) > 1 else ""
            print("%s FAIL %s at %s: %s%s" % (s, sub, where, msg, more))
        elif s in rep.ran:
            print("%s PASS" % s)
        else:
            allok = False
            print("%s NOT-REACHED" % s)
    if args.verbose or not allok:
        for s in STEPS:
            for sub, where, msg in rep.fails[s][1:]:
                print("  %s at %s: %s" % (sub, where, msg))
    for line in rep.info:
        print("# " + line)
    return 0 if allok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
