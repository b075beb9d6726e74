package roles

import (
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
)

// PrepareAnswers is PrepareBallot for a manifest with ranked, score or
// write-in questions: it encrypts one answer per question with their
// well-formedness proofs (ballot.EncryptAnswers, a version-2 ballot for a
// version-3 manifest, SPEC.md §12) and signs the ballot entry with the
// credential's key. Version-2 ballots cannot be challenged yet (SPEC.md
// §12.9), so the prepared ballot is for casting only.
func PrepareAnswers(rand io.Reader, e *Election, key *ballot.CredentialKey, answers []ballot.Answer) (*Prepared, error) {
	b, _, err := ballot.EncryptAnswers(rand, e.Manifest, e.JointKey, key, answers)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	raw, err := signEntry(rand, e.Fingerprint, bulletin.TypeBallot, bulletin.RoleVoter, key.PrivateKey(), b.Bytes())
	if err != nil {
		return nil, err
	}
	return &Prepared{Entry: raw, Tracker: b.Tracker(), Ballot: b}, nil
}
