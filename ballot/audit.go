package ballot

import (
	"fmt"
	"slices"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// Opening reveals what a ballot encrypts (SPEC.md §7.2): per question the
// selected option indexes (ascending) and per option the encryption
// randomness r. The randomness of a question's sum, which the range proof
// used, is the sum of its options' r. Publishing an opening destroys the
// ballot's secrecy: an opened ballot MUST NOT be cast (SPEC.md V10).
type Opening struct {
	Choices    [][]uint32
	Randomness [][]*group.Scalar
}

// Open returns the opening of b from the secrets EncryptBallot returned
// with it (SPEC.md §7.2). It fails with ErrOpeningMismatch if the secrets
// belong to another ballot.
func (b *Ballot) Open(s *Secrets) (*Opening, error) {
	if s == nil || s.tracker != b.tracker {
		return nil, ErrOpeningMismatch
	}
	if b.Version() != BallotVersion {
		return nil, errNoKindAudits
	}
	o := &Opening{}
	for q := range s.r {
		o.Choices = append(o.Choices, slices.Clone(s.choices[q]))
		var rs []*group.Scalar
		for _, r := range s.r[q] {
			rs = append(rs, r.Clone())
		}
		o.Randomness = append(o.Randomness, rs)
	}
	return o, nil
}

// errNoKindAudits: the opening of a version-2 ballot (ranked, score and
// write-in answers) is not specified yet (docs/spec/kinds.md §K.9).
var errNoKindAudits = fmt.Errorf("%w: audits of version-2 ballots (ranked, score, write-in questions) are not specified yet", ErrOpeningMismatch)

// AppendTo writes the canonical encoding of o (SPEC.md §7.3):
// u32 question count, then per question u32 option count and per option
// a flag (u8 1 if selected, else 0) and the scalar r.
func (o *Opening) AppendTo(w *wire.Writer) {
	w.Count(len(o.Randomness))
	for q, rs := range o.Randomness {
		w.Count(len(rs))
		for i, r := range rs {
			sel := uint8(0)
			if q < len(o.Choices) && slices.Contains(o.Choices[q], uint32(i)) {
				sel = 1
			}
			w.U8(sel).Scalar(r)
		}
	}
}

// Bytes returns the canonical encoding of o.
func (o *Opening) Bytes() []byte {
	w := wire.NewWriter(64)
	o.AppendTo(w)
	return w.Out()
}

func readOpening(r *wire.Reader) *Opening {
	o := &Opening{}
	nq := r.Count("opening questions", MaxQuestions)
	for q := 0; q < nq && r.Err() == nil; q++ {
		no := r.Count("opening options", MaxOptions)
		ch := []uint32{}
		var rs []*group.Scalar
		for i := 0; i < no && r.Err() == nil; i++ {
			if r.Flag("selected") {
				ch = append(ch, uint32(i))
			}
			rs = append(rs, r.Scalar("randomness"))
		}
		o.Choices = append(o.Choices, ch)
		o.Randomness = append(o.Randomness, rs)
	}
	return o
}

// Selections returns the texts of the selected options, per question, for
// an observer's report. o MUST have passed VerifyOpening for m.
func (o *Opening) Selections(m *Manifest) [][]string {
	out := make([][]string, len(o.Choices))
	for q, ch := range o.Choices {
		for _, i := range ch {
			out[q] = append(out[q], m.Questions[q].Options[i])
		}
	}
	return out
}

// VerifyOpening checks an audited ballot (SPEC.md V9): the ballot itself
// verifies (V9.1), the opening has the ballot's shape and its choices obey
// every question's rules (V9.2), and every option re-encrypts exactly to
// the ballot's ciphertext: Encrypt(pk, m_i, r_i) = (α_i, β_i) (V9.3). On
// success the opening's Choices are what the ballot encrypted.
func VerifyOpening(m *Manifest, pk *group.Element, b *Ballot, o *Opening) error {
	if err := b.Verify(m, pk); err != nil {
		return err
	}
	if b.Version() != BallotVersion {
		return errNoKindAudits
	}
	if o == nil || len(o.Randomness) != len(b.qs) || len(o.Choices) != len(b.qs) {
		return fmt.Errorf("%w: opening has the wrong number of questions", ErrOpeningMismatch)
	}
	sel, _, err := selections(m, o.Choices)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOpeningMismatch, err)
	}
	for q := range b.qs {
		if len(o.Randomness[q]) != len(b.qs[q].opts) {
			return fmt.Errorf("%w: question %d has the wrong number of options", ErrOpeningMismatch, q)
		}
		for i, opt := range b.qs[q].opts {
			r := o.Randomness[q][i]
			if r == nil || !Encrypt(pk, sel[q][i], r).Equal(opt.ct) {
				return fmt.Errorf("%w: question %d option %d does not re-encrypt", ErrOpeningMismatch, q, i)
			}
		}
	}
	return nil
}

// AuditedBallot is a challenged ballot with its opening, as posted on the
// board (SPEC.md §7.3).
type AuditedBallot struct {
	Ballot  *Ballot
	Opening *Opening
}

// Bytes returns the canonical encoding: the ballot as a u32-length-prefixed
// byte string, then the opening.
func (a *AuditedBallot) Bytes() []byte {
	w := wire.NewWriter(len(a.Ballot.raw) + 64)
	w.Bytes(a.Ballot.raw)
	a.Opening.AppendTo(w)
	return w.Out()
}

// ParseAuditedBallot decodes an audited ballot strictly (SPEC.md §7.3, V9):
// a canonical ballot, then an opening with the same numbers of questions
// and options, flags 0 or 1, canonical scalars, no trailing bytes. It does
// not verify the ballot or the opening (VerifyOpening does).
func ParseAuditedBallot(data []byte) (*AuditedBallot, error) {
	r := wire.NewReader(data)
	bb := r.Bytes("ballot", MaxBallotSize)
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("ballot: audited ballot: %w", err)
	}
	b, err := ParseBallot(bb)
	if err != nil {
		return nil, err
	}
	if b.Version() != BallotVersion {
		return nil, errNoKindAudits
	}
	o := readOpening(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ballot: audited ballot: %w", err)
	}
	if len(o.Randomness) != len(b.qs) {
		return nil, fmt.Errorf("ballot: audited ballot: %w: opening has %d questions, ballot %d", wire.ErrMalformed, len(o.Randomness), len(b.qs))
	}
	for q := range b.qs {
		if len(o.Randomness[q]) != len(b.qs[q].opts) {
			return nil, fmt.Errorf("ballot: audited ballot: %w: question %d: opening has %d options, ballot %d", wire.ErrMalformed, q, len(o.Randomness[q]), len(b.qs[q].opts))
		}
	}
	return &AuditedBallot{Ballot: b, Opening: o}, nil
}
