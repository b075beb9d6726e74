package client

import (
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// The saved state of an election with mixed questions (SPEC.md §10.7,
// state version 3). Beside each counted ballot's ciphertexts the state
// holds its K.5 rows of every mixed question (V10.4: what the first
// shuffle of each cascade takes, in board order), so that a resumed
// verifier neither keeps nor re-derives the ballots. The cascades need no
// bytes of their own: the shuffle and mix-decryption entries are among the
// kept entries, and a saved state has no failure, so each of them passed
// V14 or V15 when it was first read; replaying them (replayMix) rebuilds
// every question's current rows, its position, its shufflers and the valid
// decryptions without checking a proof again. V16 runs at the end of each
// pass, over what the cascades hold then, as on the first pass.

// putMixRows writes the mixed rows of cred's counted ballot, in the order
// of the mixed questions (no length: the manifest fixes each width).
func (v *verifier) putMixRows(w *wire.Writer, cred [32]byte) error {
	mv := v.mixer()
	if mv == nil {
		return nil
	}
	c, ok := mv.counted[cred]
	if !ok || len(c.rows) != len(mv.questions) {
		return fmt.Errorf("client: this verified state cannot be saved (counted ballot of %x… has no mix rows)", cred[:6])
	}
	for k, q := range mv.questions {
		if len(c.rows[k]) != v.m.MixWidth(q) {
			return fmt.Errorf("client: this verified state cannot be saved (counted ballot of %x…: %d ciphertexts in question %d)", cred[:6], len(c.rows[k]), q)
		}
		for _, ct := range c.rows[k] {
			w.Element(ct.Alpha).Element(ct.Beta)
		}
	}
	return nil
}

// mixRowsSize is the number of bytes putMixRows writes for a counted
// ballot.
func (v *verifier) mixRowsSize() int {
	mv := v.mixer()
	if mv == nil {
		return 0
	}
	n := 0
	for _, q := range mv.questions {
		n += v.m.MixWidth(q) * ballot.CiphertextSize
	}
	return n
}

// getMixRows reads what putMixRows wrote for the counted ballot seq of
// cred; the reader's error says if it does not fit.
func (v *verifier) getMixRows(r *wire.Reader, cred [32]byte, seq int64) {
	mv := v.mixer()
	if mv == nil {
		return
	}
	c := mixCounted{seq: seq, rows: make([]shuffle.Row, len(mv.questions))}
	for k, q := range mv.questions {
		row := make(shuffle.Row, v.m.MixWidth(q))
		for i := range row {
			row[i] = &ballot.Ciphertext{Alpha: r.Element("mix row alpha"), Beta: r.Element("mix row beta")}
		}
		c.rows[k] = row
	}
	if r.Err() == nil {
		mv.counted[cred] = c
	}
}

// replayMix applies a kept shuffle or mix-decryption entry of a saved
// state (which passed V14 or V15 when first read) to the cascades, as
// mixShuffle and mixDecryption did then, without checking its proof. An
// entry that does not fit the cascade so far is an error: the state is
// not the one its party saved.
func (v *verifier) replayMix(seq int64, t bulletin.EntryType, obj any) error {
	switch t {
	case bulletin.TypeShuffle:
		ms := obj.(*tally.MixShuffle)
		mv, in, ok := v.currentRows(StepV14, seq, ms.Question)
		if !ok || ms.Position != mv.positions[ms.Question]+1 || len(ms.Outputs) != len(in) || ms.Width != v.m.MixWidth(ms.Question) {
			return fmt.Errorf("the shuffle at entry %d does not follow its cascade", seq)
		}
		mv.positions[ms.Question]++
		mv.tips[ms.Question] = ms.Outputs
		mv.shufflers[ms.Question] = append(mv.shufflers[ms.Question], ms.Trustee)
	case bulletin.TypeMixDecryption:
		md := obj.(*tally.MixDecryption)
		mv, rows, ok := v.currentRows(StepV15, seq, md.Question)
		if !ok || md.Trustee < 1 || md.Trustee > len(v.vk) || len(md.Shares) != len(rows) {
			return fmt.Errorf("the mix decryption at entry %d does not fit its cascade", seq)
		}
		if mv.decs[md.Question] == nil {
			mv.decs[md.Question] = map[int]*tally.MixDecryption{}
		}
		mv.decs[md.Question][md.Trustee] = md
	}
	return nil
}

// unfinish takes out of a saved state's step counters what finish added to
// them at the end of the pass that saved it: V16 counts its check of the
// result there (verifyMixed), on every pass over a record that holds one,
// so the resumed pass's finish counts it again.
func (v *verifier) unfinish(checked []int) {
	if v.result != nil && v.aggDone && v.vk != nil && v.mixer() != nil && checked[StepV16-1] > 0 {
		checked[StepV16-1]--
	}
}
