package board

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/tally"
)

// preCheck runs the expensive checks of SPEC.md §3.9.1 on entries before
// they are proposed: envelope signatures in one batch and every body proof
// through bulletin.StandardProofs — cast ballots in one ballot.VerifyBatch,
// audited ballots' openings, dealers' proofs of knowledge, reveals against
// the dealer's commitments, and partial decryptions against the aggregate of
// the counted ballots. The board therefore never proposes an entry whose
// proofs fail, and its rules' view of the key ceremony (a complaint answered
// by a reveal) agrees with V7's.
func (b *Board) preCheck(v *view, entries []*bulletin.Entry) []error {
	if b.cfg.SkipChecks {
		return make([]error, len(entries))
	}
	st := v.rules.st
	if st == nil {
		st = &bulletin.ElectionState{}
	}
	var pc bulletin.ProofChecker
	if v.manifest != nil {
		sp := &bulletin.StandardProofs{
			Manifest:   v.manifest.m,
			DealerPost: b.dealerPost,
		}
		if st.Phase >= bulletin.PhaseOpen {
			if k, err := group.DecodeNonIdentity(st.JointKey[:]); err == nil {
				sp.JointKey = k
			}
		}
		if st.Phase >= bulletin.PhaseClosed {
			sp.Tally = func() ([][]*ballot.Ciphertext, []*group.Element, error) { return b.tallyInputs(v) }
		}
		pc = sp
	}
	return bulletin.PreCheck(rand.Reader, st, entries, pc)
}

// dealerPost returns dealer i's post from the board, or nil if it has not dealt.
func (b *Board) dealerPost(i int) (*tally.DealerPost, error) {
	var d *tally.DealerPost
	err := b.st.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		d, err = dealerPostTx(tx, i)
		return err
	})
	return d, err
}

func dealerPostTx(tx store.ReadTx, i int) (*tally.DealerPost, error) {
	raw, err := tx.Get(store.NSTally, dealKey(i))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(raw) != 8 {
		return nil, fmt.Errorf("board: stored deal index of %d bytes", len(raw))
	}
	data, err := tx.Entry(binary.BigEndian.Uint64(raw))
	if err != nil {
		return nil, err
	}
	e, err := bulletin.ParseEntry(data)
	if err != nil {
		return nil, err
	}
	return tally.ParseDealerPost(e.Body)
}

// tallyCache holds the aggregate of the counted ballots and the trustees'
// verification keys. Both are fixed once the election is closed, so they are
// computed once per node, on the first partial decryption to check.
type tallyCache struct {
	mu  sync.Mutex
	agg [][]*ballot.Ciphertext
	vk  []*group.Element
}

// tallyInputs returns the aggregate (SPEC.md §9.1) and verification keys
// (§8.6) of the closed election in v.
func (b *Board) tallyInputs(v *view) ([][]*ballot.Ciphertext, []*group.Element, error) {
	b.tally.mu.Lock()
	defer b.tally.mu.Unlock()
	if b.tally.agg != nil {
		return b.tally.agg, b.tally.vk, nil
	}
	m := v.manifest.m
	agg := make([][]*ballot.Ciphertext, len(m.Questions))
	for q, qq := range m.Questions {
		for range qq.Options {
			agg[q] = append(agg[q], ballot.ZeroCiphertext())
		}
	}
	params := tally.ManifestParams(m)
	var vk []*group.Element
	err := b.st.View(context.Background(), func(tx store.ReadTx) error {
		// Every credential's last cast ballot counts (SPEC.md V10).
		err := tx.Scan(store.NSCredential, nil, func(_, val []byte) error {
			if len(val) != 8 {
				return fmt.Errorf("stored ballot index of %d bytes", len(val))
			}
			seq := binary.BigEndian.Uint64(val)
			if seq == noBallot {
				return nil
			}
			data, err := tx.Entry(seq)
			if err != nil {
				return err
			}
			e, err := bulletin.ParseEntry(data)
			if err != nil {
				return err
			}
			bl, err := ballot.ParseBallot(e.Body)
			if err != nil {
				return err
			}
			for q := range agg {
				for o := range agg[q] {
					agg[q][o].Add(agg[q][o], bl.Ciphertext(q, o))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		var posts []*tally.DealerPost
		qual := make([]int, 0, len(v.rules.st.Qualified))
		for _, i := range v.rules.st.Qualified {
			d, err := dealerPostTx(tx, int(i))
			if err != nil {
				return err
			}
			if d == nil {
				return fmt.Errorf("qualified dealer %d has no deal on the board", i)
			}
			posts, qual = append(posts, d), append(qual, int(i))
		}
		vk, err = tally.VerificationKeys(params, posts, qual)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("board: tally inputs: %w", err)
	}
	b.tally.agg, b.tally.vk = agg, vk
	return agg, vk, nil
}
