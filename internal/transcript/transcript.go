// Package transcript implements Urna's Fiat–Shamir transcripts and holds every
// domain-separation label of the protocol in one place (SPEC.md §2.3).
//
// A transcript is a label and a sequence of items. Its encoding is
//
//	for each item: u32be(len(item)) || item
//
// and its challenge is group.HashToScalar(encoding, "urna/v1/" + label),
// i.e. RFC 9380 expand_message_xmd with SHA-512 under that tag, reduced
// mod ℓ. Every proof hashes its whole statement (election fingerprint,
// public keys, credential, ciphertexts) and its commitments, in the order
// SPEC.md gives, so a proof cannot be moved to another statement (strong
// Fiat–Shamir).
//
// Digest is the byte-string counterpart for fingerprints, trackers and other
// identifiers: SHA-256 over the length-prefixed label and items.
package transcript

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"github.com/urna-vote/urna/internal/group"
)

// Label is a domain-separation label. All labels are listed below and in
// SPEC.md §2.3; the full tag is Prefix + label.
type Label string

// Prefix versions every label: a protocol version change changes every tag.
const Prefix = "urna/v1/"

// The labels of protocol version 1. Adding a use means adding a label here
// and a row to the table in SPEC.md §2.3.
const (
	// Challenges (HashToScalar).
	SchnorrSig        Label = "schnorr-signature"    // Schnorr signature challenge
	DisjunctiveProof  Label = "disjunctive-proof"    // 0-or-1 proof of one option ciphertext
	RangeProof        Label = "range-proof"          // min..max proof of a question's sum
	DLogProof         Label = "dlog-proof"           // proof of knowledge of a discrete log (DKG constant term, key possession)
	DecryptionProof   Label = "decryption-proof"     // Chaum–Pedersen proof of a partial decryption
	CredentialDerive  Label = "credential-key"       // secret credential string -> signing scalar
	BatchWeights      Label = "batch-weights"        // seed (a Digest, not a challenge) of one-ballot verification weights (verifier side)
	ShareEncryptionAD Label = "dkg-share-encryption" // HPKE info/AAD for DKG shares
	TestRandomness    Label = "test-randomness"      // deterministic randomness for test vectors only

	// Digests (SHA-256).
	ManifestFingerprint Label = "manifest-fingerprint" // election fingerprint
	BallotTracker       Label = "ballot-tracker"       // tracker of a ballot in protocol 1.0–1.1 (over the whole ballot); since 1.2 only of bytes that are not a ballot
	ChoicesTracker      Label = "choices-tracker"      // tracker of a ballot's or audit's encrypted choices (protocol 1.2, SPEC.md §7.1)
	EntryHash           Label = "board-entry"          // identifier of a board entry
	BlockHash           Label = "board-block"          // hash of a block header
	ResultDigest        Label = "result"               // digest of a tally result
	VoterRoll           Label = "voter-roll"           // public fingerprint of a voter roll: ids and weights (SPEC.md §5.4)
)

// Tag returns the full domain-separation tag of l.
func (l Label) Tag() []byte { return []byte(Prefix + string(l)) }

// Transcript accumulates the items of one Fiat–Shamir statement.
type Transcript struct {
	label Label
	buf   []byte
}

// New starts a transcript under label l.
func New(l Label) *Transcript { return &Transcript{label: l, buf: make([]byte, 0, 512)} }

// Bytes appends one item.
func (t *Transcript) Bytes(item []byte) *Transcript {
	t.buf = binary.BigEndian.AppendUint32(t.buf, uint32(len(item)))
	t.buf = append(t.buf, item...)
	return t
}

// Element appends the canonical encoding of e as one item.
func (t *Transcript) Element(e *group.Element) *Transcript { return t.Bytes(e.Bytes()) }

// Elements appends each element as its own item.
func (t *Transcript) Elements(es ...*group.Element) *Transcript {
	for _, e := range es {
		t.Element(e)
	}
	return t
}

// Scalar appends the canonical encoding of s as one item.
func (t *Transcript) Scalar(s *group.Scalar) *Transcript { return t.Bytes(s.Bytes()) }

// Uint64 appends n as one 8-byte big-endian item.
func (t *Transcript) Uint64(n uint64) *Transcript {
	return t.Bytes(binary.BigEndian.AppendUint64(nil, n))
}

// String appends the UTF-8 bytes of s as one item.
func (t *Transcript) String(s string) *Transcript { return t.Bytes([]byte(s)) }

// Encoding returns the transcript's bytes (without the label).
func (t *Transcript) Encoding() []byte { return append([]byte(nil), t.buf...) }

// Challenge returns HashToScalar(encoding, tag) (SPEC.md §2.3).
func (t *Transcript) Challenge() *group.Scalar { return group.HashToScalar(t.buf, t.label.Tag()) }

// Digest returns SHA-256(u32be(len(tag)) || tag || encoding) (SPEC.md §2.3).
func (t *Transcript) Digest() [32]byte {
	h := digestStart(t.label)
	h.Write(t.buf)
	return digestSum(h)
}

// DigestOf is New(l).Bytes(items[0]).Bytes(items[1])….Digest(), hashed
// straight from the items instead of copied into a transcript first (an
// entry's ID hashes the whole entry, on every node for every post).
func DigestOf(l Label, items ...[]byte) [32]byte {
	h := digestStart(l)
	var n [4]byte
	for _, it := range items {
		writeItem(h, &n, it)
	}
	return digestSum(h)
}

// DigestOfJoined is DigestOf(l, item) for the one item that is parts
// concatenated, without copying them into one slice.
func DigestOfJoined(l Label, parts ...[]byte) [32]byte {
	h := digestStart(l)
	var n [4]byte
	writeItem(h, &n, parts...)
	return digestSum(h)
}

// writeItem writes to h the item that is parts concatenated, as a
// transcript encodes a byte string: its u32 big-endian length (through
// the caller's buf, one per digest), then it.
func writeItem(h hash.Hash, buf *[4]byte, parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	binary.BigEndian.PutUint32(buf[:], uint32(n))
	h.Write(buf[:])
	for _, p := range parts {
		h.Write(p)
	}
}

// digestStart is SHA-256 after the length-prefixed tag of l.
func digestStart(l Label) hash.Hash {
	tag := l.Tag()
	h := sha256.New()
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(tag))))
	h.Write(tag)
	return h
}

func digestSum(h hash.Hash) [32]byte {
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Labels of the bulletin board (SPEC.md §3).
const (
	EntrySignature Label = "board-entry-signature" // prefix of the message an entry's envelope signature signs
)

// Labels of the verifiable shuffle (docs/spec/shuffle.md, to be merged into SPEC.md).
const (
	ShuffleGenerators Label = "shuffle-generators" // HashToElement DST of the commitment generators h, h_1..h_N
	ShuffleStatement  Label = "shuffle-statement"  // digest (SHA-256) of a shuffle's statement: context, key, input and output ciphertexts, permutation commitment
	ShuffleChallenges Label = "shuffle-challenges" // challenge (HashToScalar): the per-ciphertext challenges u_1..u_N
	ShuffleProof      Label = "shuffle-proof"      // challenge (HashToScalar): the shuffle proof's challenge c
)

// Labels of the mix-net on the board (SPEC.md §11).
const (
	MixContext         Label = "mix-context"          // first item of a shuffle's context: election, question, trustee, position
	MixInput           Label = "mix-input"            // digest (SHA-256) naming the input rows of a shuffle: election, question, rows
	MixDecryptionSeed  Label = "mix-decryption-seed"  // digest (SHA-256) of a mix decryption's statement: election, question, trustee, key share, rows, shares
	MixDecryptionCoeff Label = "mix-decryption-coeff" // challenge (HashToScalar): coefficient z_ik of the batched Chaum–Pedersen proof
	MixDecryptionProof Label = "mix-decryption-proof" // challenge (HashToScalar): the batched Chaum–Pedersen proof's challenge
)

// Labels of ranked, score and write-in answers (docs/spec/kinds.md, to be
// merged into SPEC.md).
const (
	RankedEntryProof Label = "ranked-entry-proof" // challenge: 0-or-1 proof of one entry of a ranking matrix
	RankedSumProof   Label = "ranked-sum-proof"   // challenge: proof on a row, column, step or total sum of a ranking matrix
	ScoreProof       Label = "score-proof"        // challenge: min..max proof of one option's score
	WriteInProof     Label = "writein-proof"      // challenge: proof of knowledge of the randomness of a write-in's ciphertexts
	// KindChoicesTracker: digest (SHA-256) of a version-2 ballot's or
	// its audit's encrypted choices (SPEC.md §12.10). A label of its own, so
	// that no version-2 tracker is a version-1 one (ChoicesTracker).
	KindChoicesTracker Label = "kind-choices-tracker"
)
