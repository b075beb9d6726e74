package witness

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/durable"
)

// Errors of AddCheckpoint. Each maps to one HTTP status of C2SP
// tlog-witness (StatusOf).
var (
	// ErrMalformed: the request or the checkpoint does not decode, or the
	// old size exceeds the checkpoint's (400 Bad Request).
	ErrMalformed = errMalformed
	// ErrUnknownOrigin: no configured election has this origin (404).
	ErrUnknownOrigin = errors.New("witness: unknown checkpoint origin")
	// ErrNotSigned: the checkpoint lacks a valid quorum of the election's
	// board-node signatures (403 Forbidden).
	ErrNotSigned = errors.New("witness: checkpoint not signed by a quorum of the election's board nodes")
	// ErrInconsistent: same size as the cosigned checkpoint, another root
	// or block (409 Conflict). The board signed two histories.
	ErrInconsistent = errors.New("witness: checkpoint contradicts the one cosigned at the same size")
	// ErrBadProof: the consistency proof from the cosigned checkpoint does
	// not verify, or the block height did not grow (422).
	ErrBadProof = errors.New("witness: checkpoint does not extend the one cosigned before")
)

// ConflictError: the request's old size is not the size of the latest
// checkpoint the witness cosigned for the origin (409 Conflict, with Size
// as a text/x.tlog.size body). The client retries from Size.
type ConflictError struct{ Size uint64 }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("witness: old size does not match the latest cosigned size %d", e.Size)
}

// Config configures a Witness.
type Config struct {
	// Name is the witness's note key name, as the manifests list it.
	Name string
	// Key signs cosignatures; its public key is the one the manifests list.
	Key ed25519.PrivateKey
	// Dir keeps the last cosigned checkpoint per origin, and evidence.
	Dir string
	// Elections are the manifests of the elections witnessed.
	Elections []*ballot.Manifest
	// Now is the cosignature clock. Default time.Now.
	Now func() time.Time
}

// Witness is a checkpoint witness (SPEC.md §3.13). It is safe for
// concurrent use.
type Witness struct {
	cfg    Config
	signer note.Signer
	boards map[string]*bulletin.Board // by origin: node keys and quorum

	mu     sync.Mutex
	latest map[string]*cosigned // by origin
}

type cosigned struct {
	cp   *bulletin.Checkpoint
	note []byte // the note as cosigned (node signatures and ours)
}

// New opens a witness: it loads the last cosigned checkpoint of every
// configured election from cfg.Dir (creating it) and checks that each still
// opens with its manifest.
func New(cfg Config) (*Witness, error) {
	if !ballot.ValidWitnessName(cfg.Name) {
		return nil, fmt.Errorf("witness: name %q is not a witness name (1..%d characters of [A-Za-z0-9._/:-])", cfg.Name, ballot.MaxWitnessName)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	signer, err := bulletin.WitnessSigner(cfg.Name, cfg.Key, func() uint64 { return uint64(cfg.Now().Unix()) })
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	if cfg.Dir == "" {
		return nil, errors.New("witness: no state directory")
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "evidence"), 0o700); err != nil {
		return nil, fmt.Errorf("witness: state directory: %w", err)
	}
	w := &Witness{cfg: cfg, signer: signer, boards: map[string]*bulletin.Board{}, latest: map[string]*cosigned{}}
	pub := cfg.Key.Public().(ed25519.PublicKey)
	for _, m := range cfg.Elections {
		b := bulletin.BoardFor(m)
		// The witness checks the node quorum only: its own cosignature is
		// what it adds.
		b.Witnesses, b.WitnessQuorum = nil, 0
		if _, dup := w.boards[b.Origin]; dup {
			return nil, fmt.Errorf("witness: election %q given twice", m.ElectionID)
		}
		for _, wk := range m.Witnesses {
			if wk.Name == cfg.Name && !bytes.Equal(wk.Key, pub) {
				return nil, fmt.Errorf("witness: election %q lists witness %q with another key than ours", m.ElectionID, cfg.Name)
			}
		}
		w.boards[b.Origin] = b
		raw, err := os.ReadFile(w.statePath(b.Origin))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("witness: state of %s: %w", b.Origin, err)
		}
		cp, err := b.Open(raw)
		if err != nil {
			return nil, fmt.Errorf("witness: stored checkpoint of %s: %w", b.Origin, err)
		}
		w.latest[b.Origin] = &cosigned{cp: cp, note: raw}
	}
	return w, nil
}

// Latest returns the last checkpoint note the witness cosigned for origin
// (with the node signatures and its cosignature), or nil.
func (w *Witness) Latest(origin string) []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.latest[origin]; c != nil {
		return bytes.Clone(c.note)
	}
	return nil
}

// AddCheckpoint runs add-checkpoint (C2SP tlog-witness; SPEC.md §3.13) and
// returns the cosignature line. It refuses a checkpoint that is not of a
// configured election, lacks the node quorum, or is not proven to extend
// the last checkpoint it cosigned for the origin; the check and the update
// of that checkpoint are one atomic step.
func (w *Witness) AddCheckpoint(r *Request) ([]byte, error) {
	text, _, _ := strings.Cut(string(r.Note), "\n\n")
	origin, _, _ := strings.Cut(text, "\n")
	b := w.boards[origin]
	if b == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownOrigin, origin)
	}
	cp, err := b.Open(r.Note)
	switch {
	case errors.Is(err, bulletin.ErrMalformed):
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNotSigned, err)
	case r.OldSize > cp.Size:
		return nil, fmt.Errorf("%w: old size %d is larger than the checkpoint's %d", ErrMalformed, r.OldSize, cp.Size)
	}
	text = string(cp.Text())

	w.mu.Lock()
	defer w.mu.Unlock()
	prev := w.latest[origin]
	var prevSize uint64
	if prev != nil {
		prevSize = prev.cp.Size
	}
	if r.OldSize != prevSize {
		return nil, &ConflictError{Size: prevSize}
	}
	if err := w.extends(prev, cp, r); err != nil {
		if e := w.keepEvidence(origin, prev, r); e != nil {
			err = fmt.Errorf("%w (evidence not saved: %v)", err, e)
		}
		return nil, err
	}
	signed, err := note.Sign(&note.Note{Text: text}, w.signer)
	if err != nil {
		return nil, fmt.Errorf("witness: cosigning: %w", err)
	}
	line := signed[len(text)+1:]
	stored, err := bulletin.MergeCheckpointSignatures(r.Note, signed)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	if err := writeFileAtomic(w.statePath(origin), stored); err != nil {
		return nil, fmt.Errorf("witness: persisting the checkpoint: %w", err)
	}
	w.latest[origin] = &cosigned{cp: cp, note: stored}
	return line, nil
}

// extends checks that cp extends prev (SPEC.md §3.10 consistency): equal
// sizes need equal root, height and block hash and an empty proof; a
// larger size needs a larger block height and a consistency proof from
// prev's root to cp's. Without prev, the proof must be empty.
func (w *Witness) extends(prev *cosigned, cp *bulletin.Checkpoint, r *Request) error {
	switch {
	case prev == nil:
		if len(r.Proof) != 0 {
			return fmt.Errorf("%w: a proof from size 0", ErrBadProof)
		}
		return nil
	case prev.cp.Size == cp.Size:
		if prev.cp.Root != cp.Root || prev.cp.Height != cp.Height || prev.cp.BlockHash != cp.BlockHash {
			return fmt.Errorf("%w: size %d", ErrInconsistent, cp.Size)
		}
		if len(r.Proof) != 0 {
			return fmt.Errorf("%w: a proof between equal sizes", ErrBadProof)
		}
		return nil
	case cp.Height <= prev.cp.Height:
		return fmt.Errorf("%w: the log grew from %d to %d but the block height did not (%d → %d)", ErrBadProof, prev.cp.Size, cp.Size, prev.cp.Height, cp.Height)
	}
	if tlog.CheckTree(r.Proof, int64(cp.Size), cp.Root, int64(prev.cp.Size), prev.cp.Root) != nil {
		return fmt.Errorf("%w: the consistency proof from %d to %d does not verify", ErrBadProof, prev.cp.Size, cp.Size)
	}
	return nil
}

// keepEvidence stores a refused checkpoint that a quorum of board nodes
// signed, beside the cosigned one it contradicts or fails to extend.
func (w *Witness) keepEvidence(origin string, prev *cosigned, r *Request) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "urna witness evidence\norigin %s\n\ncosigned checkpoint:\n", origin)
	if prev != nil {
		b.Write(prev.note)
	}
	b.WriteString("\nrefused add-checkpoint request:\n")
	b.Write(r.Bytes())
	name := fmt.Sprintf("%s-%d.txt", originFile(origin), w.cfg.Now().UnixNano())
	return writeFileAtomic(filepath.Join(w.cfg.Dir, "evidence", name), b.Bytes())
}

// Evidence returns the paths of the evidence files kept so far.
func (w *Witness) Evidence() ([]string, error) {
	return filepath.Glob(filepath.Join(w.cfg.Dir, "evidence", "*.txt"))
}

func (w *Witness) statePath(origin string) string {
	return filepath.Join(w.cfg.Dir, originFile(origin)+".checkpoint")
}

// originFile names an origin's files: origins hold "/", so hash them.
func originFile(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:16])
}

// writeFileAtomic writes data to path through a synced temporary file
// renamed over it, then syncs the directory: after a crash the file holds
// either the old or the new content.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return durable.SyncDir(dir)
}
