package ballot

import "fmt"

// ParseMixRow decodes, from the bytes of a ballot of an election of
// manifest m, only what the mix-net of mixed question q takes (SPEC.md
// §11.1): the question's ciphertexts, and returns the row that MixRow
// returns for the same ballot (docs/spec/kinds.md §K.5). Every one of
// those points is decoded strictly, as ParseBallot decodes it (a canonical
// encoding, a non-identity alpha), and the whole layout is checked as
// ParseBallot checks it (version, counts and their bounds, kinds, lengths,
// no trailing bytes). Question q of the ballot MUST be of the manifest's
// kind, as MixRow requires, and the row MUST be m.MixWidth(q) wide.
//
// It does NOT decode the credential, the proofs' commitments and scalars
// or the other questions' ciphertexts: it reads past them by their length,
// with the relaxation ParseTallyCiphertexts documents. It exists for the
// board's rows of the counted ballots (internal/board), whose every ballot
// was decoded strictly and verified before it was proposed (SPEC.md
// §3.9.1), where decoding the rest again was most of the cost: a ballot
// ranking 5 options in 5 ranks has 217 points, 50 of them the matrix's.
// The row does not depend on the bytes skipped. Everything else MUST use
// ParseBallot and MixRow.
func ParseMixRow(m *Manifest, q int, data []byte) ([]*Ciphertext, error) {
	if q < 0 || q >= len(m.Questions) || !m.Questions[q].Kind.Mixed() {
		return nil, fmt.Errorf("%w: question %d is not a mixed question", ErrShape, q)
	}
	want := m.Questions[q].Kind
	var row []*Ciphertext
	err := walkBallot(data, func(p int, kind QuestionKind) bool { return p == q && kind == want },
		func(p int, kind QuestionKind, n int, cts []*Ciphertext) {
			if p == q && kind == want {
				row = mixRow(kind, n, cts)
			}
		})
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, fmt.Errorf("%w: question %d is not a mixed question of this ballot", ErrShape, q)
	}
	if len(row) != m.MixWidth(q) {
		return nil, fmt.Errorf("%w: question %d: a row of %d ciphertexts, want %d", ErrShape, q, len(row), m.MixWidth(q))
	}
	return row, nil
}
