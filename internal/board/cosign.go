package board

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/witness"
)

// Cosigner signs this node's checkpoints: after applies it signs the newest
// checkpoint and submits the signature as a cosign command (a follower
// forwards it to the leader), and on the leader it proposes the cosign
// commands followers forward (SubmitCosign).
type Cosigner struct {
	cfg   *Config
	log   *slog.Logger
	f     *FSM
	rep   *replicaRef
	kick  chan struct{} // wakes the loop after an apply
	wkick chan struct{} // wakes the witness loop after an apply
	akick chan struct{} // wakes the board-version announcer after an apply
	st    store.Store
	stop  chan struct{}
	done  chan struct{}
	bg    context.Context
}

func newCosigner(cfg *Config, f *FSM, rep *replicaRef, bg context.Context) *Cosigner {
	return &Cosigner{cfg: cfg, log: cfg.Logger, f: f, rep: rep, bg: bg, st: cfg.Store,
		kick: make(chan struct{}, 1), wkick: make(chan struct{}, 1), akick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// wake makes the loop look at the state again; it never blocks.
func (cs *Cosigner) wake() {
	select {
	case cs.kick <- struct{}{}:
	default:
	}
	select {
	case cs.wkick <- struct{}{}:
	default:
	}
	select {
	case cs.akick <- struct{}{}:
	default:
	}
}

// run signs the newest checkpoint of every election after applies and
// submits the signatures as cosign commands, at most once per
// CosignInterval and always for the latest log size (intermediate sizes
// are skipped under load).
func (cs *Cosigner) run() {
	defer close(cs.done)
	gathered := make(chan struct{})
	go func() { defer close(gathered); cs.gather() }()
	defer func() { <-gathered }()
	announced := make(chan struct{})
	go func() { defer close(announced); cs.announce(cs.akick) }()
	defer func() { <-announced }()
	lastSize := map[store.Partition]uint64{}
	var lastSent time.Time
	cs.loop(cs.kick, func(timer *time.Timer) {
		if wait := cs.cfg.CosignInterval - time.Since(lastSent); wait > 0 {
			timer.Reset(wait)
			return
		}
		var errs []error
		for _, v := range cs.f.board().elections {
			size, err := cs.cosignOnce(v, lastSize[v.part])
			if err != nil {
				errs = append(errs, err)
				continue
			}
			lastSize[v.part] = size
		}
		lastSent = time.Now()
		if err := errors.Join(errs...); err != nil {
			if !errors.Is(err, ErrNoReplica) && cs.bg.Err() == nil {
				cs.log.Debug("board: cosign failed", "err", err)
			}
			// Retry after the interval even without a new apply.
			timer.Reset(cs.cfg.CosignInterval)
		}
	})
}

// loop calls step each time kick fires or the timer that step may arm runs
// out, until the cosigner stops.
func (cs *Cosigner) loop(kick <-chan struct{}, step func(timer *time.Timer)) {
	// One look at start: a node restarted or restored with blocks no
	// checkpoint covers yet signs them without waiting for a new apply
	// (parties act only on a board a quorum checkpoint covers).
	timer := time.NewTimer(0)
	for {
		select {
		case <-cs.stop:
			return
		case <-kick:
		case <-timer.C:
		}
		step(timer)
	}
}

// cosignOnce signs and submits the latest checkpoint of election v unless
// its size is already done. It returns the size it covered.
func (cs *Cosigner) cosignOnce(v *state, done uint64) (uint64, error) {
	if cs.cfg.Key == nil || v.manifest == nil || v.last == nil || v.last.LogSize <= done {
		return done, nil
	}
	if _, ok := v.manifest.node(cs.cfg.NodeID); !ok {
		return done, nil
	}
	cmd, err := cs.signCheckpoint(v)
	if err != nil {
		return done, err
	}
	r, err := cs.rep.get()
	if err != nil {
		return done, err
	}
	ctx, cancel := context.WithTimeout(cs.bg, 5*time.Second)
	defer cancel()
	if r.IsLeader() {
		res, err := r.Submit(ctx, cmd)
		if err != nil {
			return done, err
		}
		if res.Err != nil {
			return done, res.Err
		}
		return v.last.LogSize, nil
	}
	_, api := r.Leader()
	if api == "" || cs.cfg.ForwardCosign == nil {
		return done, errors.New("board: cosign: no leader to forward to")
	}
	if err := cs.cfg.ForwardCosign(ctx, api, cmd); err != nil {
		return done, err
	}
	return v.last.LogSize, nil
}

// signCheckpoint returns the cosign command for the newest checkpoint of v.
func (cs *Cosigner) signCheckpoint(v *state) ([]byte, error) {
	h := v.last
	cp := &bulletin.Checkpoint{Origin: v.manifest.origin, Size: h.LogSize, Root: h.LogRoot, Height: h.Height, BlockHash: h.Hash()}
	signer, err := bulletin.NodeSigner(cs.cfg.NodeID, cs.cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("board: checkpoint signer: %w", err)
	}
	msg, err := bulletin.SignCheckpoint(cp, signer)
	if err != nil {
		return nil, err
	}
	sig, err := lastSigLine(msg, cs.cfg.NodeID)
	if err != nil {
		return nil, err
	}
	return encodeCosignCmd(&cosignCmd{election: electionOf(v), node: cs.cfg.NodeID, size: h.LogSize, root: h.LogRoot, sig: sig}), nil
}

// electionOf names election v in a cosign or witness command: nil for the
// default election (command types 2 and 3, as before many elections), its
// fingerprint for the others (types 4 and 5).
func electionOf(v *state) *[32]byte {
	if v.part == 0 {
		return nil
	}
	fp := v.manifest.fingerprint
	return &fp
}

// lastSigLine extracts the raw signature (key hash and Ed25519 signature)
// of signer name from a signed note.
func lastSigLine(msg []byte, name string) ([]byte, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return nil, errors.New("board: signed note has no signature block")
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(msg[i+2:]), "\n"), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "— "))
		if len(f) == 2 && f[0] == name {
			return base64.StdEncoding.DecodeString(f[1])
		}
	}
	return nil, errors.New("board: signed note lacks our signature")
}

// SubmitCosign proposes a cosign command received from a follower (the
// server's internal route). The command is validated by the FSM; only the
// framing is checked here. It MUST be called on the leader.
func (cs *Cosigner) SubmitCosign(ctx context.Context, cmd []byte) error {
	c, err := decodeCommand(cmd)
	if err != nil {
		return err
	}
	switch k := c.kind(); {
	case k == cmdCosign || k == cmdCosignIn:
	case k == cmdEntry && isAnnounce(c.(*entryCmd).entry):
		// A follower's board-version announcement (SPEC.md §3.14.8).
		if _, _, err := decodeAnnounce(c.(*entryCmd).entry); err != nil {
			return fmt.Errorf("%w: %v", errBadCommand, err)
		}
	default:
		return fmt.Errorf("%w: not a cosign command", errBadCommand)
	}
	r, err := cs.rep.get()
	if err != nil {
		return err
	}
	res, err := r.Submit(ctx, cmd)
	if err != nil {
		return err
	}
	return res.Err
}

// signedCheckpoint returns the checkpoint of size with every stored
// cosignature, the signers sorted by node ID (the store's key order).
func signedCheckpoint(tx store.ReadTx, v *state, size uint64) (*SignedCheckpoint, error) {
	cp, err := checkpointAt(tx, v, size)
	if err != nil {
		return nil, err
	}
	var sigs []sigLine
	err = tx.Scan(store.NSCheckpoint, u64(size), func(k, val []byte) error {
		sigs = append(sigs, sigLine{node: string(k[8:]), sig: val})
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(sigs))
	for i, s := range sigs {
		names[i] = s.node
	}
	wsigs, err := witnessLines(tx, size)
	if err != nil {
		return nil, err
	}
	var cosigners []string
	for _, s := range wsigs {
		cosigners = append(cosigners, s.node)
	}
	return &SignedCheckpoint{Checkpoint: cp, Note: noteWithSigs(cp.Text(), append(sigs, wsigs...)), Signers: names, Cosigners: cosigners}, nil
}

// WitnessClient submits a checkpoint to one witness: the C2SP tlog-witness
// add-checkpoint call (witness.Client over HTTP). A size conflict is a
// *witness.ConflictError.
type WitnessClient interface {
	AddCheckpoint(ctx context.Context, r *witness.Request) ([]byte, error)
}

func witnessSigKey(size uint64, name string) []byte {
	return append(append(append([]byte(nil), keyWitnessSig...), u64(size)...), name...)
}

// applyWitness verifies and stores one witness's cosignature of a quorum
// checkpoint (SPEC.md §3.13, V3.9), and advances the witnessed checkpoint
// when the witness quorum is reached. Deterministic: Ed25519 verification
// against the manifest's witness keys and the stored log.
func applyWitness(tx store.WriteTx, nv *state, c *witnessCmd) error {
	if nv.manifest == nil || nv.manifest.wquorum == 0 {
		return fmt.Errorf("%w: the manifest names no witnesses", ErrCosignRejected)
	}
	var wk *bulletin.WitnessKey
	for i := range nv.manifest.witnesses {
		if nv.manifest.witnesses[i].Name == c.node {
			wk = &nv.manifest.witnesses[i]
		}
	}
	if wk == nil {
		return fmt.Errorf("%w: %q is not a witness of the manifest", ErrCosignRejected, c.node)
	}
	if c.size == 0 || c.size > nv.quorumCP {
		return fmt.Errorf("%w: no quorum checkpoint of size %d", ErrCosignRejected, c.size)
	}
	cp, err := checkpointToCosign(tx, nv, c.size)
	if err != nil {
		return err
	}
	if cp.Root != c.root {
		return fmt.Errorf("%w: witness %q cosigned another root at size %d", ErrCosignRejected, c.node, c.size)
	}
	line := noteWithSigs(nil, []sigLine{{c.node, c.sig}})[1:]
	cs, err := bulletin.VerifyCosignatures(cp.Text(), line, []bulletin.WitnessKey{*wk})
	if err != nil || len(cs) != 1 {
		return fmt.Errorf("%w: witness %q: not a valid cosignature (%v)", ErrCosignRejected, c.node, err)
	}
	key := witnessSigKey(c.size, c.node)
	if _, err := tx.Get(store.NSMeta, key); err == nil {
		return nil // the first cosignature of this witness at this size stays
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := tx.Put(store.NSMeta, key, c.sig); err != nil {
		return err
	}
	return advanceOnQuorum(tx, store.NSMeta, witnessSigKey(c.size, ""), c.size, nv.manifest.wquorum, &nv.witnessedCP, keyWitnessed)
}

// witnessLines returns the stored witness cosignatures of size, sorted by
// witness name (the store's key order).
func witnessLines(tx store.ReadTx, size uint64) ([]sigLine, error) {
	prefix := witnessSigKey(size, "")
	var out []sigLine
	err := tx.Scan(store.NSMeta, prefix, func(k, v []byte) error {
		out = append(out, sigLine{node: string(k[len(prefix):]), sig: v})
		return nil
	})
	return out, err
}

// gather runs on every node and acts on the leader: it submits the newest
// quorum checkpoint to each witness of the manifest and proposes the
// cosignatures they return (SPEC.md §3.13). It remembers, per witness, the
// size the witness last cosigned (learnt from its answers, 409 included),
// so that it can send the consistency proof from there.
func (cs *Cosigner) gather() {
	// Per election (by partition), as a witness keeps its state per origin.
	known := map[store.Partition]map[string]uint64{} // witness → its latest cosigned size, as far as we know
	done := map[store.Partition]map[string]uint64{}  // witness → the size we last got its cosignature for
	cs.loop(cs.wkick, func(timer *time.Timer) {
		var errs []error
		again := false
		for _, v := range cs.f.board().elections {
			if known[v.part] == nil {
				known[v.part], done[v.part] = map[string]uint64{}, map[string]uint64{}
			}
			if err := cs.gatherOnce(v, known[v.part], done[v.part]); err != nil {
				errs = append(errs, fmt.Errorf("election %q: %w", v.manifest.m.ElectionID, err))
			}
			again = again || (v.manifest.wquorum > 0 && v.witnessedCP < v.quorumCP)
		}
		err := errors.Join(errs...)
		if err != nil && cs.bg.Err() == nil {
			cs.log.Warn("board: witness cosignatures", "err", err)
		}
		// Look again while a witnessed checkpoint trails its quorum
		// checkpoint: an error, or a leader change after which no entry is
		// applied (nothing would kick the new leader's loop), must not
		// leave the newest checkpoint without its witness quorum.
		if err != nil || again {
			timer.Reset(time.Second)
		}
	})
}

func (cs *Cosigner) gatherOnce(v *state, known, done map[string]uint64) error {
	if v.manifest == nil || v.manifest.wquorum == 0 || v.quorumCP == 0 {
		return nil
	}
	r, err := cs.rep.get()
	if err != nil || !r.IsLeader() {
		return nil
	}
	size := v.quorumCP
	var sc *SignedCheckpoint
	if err := (partStore{st: cs.st, part: v.part}).View(cs.bg, func(tx store.ReadTx) error {
		sc, err = signedCheckpoint(tx, v, size)
		return err
	}); err != nil {
		return err
	}
	var errs []error
	for _, w := range v.manifest.witnesses {
		if done[w.Name] >= size {
			continue
		}
		if err := cs.askWitness(v, w, sc, known); err != nil {
			errs = append(errs, fmt.Errorf("witness %q: %w", w.Name, err))
			continue
		}
		done[w.Name] = size
	}
	return errors.Join(errs...)
}

// askWitness submits sc to witness w (retrying once from the size a 409
// names) and proposes its cosignature.
func (cs *Cosigner) askWitness(v *state, w bulletin.WitnessKey, sc *SignedCheckpoint, known map[string]uint64) error {
	client := cs.cfg.Witnesses[w.Name]
	if client == nil {
		client = &witness.Client{URL: "https://" + w.Name}
	}
	size := sc.Checkpoint.Size
	for attempt := 0; ; attempt++ {
		old := known[w.Name]
		if old > size {
			return fmt.Errorf("the witness is at size %d, ahead of our quorum checkpoint %d", old, size)
		}
		var proof []tlog.Hash
		if old > 0 && old < size {
			var err error
			sc := scope{f: cs.f, id: v.manifest.m.ElectionID}
			if proof, err = consistencyProof(cs.bg, sc, sc.current().entries, old, size); err != nil {
				return err
			}
		}
		ctx, cancel := context.WithTimeout(cs.bg, 10*time.Second)
		lines, err := client.AddCheckpoint(ctx, &witness.Request{OldSize: old, Proof: proof, Note: sc.Note})
		cancel()
		var ce *witness.ConflictError
		if errors.As(err, &ce) && attempt == 0 {
			known[w.Name] = ce.Size
			continue
		}
		if err != nil {
			return err
		}
		known[w.Name] = size
		got, err := bulletin.VerifyCosignatures(sc.Checkpoint.Text(), lines, []bulletin.WitnessKey{w})
		if err != nil {
			return err
		}
		if len(got) == 0 {
			return errors.New("the answer holds no cosignature by its key")
		}
		_, b64, _ := strings.Cut(strings.TrimSuffix(got[0].Line, "\n"), w.Name+" ")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return err
		}
		cmd := encodeWitnessCmd(&witnessCmd{cosignCmd{election: electionOf(v), node: w.Name, size: size, root: sc.Checkpoint.Root, sig: sig}})
		return cs.SubmitWitness(cs.bg, cmd)
	}
}

// SubmitWitness proposes a witness cosignature command on the leader.
func (cs *Cosigner) SubmitWitness(ctx context.Context, cmd []byte) error {
	r, err := cs.rep.get()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := r.Submit(ctx, cmd)
	if err != nil {
		return err
	}
	return res.Err
}
