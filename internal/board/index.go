package board

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/store"
)

// Keys of the board's metadata in store.NSMeta (the layout is in doc.go).
var (
	keyManifest   = []byte("manifest")   // canonical manifest bytes
	keyState      = []byte("state")      // canonical bulletin.ElectionState
	keyCheckpoint = []byte("checkpoint") // u64 size of the newest checkpoint with a quorum of cosignatures
	keyResult     = []byte("result")     // u64 seq of the result entry
	keyVoted      = []byte("voted")      // u64 number of credentials with at least one cast ballot
	keyWitnessed  = []byte("witnessed")  // u64 size of the newest quorum checkpoint with a witness quorum
	keyWitnessSig = []byte("wcosig/")    // ‖ u64 size ‖ witness name → the cosignature (key ID, time, signature)
	keyBytes      = []byte("bytes")      // u64 sum of the byte lengths of the election's entries (SPEC.md §3.14.5)
	keyArchived   = []byte("archived")   // u64 log size at which the election was archived (SPEC.md §3.14.3)
)

func loadRules(tx store.ReadTx) (*bulletin.ElectionState, error) {
	raw, err := tx.Get(store.NSMeta, keyState)
	if errors.Is(err, store.ErrNotFound) {
		return &bulletin.ElectionState{}, nil
	}
	if err != nil {
		return nil, err
	}
	return bulletin.ParseElectionState(raw)
}

// saveRules stores the rules' state after a batch that accepted entries.
func saveRules(tx store.WriteTx, v *state) error {
	return tx.Put(store.NSMeta, keyState, v.rules.Bytes())
}

// domainErrors are the rule rejections of an entry: deterministic outcomes
// returned to the submitter. Any other error while applying is a storage
// failure.
var domainErrors = []error{
	bulletin.ErrMalformed, bulletin.ErrInvalidSignature, bulletin.ErrWrongPhase,
	bulletin.ErrClosed, bulletin.ErrNotOpenYet, bulletin.ErrWrongElection, bulletin.ErrNotAuthorized,
	bulletin.ErrUnknownCredential, bulletin.ErrDuplicate, bulletin.ErrAudited, bulletin.ErrAuditLimit,
	bulletin.ErrInvalidBody, bulletin.ErrInvalidProof, ErrArchived, ErrQuota,
}

func isDomain(err error) bool {
	for _, d := range domainErrors {
		if errors.Is(err, d) {
			return true
		}
	}
	return false
}

// txIndex is bulletin.Index over a store transaction: reads see the
// effects written earlier in the same transaction.
type txIndex struct {
	tx store.ReadTx
	// lastCred is the credential HasCredential last found and its stored
	// value, for the apply of the same entry (credentialRow): a ballot's
	// credential is read once, by the rules, not again for its effects.
	lastCred      [32]byte
	lastCredValue []byte
}

func (x *txIndex) HasCredential(cred [32]byte) (bool, error) {
	v, err := x.tx.Get(store.NSCredential, cred[:])
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	x.lastCred, x.lastCredValue = cred, v
	return true, nil
}

// credentialRow is cred's stored value, read again unless HasCredential
// just found it. The index MUST be of the entry being applied, before its
// effects are written.
func (x *txIndex) credentialRow(cred [32]byte) ([]byte, error) {
	if x.lastCredValue != nil && x.lastCred == cred {
		return x.lastCredValue, nil
	}
	return x.tx.Get(store.NSCredential, cred[:])
}

func (x *txIndex) EntrySeen(id [32]byte) (bool, error) { return x.has(store.NSEntryHash, id[:]) }

func (x *txIndex) Tracker(tracker [32]byte) (bulletin.TrackerRecord, bool, error) {
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

func (x *txIndex) has(ns store.Namespace, key []byte) (bool, error) {
	_, err := x.tx.Get(ns, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Tracker records are stored as kind:u8 seq:u64; credentials map to the
// sequence number of their latest ballot, noBallot before the first.
const noBallot = ^uint64(0)

// eachCounted calls fn with every credential that has cast a ballot and
// the sequence number of its counted ballot, its latest cast one (SPEC.md
// V10), in credential order.
func eachCounted(tx store.ReadTx, fn func(cred []byte, seq uint64) error) error {
	return tx.Scan(store.NSCredential, nil, func(key, val []byte) error {
		if len(val) != 8 {
			return fmt.Errorf("stored ballot index of %d bytes", len(val))
		}
		if seq := binary.BigEndian.Uint64(val); seq != noBallot {
			return fn(key, seq)
		}
		return nil
	})
}

// storedEntry returns entry seq of the log, decoded.
func storedEntry(tx store.ReadTx, seq uint64) (*bulletin.Entry, error) {
	data, err := tx.Entry(seq)
	if err != nil {
		return nil, err
	}
	return bulletin.ParseEntry(data)
}

func encodeTrackerRecord(r *bulletin.TrackerRecord) []byte {
	return append([]byte{byte(r.Kind)}, u64(r.Seq)...)
}

func decodeTrackerRecord(tracker [32]byte, v []byte) (bulletin.TrackerRecord, error) {
	if len(v) != 9 {
		return bulletin.TrackerRecord{}, fmt.Errorf("board: stored tracker record of %d bytes", len(v))
	}
	return bulletin.TrackerRecord{Tracker: tracker, Kind: bulletin.TrackerKind(v[0]), Seq: binary.BigEndian.Uint64(v[1:])}, nil
}

// weightKey is the NSTally key of the weight (u32) of credential c, kept
// only for weights other than 1 (SPEC.md §5.3), so an unweighted election
// stores nothing more.
func weightKey(c [32]byte) []byte { return append([]byte("weight/"), c[:]...) }

// credentialWeight returns the weight of the registered credential c.
func credentialWeight(tx store.ReadTx, c [32]byte) (uint32, error) {
	v, err := tx.Get(store.NSTally, weightKey(c))
	if errors.Is(err, store.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("board: stored weight of %d bytes", len(v))
	}
	return binary.BigEndian.Uint32(v), nil
}

// dealKey is the NSTally key of dealer i's deal entry sequence number.
func dealKey(i int) []byte { return binary.BigEndian.AppendUint16([]byte("deal/"), uint16(i)) }
