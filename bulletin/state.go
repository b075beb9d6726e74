package bulletin

import (
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/wire"
)

// Phase is the phase of an election on the board (SPEC.md §3.9).
type Phase uint8

// The phases, in order. Every transition is caused by one entry.
const (
	PhaseEmpty       Phase = 0 // no entry yet; only the manifest is accepted
	PhaseSetup       Phase = 1 // after the manifest; waiting for the credential list
	PhaseKeyCeremony Phase = 2 // after the credential list; trustees run the DKG
	PhaseOpen        Phase = 3 // after open; ballots accepted
	PhaseClosed      Phase = 4 // after close; waiting for partial decryptions
	PhaseTally       Phase = 5 // after the first partial decryption
	PhaseResult      Phase = 6 // after the result; nothing more is accepted
	maxPhase               = PhaseResult
)

func (p Phase) String() string {
	names := [...]string{"empty", "setup", "key-ceremony", "open", "closed", "tally", "result"}
	if int(p) < len(names) {
		return names[p]
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// TrusteeState is the key-ceremony and tally progress of one trustee.
type TrusteeState struct {
	Key          [32]byte // Schnorr signing key from the manifest
	Dealt        bool     // posted its dkg-deal
	ConstantTerm [32]byte // C_i0 of its deal (valid if Dealt)
	Confirmed    bool     // posted its dkg-confirmation
	Complainers  []uint16 // trustees that complained against this dealer, increasing
	Answered     []uint16 // complainers answered by a reveal, increasing, ⊆ Complainers
	Partial      bool     // posted its partial decryption
}

// ElectionState is the small, fixed-size-per-trustee state the rules keep
// (SPEC.md §3.9). Unbounded sets (credentials, trackers, entry ids) live in
// storage behind Index. Its canonical encoding (Bytes) is what a node
// snapshots; two replicas that applied the same entries hold equal bytes.
type ElectionState struct {
	Phase               Phase
	Election            [32]byte // election fingerprint (zero while PhaseEmpty)
	ElectionID          string
	Authority           [32]byte
	CredentialAuthority [32]byte
	Threshold           uint16
	Trustees            []TrusteeState // trustee i at position i-1
	Nodes               []NodeKey      // board nodes (checkpoint signers)
	Quorum              uint16         // checkpoint signatures needed
	JointKey            [32]byte       // set by open
	Qualified           []uint16       // QUAL, set by open
	Entries             uint64         // entries applied = next sequence number
	Credentials         uint64         // registered credentials
	Ballots             uint64         // cast ballots accepted (revotes included)
	Audited             uint64         // audited ballots accepted
	Partials            uint16         // partial decryptions accepted
	// The voting window of a version-4 manifest (SPEC.md §3.9): Unix
	// milliseconds (0: none), and whether the manifest forbids the manual
	// close. All zero for versions 1–3.
	OpensAt, ClosesAt uint64
	NoManualClose     bool
	// Mixes is the cascade state of every mixed question of a version-3
	// manifest, in increasing question order (SPEC.md §11.2); nil otherwise.
	Mixes []MixState
}

// StateVersion is the version byte of the ElectionState encoding.
// StateVersionScheduled is the encoding of a state with a voting window,
// which appends it; a state without one encodes as before windows existed.
const (
	StateVersion          = 1
	StateVersionScheduled = 2
	// StateVersionMixed appends the window (always) and the cascades of
	// the mixed questions (SPEC.md §3.9.3).
	StateVersionMixed = 3
)

// Window returns the voting window of the election (ballot.Manifest.Window).
func (st *ElectionState) Window() ballot.Schedule {
	return ballot.Schedule{OpensAt: st.OpensAt, ClosesAt: st.ClosesAt, Manual: !st.NoManualClose}
}

func (st *ElectionState) scheduled() bool {
	return st.OpensAt != 0 || st.ClosesAt != 0 || st.NoManualClose
}

// Origin returns the checkpoint origin of the election (empty while PhaseEmpty).
func (st *ElectionState) Origin() string {
	if st.Phase == PhaseEmpty {
		return ""
	}
	return Origin(st.ElectionID, st.Election)
}

// Board returns the checkpoint-verification keys of the election.
func (st *ElectionState) Board() *Board {
	return &Board{Origin: st.Origin(), Nodes: slices.Clone(st.Nodes), Quorum: int(st.Quorum)}
}

// Clone returns a deep copy.
func (st *ElectionState) Clone() *ElectionState {
	c := *st
	c.Trustees = make([]TrusteeState, len(st.Trustees))
	for i, t := range st.Trustees {
		t.Complainers = slices.Clone(t.Complainers)
		t.Answered = slices.Clone(t.Answered)
		c.Trustees[i] = t
	}
	c.Mixes = make([]MixState, len(st.Mixes))
	for i, mx := range st.Mixes {
		c.Mixes[i] = MixState{Question: mx.Question, Shufflers: slices.Clone(mx.Shufflers), Decrypters: slices.Clone(mx.Decrypters)}
	}
	if st.Mixes == nil {
		c.Mixes = nil
	}
	c.Nodes = slices.Clone(st.Nodes)
	c.Qualified = slices.Clone(st.Qualified)
	return &c
}

func u16list(w *wire.Writer, l []uint16) {
	w.Count(len(l))
	for _, v := range l {
		w.U16(v)
	}
}

func readU16List(r *wire.Reader, what string, max int) []uint16 {
	n := r.Count(what, max)
	out := make([]uint16, 0, n)
	for k := 0; k < n && r.Err() == nil; k++ {
		v := r.U16(what)
		if r.Err() == nil && (v == 0 || (k > 0 && v <= out[k-1])) {
			r.Failf("%s: not strictly increasing indexes ≥ 1", what)
		}
		out = append(out, v)
	}
	return out
}

func flagByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// Bytes returns the canonical encoding (SPEC.md §3.9.3).
func (st *ElectionState) Bytes() []byte {
	w := wire.NewWriter(256 + 128*len(st.Trustees))
	version := uint8(StateVersion)
	if st.scheduled() {
		version = StateVersionScheduled
	}
	if len(st.Mixes) > 0 {
		version = StateVersionMixed
	}
	w.U8(version).U8(uint8(st.Phase)).Fixed(st.Election[:]).String(st.ElectionID).
		Fixed(st.Authority[:]).Fixed(st.CredentialAuthority[:]).U16(st.Threshold).Count(len(st.Trustees))
	for _, t := range st.Trustees {
		w.Fixed(t.Key[:]).U8(flagByte(t.Dealt)).Fixed(t.ConstantTerm[:]).U8(flagByte(t.Confirmed)).U8(flagByte(t.Partial))
		u16list(w, t.Complainers)
		u16list(w, t.Answered)
	}
	w.Count(len(st.Nodes))
	for _, n := range st.Nodes {
		w.String(n.ID).Fixed(n.PublicKey)
	}
	w.U16(st.Quorum).Fixed(st.JointKey[:])
	u16list(w, st.Qualified)
	w.U64(st.Entries).U64(st.Credentials).U64(st.Ballots).U64(st.Audited).U16(st.Partials)
	if version >= StateVersionScheduled {
		w.U64(st.OpensAt).U64(st.ClosesAt).U8(flagByte(st.NoManualClose))
	}
	if version == StateVersionMixed {
		w.Count(len(st.Mixes))
		for _, mx := range st.Mixes {
			w.U16(mx.Question)
			w.Count(len(mx.Shufflers))
			for _, j := range mx.Shufflers {
				w.U16(j)
			}
			u16list(w, mx.Decrypters)
		}
	}
	return w.Out()
}

// ParseElectionState decodes ElectionState.Bytes strictly.
func ParseElectionState(b []byte) (*ElectionState, error) {
	r := wire.NewReader(b)
	version := r.U8("version")
	if r.Err() == nil && (version < StateVersion || version > StateVersionMixed) {
		r.Failf("state version %d", version)
	}
	st := &ElectionState{Phase: Phase(r.U8("phase"))}
	if r.Err() == nil && st.Phase > maxPhase {
		r.Failf("phase %d", st.Phase)
	}
	copy(st.Election[:], r.Fixed("election", 32))
	st.ElectionID = r.String("election id", 64)
	copy(st.Authority[:], r.Fixed("authority", 32))
	copy(st.CredentialAuthority[:], r.Fixed("credential authority", 32))
	st.Threshold = r.U16("threshold")
	n := r.Count("trustees", MaxTrustees)
	for i := 0; i < n && r.Err() == nil; i++ {
		var t TrusteeState
		copy(t.Key[:], r.Fixed("trustee key", 32))
		t.Dealt = r.Flag("dealt")
		copy(t.ConstantTerm[:], r.Fixed("constant term", 32))
		t.Confirmed = r.Flag("confirmed")
		t.Partial = r.Flag("partial")
		t.Complainers = readU16List(r, "complainers", MaxTrustees)
		t.Answered = readU16List(r, "answered", MaxTrustees)
		st.Trustees = append(st.Trustees, t)
	}
	m := r.Count("nodes", 1024)
	for i := 0; i < m && r.Err() == nil; i++ {
		st.Nodes = append(st.Nodes, NodeKey{ID: r.String("node id", 256), PublicKey: ed25519.PublicKey(r.Fixed("node key", ed25519.PublicKeySize))})
	}
	st.Quorum = r.U16("quorum")
	copy(st.JointKey[:], r.Fixed("joint key", 32))
	st.Qualified = readU16List(r, "qualified", MaxTrustees)
	st.Entries, st.Credentials, st.Ballots, st.Audited = r.U64("entries"), r.U64("credentials"), r.U64("ballots"), r.U64("audited")
	st.Partials = r.U16("partials")
	if version >= StateVersionScheduled {
		st.OpensAt, st.ClosesAt, st.NoManualClose = r.U64("opens_at"), r.U64("closes_at"), r.Flag("no manual close")
		if r.Err() == nil && version == StateVersionScheduled && !st.scheduled() {
			r.Failf("state version %d without a window", version)
		}
	}
	if version == StateVersionMixed {
		st.Mixes = readMixes(r)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: election state: %v", ErrMalformed, err)
	}
	return st, nil
}
