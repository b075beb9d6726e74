package ballot

import "errors"

// Sentinel errors. Callers branch on these with errors.Is; every other error
// of this package wraps one of them or a wire.ErrMalformed decoding error.
var (
	// ErrInvalidProof is the one opaque error of a failed proof or equation
	// check (SPEC.md V8.5–V8.7). Diagnose says which check failed.
	ErrInvalidProof = errors.New("ballot: invalid proof")
	// ErrWrongElection: the ballot's election fingerprint is not the manifest's (V8.2).
	ErrWrongElection = errors.New("ballot: ballot is for another election")
	// ErrShape: the ballot's question/option/branch counts differ from the manifest's (V8.3).
	ErrShape = errors.New("ballot: ballot does not match the manifest's questions")
	// ErrInvalidChoice: the choices break a question's rules (unknown or repeated option, count outside min..max).
	ErrInvalidChoice = errors.New("ballot: invalid choices")
	// ErrInvalidManifest: a manifest breaks a rule of SPEC.md §4 (V4).
	ErrInvalidManifest = errors.New("ballot: invalid manifest")
	// ErrInvalidCredential: a credential string is malformed (SPEC.md §5.1).
	ErrInvalidCredential = errors.New("ballot: invalid credential")
	// ErrCredentialChecksum: a well-formed credential string whose check character is wrong (a typo).
	ErrCredentialChecksum = errors.New("ballot: credential checksum mismatch (typo?)")
	// ErrInvalidTracker: a typed tracker is neither a short form nor 64 hex digits (SPEC.md §7.1).
	ErrInvalidTracker = errors.New("ballot: invalid tracker")
	// ErrInvalidCredentialList: a credential list breaks a rule of SPEC.md §5.3 (V6).
	ErrInvalidCredentialList = errors.New("ballot: invalid credential list")
	// ErrOpeningMismatch: an audit opening does not re-encrypt to the ballot (V9.3).
	ErrOpeningMismatch = errors.New("ballot: opening does not match the ballot")
	// ErrInvalidAnswer: a decrypted row of a mixed question does not decode
	// to a ranking, scores or a write-in of the question (docs/spec/kinds.md §K.6).
	ErrInvalidAnswer = errors.New("ballot: decrypted answer is malformed")
	// ErrInvalidKey: the election public key is missing or the identity.
	ErrInvalidKey = errors.New("ballot: invalid election public key")

	// The parts of the node-key rule (SPEC.md §4.1) that CheckEd25519Key
	// reports; Validate wraps them in ErrInvalidManifest. Unexported: only
	// this package's tests branch on which part failed.
	errKeyNotCanonical = errors.New("not a canonical point encoding (y ≥ p, or x = 0 with the sign bit set)")
	errKeyNotOnCurve   = errors.New("does not decode to a curve point")
	errKeyIdentity     = errors.New("is the identity point")
	errKeySmallOrder   = errors.New("is a point of small order")
	errKeyMixedOrder   = errors.New("is not in the prime-order subgroup")
)
