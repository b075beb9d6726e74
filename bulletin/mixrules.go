package bulletin

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
	"github.com/urna-vote/urna/tally/shuffle"
)

// MixState is the progress of one mixed question's cascade (SPEC.md
// §11.2): the trustees that shuffled, in cascade order (position k is
// Shufflers[k−1]), and the trustees that posted decryption shares, in
// increasing order.
type MixState struct {
	Question   uint16
	Shufflers  []uint16
	Decrypters []uint16
}

// Mix returns the state of mixed question q, or nil if q is not mixed.
func (st *ElectionState) Mix(q int) *MixState {
	for i := range st.Mixes {
		if int(st.Mixes[i].Question) == q {
			return &st.Mixes[i]
		}
	}
	return nil
}

// mixOf returns the cascade of mixed question q for an entry (what) by the
// author trustee whose body names trustee named.
func (st *ElectionState) mixOf(q, author, named int, what string) (*MixState, error) {
	mx := st.Mix(q)
	if mx == nil {
		return nil, reject(ErrInvalidBody, "question %d is not a mixed question", q)
	}
	if named != author {
		return nil, reject(ErrNotAuthorized, "trustee %d posted trustee %d's %s", author, named, what)
	}
	return mx, nil
}

// applyShuffle is the shuffle row of §3.9 (SPEC.md §11.2): the question is
// mixed, the body's trustee is the author, the author has not shuffled
// this question, its position is the next one of the cascade, and no
// decryption of the question was posted yet.
func applyShuffle(st *ElectionState, trustee int, f *ShuffleFacts) error {
	mx, err := st.mixOf(f.Question, trustee, f.Trustee, "shuffle")
	if err != nil {
		return err
	}
	if slices.Contains(mx.Shufflers, uint16(trustee)) {
		return reject(ErrDuplicate, "trustee %d already shuffled question %d", trustee, f.Question)
	}
	if len(mx.Decrypters) > 0 {
		return reject(ErrWrongPhase, "question %d is being decrypted: no shuffle after its first decryption", f.Question)
	}
	if f.Position != len(mx.Shufflers)+1 {
		return reject(ErrInvalidBody, "shuffle of question %d at position %d, the next position is %d", f.Question, f.Position, len(mx.Shufflers)+1)
	}
	mx.Shufflers = append(mx.Shufflers, uint16(trustee))
	return nil
}

// applyMixDecryption is the mix-decryption row of §3.9: the question is
// mixed and has at least T shuffles, the body's trustee is the author, who
// has not decrypted this question yet.
func applyMixDecryption(st *ElectionState, trustee int, f *MixDecryptionFacts) error {
	mx, err := st.mixOf(f.Question, trustee, f.Trustee, "mix decryption")
	if err != nil {
		return err
	}
	if len(mx.Shufflers) < int(st.Threshold) {
		return reject(ErrWrongPhase, "question %d has %d shuffles, threshold %d: fewer than T mixers would let T−1 colluders link ballots", f.Question, len(mx.Shufflers), st.Threshold)
	}
	if containsU16(mx.Decrypters, uint16(trustee)) {
		return reject(ErrDuplicate, "trustee %d already decrypted question %d", trustee, f.Question)
	}
	mx.Decrypters = insertU16(mx.Decrypters, uint16(trustee))
	return nil
}

// readMixes reads the cascades of a version-3 state: at least one, questions
// strictly increasing, shufflers distinct trustee indexes, decrypters
// strictly increasing.
func readMixes(r *wire.Reader) []MixState {
	n := r.Count("mixed questions", 0xffff)
	if r.Err() == nil && n == 0 {
		r.Failf("state version %d without mixed questions", StateVersionMixed)
	}
	out := make([]MixState, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		mx := MixState{Question: r.U16("question")}
		if r.Err() == nil && i > 0 && mx.Question <= out[i-1].Question {
			r.Failf("mixed question %d out of order", mx.Question)
		}
		k := r.Count("shufflers", MaxTrustees)
		for s := 0; s < k && r.Err() == nil; s++ {
			j := r.U16("shuffler")
			if r.Err() == nil && (j == 0 || slices.Contains(mx.Shufflers, j)) {
				r.Failf("shuffler %d repeated or 0", j)
			}
			mx.Shufflers = append(mx.Shufflers, j)
		}
		mx.Decrypters = readU16List(r, "decrypters", MaxTrustees)
		out = append(out, mx)
	}
	return out
}

// checkMix verifies the proof of a shuffle or mix-decryption entry (SPEC.md
// V14.2–V14.3, V15.2) against the rows it works on: the tip of its
// question's cascade, taken from tips when a shuffle of the same batch
// moved it. A shuffle naming other rows than the tip is refused with
// tally.ErrStaleInput before its proof is checked.
func (p *StandardProofs) checkMix(rand io.Reader, e *Entry, tips map[int][]shuffle.Row) error {
	if p.Manifest == nil || p.JointKey == nil || p.MixRows == nil {
		return errNotReady
	}
	rowsOf := func(q int) ([]shuffle.Row, error) {
		if q < 0 || q >= len(p.Manifest.Questions) || !p.Manifest.Questions[q].Kind.Mixed() {
			return nil, reject(ErrInvalidBody, "question %d is not a mixed question", q)
		}
		if rows, ok := tips[q]; ok {
			return rows, nil
		}
		return p.MixRows(q)
	}
	fp := p.Manifest.Fingerprint()
	switch e.Type {
	case TypeShuffle:
		ms, rows, err := decodeMix(e, tally.ParseMixShuffle, func(ms *tally.MixShuffle) int { return ms.Question }, rowsOf)
		if err != nil {
			return err
		}
		if ms.Width != p.Manifest.MixWidth(ms.Question) {
			return reject(ErrInvalidBody, "shuffle of question %d has width %d, the question's rows %d", ms.Question, ms.Width, p.Manifest.MixWidth(ms.Question))
		}
		// V14.2 before V14.3: a shuffle of rows the cascade moved past is
		// refused as stale (tally.ErrStaleInput, the mixer rereads), not
		// as a false proof.
		switch err := tally.VerifyMix(rand, fp, p.JointKey, rows, ms); {
		case errors.Is(err, tally.ErrStaleInput):
			return fmt.Errorf("bulletin: %w", err)
		case err != nil:
			return fmt.Errorf("%w: shuffle of question %d: %v", ErrInvalidProof, ms.Question, err)
		}
		tips[ms.Question] = ms.Outputs
	case TypeMixDecryption:
		md, rows, err := decodeMix(e, tally.ParseMixDecryption, func(md *tally.MixDecryption) int { return md.Question }, rowsOf)
		if err != nil {
			return err
		}
		if p.Tally == nil {
			return errNotReady
		}
		_, vk, err := p.Tally()
		if err != nil {
			return err
		}
		if md.Trustee < 1 || md.Trustee > len(vk) {
			return malformedBody(e.Type, fmt.Errorf("trustee %d", md.Trustee))
		}
		if err := tally.VerifyMixDecryption(fp, vk[md.Trustee-1], rows, md); err != nil {
			return fmt.Errorf("%w: mix decryption of question %d: %v", ErrInvalidProof, md.Question, err)
		}
	}
	return nil
}

// decodeMix decodes the body of a shuffle or mix-decryption entry e with
// parse and returns it with the rows of its question's cascade (rowsOf).
func decodeMix[T any](e *Entry, parse func([]byte) (T, error), question func(T) int, rowsOf func(int) ([]shuffle.Row, error)) (T, []shuffle.Row, error) {
	x, err := parse(e.Body)
	if err != nil {
		return x, nil, malformedBody(e.Type, err)
	}
	rows, err := rowsOf(question(x))
	return x, rows, err
}

// mixedWeights refuses weights other than 1 in an election with mixed
// questions (SPEC.md §11.2): a mixed ballot is decrypted and counted once,
// and the counting methods take no weights.
func mixedWeights(st *ElectionState, f *CredentialFacts) error {
	if len(st.Mixes) == 0 {
		return nil
	}
	for _, w := range f.Weights {
		if w != 1 {
			return reject(ErrInvalidBody, "a credential of weight %d in an election with ranked, score or write-in questions (their ballots count once each)", w)
		}
	}
	return nil
}
