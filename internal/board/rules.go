package board

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/store"
)

// keyState holds the canonical bulletin.ElectionState in store.NSMeta.
var keyState = []byte("state")

// rulesState is the election rules' state carried in the view.
type rulesState struct {
	st *bulletin.ElectionState
}

func (r rulesState) clone() rulesState {
	if r.st == nil {
		return r
	}
	return rulesState{st: r.st.Clone()}
}

func loadRules(tx store.ReadTx, _ *view) (rulesState, error) {
	raw, err := tx.Get(store.NSMeta, keyState)
	if errors.Is(err, store.ErrNotFound) {
		return rulesState{st: &bulletin.ElectionState{}}, nil
	}
	if err != nil {
		return rulesState{}, err
	}
	st, err := bulletin.ParseElectionState(raw)
	if err != nil {
		return rulesState{}, err
	}
	return rulesState{st: st}, nil
}

// accepted describes an entry the rules accepted.
type accepted struct {
	tracker []byte // ballots: the tracker, else nil
}

// domainErrors are the rule rejections of an entry: deterministic outcomes
// returned to the submitter. Any other error while applying is a storage
// failure.
var domainErrors = []error{
	bulletin.ErrMalformed, bulletin.ErrInvalidSignature, bulletin.ErrWrongPhase,
	bulletin.ErrClosed, bulletin.ErrWrongElection, bulletin.ErrNotAuthorized,
	bulletin.ErrUnknownCredential, bulletin.ErrDuplicate, bulletin.ErrAudited,
	bulletin.ErrInvalidBody, bulletin.ErrInvalidProof,
}

func isDomain(err error) bool {
	for _, d := range domainErrors {
		if errors.Is(err, d) {
			return true
		}
	}
	return false
}

// rules is the election state machine with the node's body decoders.
var rules = bulletin.NewRules(bodies{})

// txIndex is bulletin.Index over a store transaction: reads see the
// effects written earlier in the same transaction.
type txIndex struct{ tx store.ReadTx }

func (x txIndex) HasCredential(cred [32]byte) (bool, error) {
	return x.has(store.NSCredential, cred[:])
}

func (x txIndex) EntrySeen(id [32]byte) (bool, error) { return x.has(store.NSEntryHash, id[:]) }

func (x txIndex) Tracker(tracker [32]byte) (bulletin.TrackerRecord, bool, error) {
	v, err := x.tx.Get(store.NSTracker, tracker[:])
	if errors.Is(err, store.ErrNotFound) {
		return bulletin.TrackerRecord{}, false, nil
	}
	if err != nil {
		return bulletin.TrackerRecord{}, false, err
	}
	rec, err := decodeTrackerRecord(tracker, v)
	return rec, err == nil, err
}

func (x txIndex) has(ns store.Namespace, key []byte) (bool, error) {
	_, err := x.tx.Get(ns, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Tracker records are stored as kind:u8 seq:u64; credentials map to the
// sequence number of their latest ballot, noBallot before the first.
const noBallot = ^uint64(0)

func encodeTrackerRecord(r *bulletin.TrackerRecord) []byte {
	return append([]byte{byte(r.Kind)}, u64(r.Seq)...)
}

func decodeTrackerRecord(tracker [32]byte, v []byte) (bulletin.TrackerRecord, error) {
	if len(v) != 9 {
		return bulletin.TrackerRecord{}, fmt.Errorf("board: stored tracker record of %d bytes", len(v))
	}
	return bulletin.TrackerRecord{Tracker: tracker, Kind: bulletin.TrackerKind(v[0]), Seq: binary.BigEndian.Uint64(v[1:])}, nil
}

// applyEntry runs the election rules on the entry with sequence number seq
// against the state in tx and v, writes the rules' effects (SPEC.md §3.9)
// to tx and updates v. A rejection leaves tx and v unchanged.
//
// It reads the entry with bulletin.ReadHeader, which checks the layout but
// does not decode the author key and signature: the proposing node decoded
// them strictly and verified the signature before proposing (preCheck,
// SPEC.md §3.9.1), and the two square roots of a strict decode per entry
// and replica were the largest cost of Apply.
func applyEntry(tx store.WriteTx, v *view, seq uint64, raw []byte) (accepted, error) {
	e, err := bulletin.ReadHeader(raw)
	if err != nil {
		return accepted{}, err
	}
	st := v.rules.st
	if st.Entries != seq {
		return accepted{}, fmt.Errorf("board: rules state at entry %d, log at %d", st.Entries, seq)
	}
	eff, err := rules.ApplyHeader(st, txIndex{tx}, e)
	if err != nil {
		return accepted{}, err
	}
	if e.Type == bulletin.TypeManifest {
		el, err := newElection(e.Body)
		if err != nil {
			return accepted{}, err
		}
		if err := tx.Put(store.NSMeta, keyManifest, e.Body); err != nil {
			return accepted{}, err
		}
		v.manifest = el
	}
	if e.Type == bulletin.TypeDKGDeal && v.manifest != nil {
		// Index the deal by dealer so the pre-check can find it for reveals
		// and verification keys (the rules accepted one deal per trustee).
		if i := trusteeIndex(st, e.Author); i > 0 {
			if err := tx.Put(store.NSTally, dealKey(i), u64(eff.Seq)); err != nil {
				return accepted{}, err
			}
		}
	}
	if e.Type == bulletin.TypeResult {
		if err := tx.Put(store.NSMeta, keyResult, u64(eff.Seq)); err != nil {
			return accepted{}, err
		}
	}
	if err := tx.Put(store.NSEntryHash, eff.ID[:], u64(eff.Seq)); err != nil {
		return accepted{}, err
	}
	for _, c := range eff.Credentials {
		if err := tx.Put(store.NSCredential, c[:], u64(noBallot)); err != nil {
			return accepted{}, err
		}
	}
	var acc accepted
	if eff.Tracker != nil {
		if err := tx.Put(store.NSTracker, eff.Tracker.Tracker[:], encodeTrackerRecord(eff.Tracker)); err != nil {
			return accepted{}, err
		}
		acc.tracker = eff.Tracker.Tracker[:]
	}
	if lb := eff.LastBallot; lb != nil {
		if err := tx.Put(store.NSCredential, lb.Credential[:], u64(lb.Seq)); err != nil {
			return accepted{}, err
		}
	}
	return acc, nil
}

// trusteeIndex returns the index 1..n of the trustee whose signing key is
// author, or 0.
func trusteeIndex(st *bulletin.ElectionState, author [32]byte) int {
	for i, t := range st.Trustees {
		if t.Key == author {
			return i + 1
		}
	}
	return 0
}

// dealKey is the NSTally key of dealer i's deal entry sequence number.
func dealKey(i int) []byte { return binary.BigEndian.AppendUint16([]byte("deal/"), uint16(i)) }

// saveRules stores the rules' state after a batch that accepted entries.
func saveRules(tx store.WriteTx, v *view) error {
	if v.rules.st == nil {
		return nil
	}
	return tx.Put(store.NSMeta, keyState, v.rules.st.Bytes())
}
