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
	var out [][]*Ciphertext
	err := walkBallot(data, func(_ int, kind QuestionKind) bool { return kind == KindSelect },
		func(_ int, _ QuestionKind, _ int, cts []*Ciphertext) { out = append(out, cts) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// walkBallot reads the ballot data as ParseBallot does (version, counts
// and their bounds, kinds, lengths, no trailing bytes), decodes the
// ciphertexts of the questions q of kind kind for which decode(q, kind)
// holds, strictly as ParseBallot decodes them, and reads past every other
// byte by its length. It calls got for every question with its kind, its
// size n (options; a write-in's chunks) and its ciphertexts if decoded:
// a selection's or score's, one per option; a ranking's n×k matrix
// entries, row-major; a write-in's, one per chunk. It is the one reader
// of the ballot layout that ParseTallyCiphertexts and ParseMixRow share.
func walkBallot(data []byte, decode func(q int, kind QuestionKind) bool, got func(q int, kind QuestionKind, n int, cts []*Ciphertext)) error {
	if len(data) > MaxBallotSize {
		return fmt.Errorf("ballot: %d bytes exceeds %d", len(data), MaxBallotSize)
	}
	r := &skipReader{b: data}
	v := r.u8()
	if r.err == nil && v != BallotVersion && v != BallotVersionKinds {
		return fmt.Errorf("ballot: %w: version %d", wire.ErrMalformed, v)
	}
	r.skip(32 + group.Size) // fingerprint, credential
	nq := r.count("questions", MaxQuestions)
	if r.err == nil && nq < 1 {
		r.failf("no questions")
	}
	for q := 0; q < nq && r.err == nil; q++ {
		kind := KindSelect
		if v == BallotVersionKinds {
			kind = QuestionKind(r.u8())
		}
		n, cts := r.question(kind, q, r.err == nil && decode(q, kind))
		if r.err == nil {
			got(q, kind, n, cts)
		}
	}
	if r.err == nil && r.off != len(r.b) {
		r.failf("%d trailing bytes", len(r.b)-r.off)
	}
	if r.err != nil {
		return fmt.Errorf("ballot: %w", r.err)
	}
	return nil
}

// question reads question q of kind kind (readSelect, readKindQuestion)
// and returns its size and, if dec, its ciphertexts (walkBallot).
func (r *skipReader) question(kind QuestionKind, q int, dec bool) (int, []*Ciphertext) {
	var cts []*Ciphertext
	// entries reads n ciphertexts, each followed by rest bytes of proof.
	entries := func(n, rest int) {
		for i := 0; i < n && r.err == nil; i++ {
			if !dec {
				r.skip(CiphertextSize + rest)
				continue
			}
			ct := &Ciphertext{Alpha: r.element("alpha", true), Beta: r.element("beta", false)}
			r.skip(rest)
			cts = append(cts, ct)
		}
	}
	switch kind {
	case KindSelect:
		no := r.count("options", MaxOptions)
		if r.err == nil && no < MinOptions {
			r.failf("question %d: %d options", q, no)
		}
		entries(no, 2*branchSize)
		nb := r.count("range branches", maxRangeBranch)
		if r.err == nil && nb < 1 {
			r.failf("question %d: no range branch", q)
		}
		r.skip(nb * branchSize)
		return no, cts
	case KindRanked:
		n := r.count("options", MaxOptions)
		k := r.count("ranks", n)
		if r.err == nil && (n < MinOptions || k < 1) {
			r.failf("question %d: %d options, %d ranks", q, n, k)
		}
		// n·k entries (α, β, two branches), then the row, column and
		// step proofs (two branches each), then the total proof.
		entries(n*k, 2*branchSize)
		r.skip((n + k + k - 1) * 2 * branchSize)
		nb := r.count("total branches", k+1)
		if r.err == nil && nb < 1 {
			r.failf("question %d: no total branch", q)
		}
		r.skip(nb * branchSize)
		return n, cts
	case KindScore:
		n := r.count("options", MaxOptions)
		nb := r.count("score branches", MaxScore+1)
		if r.err == nil && (n < MinOptions || nb < 2) {
			r.failf("question %d: %d options, %d score branches", q, n, nb)
		}
		entries(n, nb*branchSize)
		return n, cts
	case KindWriteIn:
		n := r.count("write-in chunks", maxWriteInCts)
		if r.err == nil && n < 1 {
			r.failf("question %d: no write-in chunk", q)
		}
		entries(n, writeInChunkSize-CiphertextSize) // the commitment t and response s
		return n, cts
	}
	r.failf("question %d: unknown kind %d", q, uint8(kind))
	return 0, nil
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
