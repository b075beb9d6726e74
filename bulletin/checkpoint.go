package bulletin

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
)

// Checkpoint is the body of a signed checkpoint note (SPEC.md §3.8), in the
// C2SP tlog-checkpoint format with one extension line binding the block
// chain:
//
//	<origin>\n
//	<size, decimal>\n
//	<root, standard base64>\n
//	block <height, decimal> <block hash, standard base64>\n
type Checkpoint struct {
	Origin    string
	Size      uint64 // ≥ 1
	Root      tlog.Hash
	Height    uint64   // height of the block whose LogSize is Size
	BlockHash [32]byte // hash of that block's header
}

// NodeKey is a board node's checkpoint signing key, as listed in the
// manifest: the node ID is the note key name.
type NodeKey struct {
	ID        string
	PublicKey ed25519.PublicKey
}

// MaxNoteSize bounds a checkpoint note (text and up to 100 signatures).
const MaxNoteSize = 16 * kib

// Origin returns the checkpoint origin of an election (SPEC.md §3.8):
// "urna/" || election id || "/" || first 16 lower-case hex digits of the fingerprint.
func Origin(electionID string, fingerprint [32]byte) string {
	return "urna/" + electionID + "/" + hex.EncodeToString(fingerprint[:8])
}

// Text returns the note text of the checkpoint (SPEC.md §3.8).
func (c *Checkpoint) Text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\nblock %d %s\n", c.Origin, c.Size,
		base64.StdEncoding.EncodeToString(c.Root[:]), c.Height, base64.StdEncoding.EncodeToString(c.BlockHash[:]))
	return b.Bytes()
}

// ParseCheckpointText decodes a checkpoint note text strictly: exactly the
// four lines of Text, canonical decimal (no sign, no leading zeros),
// canonical padded standard base64 of 32 bytes, size ≥ 1.
func ParseCheckpointText(text []byte) (*Checkpoint, error) {
	bad := func(what string) error { return fmt.Errorf("%w: checkpoint text: %s", ErrMalformed, what) }
	s := string(text)
	if !strings.HasSuffix(s, "\n") {
		return nil, bad("missing final newline")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != 4 {
		return nil, bad(fmt.Sprintf("%d lines, want 4", len(lines)))
	}
	c := &Checkpoint{Origin: lines[0]}
	if c.Origin == "" || strings.IndexFunc(c.Origin, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return nil, bad("origin")
	}
	var ok bool
	if c.Size, ok = parseDecimal(lines[1]); !ok || c.Size == 0 || c.Size > 1<<62 {
		return nil, bad("tree size")
	}
	if !parseHash(lines[2], c.Root[:]) {
		return nil, bad("root hash")
	}
	ext := strings.Split(lines[3], " ")
	if len(ext) != 3 || ext[0] != "block" {
		return nil, bad("block line")
	}
	if c.Height, ok = parseDecimal(ext[1]); !ok {
		return nil, bad("block height")
	}
	if !parseHash(ext[2], c.BlockHash[:]) {
		return nil, bad("block hash")
	}
	return c, nil
}

func parseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

func parseHash(s string, out []byte) bool {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 32 || base64.StdEncoding.EncodeToString(b) != s {
		return false
	}
	copy(out, b)
	return true
}

// SignCheckpoint returns the signed note of c with one signature by signer,
// the node's Ed25519 note signer whose name MUST be the node ID (SPEC.md §3.8).
func SignCheckpoint(c *Checkpoint, signer note.Signer) ([]byte, error) {
	if _, err := ParseCheckpointText(c.Text()); err != nil {
		return nil, err
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, signer)
	if err != nil {
		return nil, fmt.Errorf("bulletin: signing checkpoint: %w", err)
	}
	return msg, nil
}

// MergeCheckpointSignatures combines notes with identical text into one note
// carrying the union of their signature lines, sorted, duplicates removed.
// It does not verify signatures (OpenCheckpoint does).
func MergeCheckpointSignatures(notes ...[]byte) ([]byte, error) {
	if len(notes) == 0 {
		return nil, fmt.Errorf("%w: no notes to merge", ErrMalformed)
	}
	var text string
	lines := map[string]bool{}
	for i, n := range notes {
		t, sigs, err := splitNote(n)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			text = t
		} else if t != text {
			return nil, fmt.Errorf("%w: merging notes with different texts", ErrCheckpoint)
		}
		for _, l := range sigs {
			lines[l] = true
		}
	}
	sorted := make([]string, 0, len(lines))
	for l := range lines {
		sorted = append(sorted, l)
	}
	sort.Strings(sorted)
	out := text + "\n" + strings.Join(sorted, "\n") + "\n"
	if len(out) > MaxNoteSize {
		return nil, fmt.Errorf("%w: merged note exceeds %d bytes", ErrMalformed, MaxNoteSize)
	}
	return []byte(out), nil
}

// splitNote parses a note's structure without verifying signatures.
func splitNote(msg []byte) (text string, sigLines []string, err error) {
	if len(msg) > MaxNoteSize {
		return "", nil, fmt.Errorf("%w: note exceeds %d bytes", ErrMalformed, MaxNoteSize)
	}
	_, err = note.Open(msg, note.VerifierList())
	var unv *note.UnverifiedNoteError
	if !errors.As(err, &unv) {
		return "", nil, fmt.Errorf("%w: checkpoint note: %v", ErrMalformed, err)
	}
	for _, s := range unv.Note.UnverifiedSigs {
		sigLines = append(sigLines, "— "+s.Name+" "+s.Base64)
	}
	return unv.Note.Text, sigLines, nil
}

// OpenCheckpoint verifies a signed checkpoint note (SPEC.md V3.1–V3.4): the
// text parses strictly and names origin, no signature by a known node is
// invalid, and at least quorum distinct known nodes signed it. Signatures by
// unknown keys are ignored. Errors wrap ErrMalformed or ErrCheckpoint.
// Board.Open adds the witness quorum (V3.9) where the manifest asks for one.
func OpenCheckpoint(noteText []byte, origin string, nodes []NodeKey, quorum int) (*Checkpoint, error) {
	return openCheckpoint(noteText, origin, nodes, quorum, nil, 0)
}

// openCheckpoint is V3.1–V3.4 and V3.9: the node quorum, and, when
// witnessQuorum > 0, at least witnessQuorum distinct listed witnesses with
// a valid cosignature/v1 line (no listed witness's line invalid).
func openCheckpoint(noteText []byte, origin string, nodes []NodeKey, quorum int, witnesses []WitnessKey, witnessQuorum int) (*Checkpoint, error) {
	if len(noteText) > MaxNoteSize {
		return nil, fmt.Errorf("%w: note exceeds %d bytes", ErrMalformed, MaxNoteSize)
	}
	if quorum < 1 || quorum > len(nodes) {
		return nil, fmt.Errorf("%w: quorum %d of %d nodes", ErrCheckpoint, quorum, len(nodes))
	}
	if witnessQuorum < 0 || witnessQuorum > len(witnesses) {
		return nil, fmt.Errorf("%w: witness quorum %d of %d witnesses", ErrCheckpoint, witnessQuorum, len(witnesses))
	}
	vs := make([]note.Verifier, 0, len(nodes)+len(witnesses))
	seen := map[string]bool{}
	for _, n := range nodes {
		if seen[n.ID] {
			return nil, fmt.Errorf("%w: node %q listed twice", ErrCheckpoint, n.ID)
		}
		seen[n.ID] = true
		vk, err := note.NewEd25519VerifierKey(n.ID, n.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: node %q: %v", ErrCheckpoint, n.ID, err)
		}
		v, err := note.NewVerifier(vk)
		if err != nil {
			return nil, fmt.Errorf("%w: node %q: %v", ErrCheckpoint, n.ID, err)
		}
		vs = append(vs, v)
	}
	isWitness := map[string]bool{}
	if witnessQuorum > 0 {
		for _, w := range witnesses {
			if seen[w.Name] {
				return nil, fmt.Errorf("%w: %q listed twice among nodes and witnesses", ErrCheckpoint, w.Name)
			}
			seen[w.Name], isWitness[w.Name] = true, true
			v, err := newWitnessVerifier(w)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
			}
			vs = append(vs, v)
		}
	}
	n, err := note.Open(noteText, note.VerifierList(vs...))
	var unv *note.UnverifiedNoteError
	var inv *note.InvalidSignatureError
	switch {
	case errors.As(err, &unv):
		return nil, fmt.Errorf("%w: no signature by a known node", ErrCheckpoint)
	case errors.As(err, &inv) && isWitness[inv.Name]:
		return nil, fmt.Errorf("%w: invalid cosignature by witness %q", ErrCheckpoint, inv.Name)
	case errors.As(err, &inv):
		return nil, fmt.Errorf("%w: invalid signature by node %q", ErrCheckpoint, inv.Name)
	case err != nil:
		return nil, fmt.Errorf("%w: checkpoint note: %v", ErrMalformed, err)
	}
	// note.Open drops repeated signatures of one key; node IDs and witness
	// names are unique, so distinct names are distinct signers.
	signers, cosigners := map[string]bool{}, map[string]bool{}
	for _, s := range n.Sigs {
		if isWitness[s.Name] {
			cosigners[s.Name] = true
		} else {
			signers[s.Name] = true
		}
	}
	if len(signers) < quorum {
		return nil, fmt.Errorf("%w: %d node signatures, quorum is %d", ErrCheckpoint, len(signers), quorum)
	}
	if len(cosigners) < witnessQuorum {
		return nil, fmt.Errorf("%w: %d witness cosignatures, witness quorum is %d", ErrCheckpoint, len(cosigners), witnessQuorum)
	}
	c, err := ParseCheckpointText([]byte(n.Text))
	if err != nil {
		return nil, err
	}
	if c.Origin != origin {
		return nil, fmt.Errorf("%w: origin %q, expected %q", ErrCheckpoint, c.Origin, origin)
	}
	return c, nil
}

// BoardFor returns the checkpoint rules of the election of manifest m
// (SPEC.md §3.8, §3.13): its origin, board nodes and quorum, and its
// witnesses and witness quorum (none for a version-1 manifest). m MUST be
// valid. Every party that opens checkpoints of an election uses this one
// copy of the rule.
func BoardFor(m *ballot.Manifest) *Board {
	b := &Board{Origin: Origin(m.ElectionID, m.Fingerprint()), Quorum: int(m.BoardQuorum), WitnessQuorum: int(m.WitnessQuorum)}
	for _, n := range m.BoardNodes {
		b.Nodes = append(b.Nodes, NodeKey{ID: n.ID, PublicKey: ed25519.PublicKey(n.Key)})
	}
	for _, w := range m.Witnesses {
		b.Witnesses = append(b.Witnesses, WitnessKey{Name: w.Name, PublicKey: ed25519.PublicKey(w.Key)})
	}
	return b
}

// AttachCosignatures returns the note with the verified witness signature
// lines cs added (sorted, duplicates removed, as MergeCheckpointSignatures).
func AttachCosignatures(noteText []byte, cs []Cosignature) ([]byte, error) {
	text, _, err := splitNote(noteText)
	if err != nil {
		return nil, err
	}
	extra := []byte(text + "\n")
	for _, c := range cs {
		extra = append(extra, c.Line...)
	}
	if len(cs) == 0 {
		return noteText, nil
	}
	return MergeCheckpointSignatures(noteText, extra)
}

// NodeSigner wraps an Ed25519 private key as the note signer of node id.
func NodeSigner(id string, key ed25519.PrivateKey) (note.Signer, error) {
	vk, err := note.NewEd25519VerifierKey(id, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vk)
	if err != nil {
		return nil, err
	}
	return &nodeSigner{name: id, hash: v.KeyHash(), key: key}, nil
}

type nodeSigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func (s *nodeSigner) Name() string                    { return s.name }
func (s *nodeSigner) KeyHash() uint32                 { return s.hash }
func (s *nodeSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }
