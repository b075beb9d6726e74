package bulletin

import "errors"

// Sentinel errors. Callers branch on them with errors.Is; every returned
// error wraps one of them with detail. Rule rejections (ErrWrongPhase ...
// ErrInvalidBody) are deterministic domain rejections of an entry (SPEC.md
// §3.9); any other error from Rules.Apply is a storage failure.
var (
	// ErrMalformed: an entry, block header, proof, checkpoint, receipt or
	// record does not decode canonically (V1).
	ErrMalformed = errors.New("bulletin: malformed encoding")
	// ErrInvalidSignature: an entry's envelope signature does not verify.
	ErrInvalidSignature = errors.New("bulletin: invalid entry signature")
	// ErrInvalidProof: a Merkle inclusion or consistency proof does not verify.
	ErrInvalidProof = errors.New("bulletin: invalid proof")
	// ErrBadChain: a block header does not extend its predecessor (V2).
	ErrBadChain = errors.New("bulletin: broken block chain")
	// ErrCheckpoint: a checkpoint note lacks a quorum of valid signatures of
	// distinct known board nodes, carries a forged signature, or does not
	// describe this election's log (V3).
	ErrCheckpoint = errors.New("bulletin: invalid checkpoint")

	// ErrWrongPhase: the entry type is not accepted in the current phase.
	ErrWrongPhase = errors.New("bulletin: wrong phase")
	// ErrClosed: the election no longer accepts this entry (voting entries
	// after close or from the manifest's closes_at on, anything after the
	// result).
	ErrClosed = errors.New("bulletin: election closed")
	// ErrNotOpenYet: a voting entry before the manifest's opens_at
	// (SPEC.md §3.9).
	ErrNotOpenYet = errors.New("bulletin: election not open yet")
	// ErrWrongElection: the entry's election fingerprint is not this board's.
	ErrWrongElection = errors.New("bulletin: wrong election")
	// ErrNotAuthorized: the author role or key may not post this entry.
	ErrNotAuthorized = errors.New("bulletin: author not authorized")
	// ErrUnknownCredential: a voter entry's author is not a registered credential.
	ErrUnknownCredential = errors.New("bulletin: unknown credential")
	// ErrDuplicate: the entry, or the one-time message it carries, is already on the board.
	ErrDuplicate = errors.New("bulletin: duplicate entry")
	// ErrAudited: a ballot whose tracker belongs to an audited ballot.
	ErrAudited = errors.New("bulletin: ballot tracker was audited")
	// ErrAuditLimit: the board holds as many audits as the election allows
	// (MaxAudits, SPEC.md §3.9).
	ErrAuditLimit = errors.New("bulletin: the election takes no more audits")
	// ErrInvalidBody: the body contradicts the board state (wrong joint key,
	// wrong qualified set, a complaint against a trustee who has not dealt...).
	ErrInvalidBody = errors.New("bulletin: invalid entry body")
)
