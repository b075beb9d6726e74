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
	"github.com/urna-vote/urna/internal/store"
)

// Cosigner signs this node's checkpoints: after applies it signs the newest
// checkpoint and submits the signature as a cosign command (a follower
// forwards it to the leader), and on the leader it proposes the cosign
// commands followers forward (SubmitCosign).
type Cosigner struct {
	cfg  *Config
	log  *slog.Logger
	src  stateSource
	rep  *replicaRef
	kick chan struct{} // wakes the loop after an apply
	stop chan struct{}
	done chan struct{}
	bg   context.Context
}

func newCosigner(cfg *Config, src stateSource, rep *replicaRef, bg context.Context) *Cosigner {
	return &Cosigner{cfg: cfg, log: cfg.Logger, src: src, rep: rep, bg: bg,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// wake makes the loop look at the state again; it never blocks.
func (cs *Cosigner) wake() {
	select {
	case cs.kick <- struct{}{}:
	default:
	}
}

// run signs the newest checkpoint after applies and submits the signature
// as a cosign command, at most once per CosignInterval and always for the
// latest log size (intermediate sizes are skipped under load).
func (cs *Cosigner) run() {

	defer close(cs.done)
	var lastSize uint64
	var lastSent time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-cs.stop:
			return
		case <-cs.kick:
		case <-timer.C:
		}
		if wait := cs.cfg.CosignInterval - time.Since(lastSent); wait > 0 {
			timer.Reset(wait)
			continue
		}
		size, err := cs.cosignOnce(lastSize)
		lastSent = time.Now()
		if err != nil {
			if !errors.Is(err, ErrNoReplica) && cs.bg.Err() == nil {
				cs.log.Debug("board: cosign failed", "err", err)
			}
			// Retry after the interval even without a new apply.
			timer.Reset(cs.cfg.CosignInterval)
			continue
		}
		lastSize = size
	}
}

// cosignOnce signs and submits the latest checkpoint unless its size is
// already done. It returns the size it covered.
func (cs *Cosigner) cosignOnce(done uint64) (uint64, error) {
	v := cs.src.current()
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
	return encodeCosignCmd(&cosignCmd{node: cs.cfg.NodeID, size: h.LogSize, root: h.LogRoot, sig: sig}), nil
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
	if c.kind() != cmdCosign {
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
	return &SignedCheckpoint{Checkpoint: cp, Note: noteWithSigs(cp.Text(), sigs), Signers: names}, nil
}
