package ballot

import (
	"encoding/binary"
	"fmt"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// ParseTallyCiphertexts decodes, from the bytes of a ballot, only what the
// homomorphic tally adds up (SPEC.md §9.1): per question, the option
// ciphertexts of a selection question (none for a mixed question), the
// shape of Ballot.Ciphertexts. Every one of those points is decoded
// strictly, as ParseBallot decodes it (a canonical encoding, a
// non-identity alpha), and the whole layout is checked as ParseBallot
// checks it (version, counts and their bounds, kinds, lengths, no
// trailing bytes).
//
// It does NOT decode the credential, the proofs' commitments and scalars
// or a mixed question's ciphertexts: it reads past them by their length.
// Bytes that ParseBallot refuses only because one of those is not a
// canonical encoding are therefore accepted. It exists for the board's
// aggregate of the counted ballots (internal/board), whose every ballot
// was decoded strictly and verified before it was proposed (SPEC.md
// §3.9.1), where the ~23 square roots of decoding the proofs of a 1-of-5
// ballot again were most of the cost (bench/README.md). The aggregate
// does not depend on the bytes skipped. Everything else MUST use
// ParseBallot.
func ParseTallyCiphertexts(data []byte) ([][]*Ciphertext, error) {
	if len(data) > MaxBallotSize {
		return nil, fmt.Errorf("ballot: %d bytes exceeds %d", len(data), MaxBallotSize)
	}
	r := &skipReader{b: data}
	v := r.u8()
	if r.err == nil && v != BallotVersion && v != BallotVersionKinds {
		return nil, fmt.Errorf("ballot: %w: version %d", wire.ErrMalformed, v)
	}
	r.skip(32 + group.Size) // fingerprint, credential
	nq := r.count("questions", MaxQuestions)
	if r.err == nil && nq < 1 {
		r.failf("no questions")
	}
	var out [][]*Ciphertext
	for q := 0; q < nq && r.err == nil; q++ {
		kind := KindSelect
		if v == BallotVersionKinds {
			kind = QuestionKind(r.u8())
		}
		out = append(out, r.question(kind, q))
	}
	if r.err == nil && r.off != len(r.b) {
		r.failf("%d trailing bytes", len(r.b)-r.off)
	}
	if r.err != nil {
		return nil, fmt.Errorf("ballot: %w", r.err)
	}
	return out, nil
}

// question reads question q of kind kind (readSelect, readKindQuestion)
// and returns its option ciphertexts if it is a selection question.
func (r *skipReader) question(kind QuestionKind, q int) []*Ciphertext {
	switch kind {
	case KindSelect:
		no := r.count("options", MaxOptions)
		if r.err == nil && no < MinOptions {
			r.failf("question %d: %d options", q, no)
		}
		var cts []*Ciphertext
		for i := 0; i < no && r.err == nil; i++ {
			ct := &Ciphertext{Alpha: r.element("alpha", true), Beta: r.element("beta", false)}
			r.skip(2 * branchSize)
			cts = append(cts, ct)
		}
		nb := r.count("range branches", maxRangeBranch)
		if r.err == nil && nb < 1 {
			r.failf("question %d: no range branch", q)
		}
		r.skip(nb * branchSize)
		return cts
	case KindRanked:
		n := r.count("options", MaxOptions)
		k := r.count("ranks", n)
		if r.err == nil && (n < MinOptions || k < 1) {
			r.failf("question %d: %d options, %d ranks", q, n, k)
		}
		// n·k entries (α, β, two branches), then the row, column and
		// step proofs (two branches each), then the total proof.
		r.skip(n * k * (CiphertextSize + 2*branchSize))
		r.skip((n + k + k - 1) * 2 * branchSize)
		nb := r.count("total branches", k+1)
		if r.err == nil && nb < 1 {
			r.failf("question %d: no total branch", q)
		}
		r.skip(nb * branchSize)
	case KindScore:
		n := r.count("options", MaxOptions)
		nb := r.count("score branches", MaxScore+1)
		if r.err == nil && (n < MinOptions || nb < 2) {
			r.failf("question %d: %d options, %d score branches", q, n, nb)
		}
		r.skip(n * (CiphertextSize + nb*branchSize))
	case KindWriteIn:
		n := r.count("write-in chunks", maxWriteInCts)
		if r.err == nil && n < 1 {
			r.failf("question %d: no write-in chunk", q)
		}
		r.skip(n * writeInChunkSize)
	default:
		r.failf("question %d: unknown kind %d", q, uint8(kind))
	}
	return nil
}

// skipReader reads a ballot's layout as wire.Reader does, and can move
// past bytes without copying or decoding them. After the first error it
// reads nothing more.
type skipReader struct {
	b   []byte
	off int
	err error
}

func (r *skipReader) failf(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at offset %d: %s", wire.ErrMalformed, r.off, fmt.Sprintf(format, args...))
	}
}

// take returns the next n bytes, or nil after an error or past the end.
func (r *skipReader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.failf("%s: short input", what)
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *skipReader) skip(n int) { r.take(n, "proofs") }

func (r *skipReader) u8() uint8 {
	if v := r.take(1, "u8"); v != nil {
		return v[0]
	}
	return 0
}

// count reads a u32 list length of at most max (wire.Reader.Count).
func (r *skipReader) count(what string, max int) int {
	v := r.take(4, what)
	if v == nil {
		return 0
	}
	n := binary.BigEndian.Uint32(v)
	if int64(n) > int64(min(max, wire.MaxList)) {
		r.failf("%s: count %d exceeds %d", what, n, min(max, wire.MaxList))
		return 0
	}
	return int(n)
}

// element decodes a canonical element, refusing the identity if nonIdentity.
func (r *skipReader) element(what string, nonIdentity bool) *group.Element {
	v := r.take(group.Size, what)
	if v == nil {
		return nil
	}
	var e *group.Element
	var err error
	if nonIdentity {
		e, err = group.DecodeNonIdentity(v)
	} else {
		e, err = group.DecodeElement(v)
	}
	if err != nil {
		r.off -= group.Size
		r.failf("%s: %v", what, err)
		return nil
	}
	return e
}
