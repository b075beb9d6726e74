package tally

import "errors"

// Errors callers branch on. Every other error wraps one of these with the
// "tally:" prefix and details.
var (
	// ErrInvalidProof is the one error a failed proof check returns: a proof
	// of knowledge in a dealer post, or a Chaum–Pedersen proof in a partial
	// decryption. Disqualifications and FailedFactors say which check failed.
	ErrInvalidProof = errors.New("tally: invalid proof")
	// ErrInvalidShare reports a DKG share that cannot be decrypted or does
	// not match its dealer's commitments (the trustee should complain).
	ErrInvalidShare = errors.New("tally: invalid share")
	// ErrMalformed is wrapped by every decoding error and by inputs whose
	// shape does not match the parameters.
	ErrMalformed = errors.New("tally: malformed input")
	// ErrParams reports invalid election parameters.
	ErrParams = errors.New("tally: invalid parameters")
	// ErrTooFewTrustees reports fewer than T qualified dealers or fewer than
	// T valid partial decryptions.
	ErrTooFewTrustees = errors.New("tally: fewer than T trustees")
	// ErrNoDiscreteLog reports a decrypted total outside 0..maxCount.
	ErrNoDiscreteLog = errors.New("tally: total out of range")
	// ErrStaleInput reports a shuffle whose input name is not the digest of
	// its question's current rows (SPEC.md §11.3, V14.2): the mixer
	// shuffled rows the cascade has moved past, or names rows it did not
	// shuffle. StaleInputError carries both names.
	ErrStaleInput = errors.New("tally: stale shuffle input")
	// ErrResultMismatch reports a published result that the record does not reproduce.
	ErrResultMismatch = errors.New("tally: result does not match the record")
)
