package api

// Error codes of docs/API.md. They are stable: clients branch on them.
const (
	CodeMalformed         = "malformed"
	CodeInvalidSignature  = "invalid_signature"
	CodeInvalidProof      = "invalid_proof"
	CodeInvalidBody       = "invalid_body" // addition: bulletin.ErrInvalidBody
	CodeWrongElection     = "wrong_election"
	CodeUnknownElection   = "unknown_election" // addition: no election of the board has the route's id (SPEC.md §3.14.6)
	CodeBoardFull         = "board_full"       // addition: a manifest beyond the board's MaxElections (§3.14.2)
	CodeArchived          = "archived"         // addition: a post to an archived election (§3.14.3)
	CodeQuota             = "quota"            // addition: an election's or the board's cap on this node (§3.14.5.3, §3.14.5.5)
	CodeNotAuthorized     = "not_authorized"
	CodeUnknownCredential = "unknown_credential"
	CodeNotFound          = "not_found"
	CodeMethodNotAllowed  = "method_not_allowed" // addition: a known path with the wrong method
	CodeWrongPhase        = "wrong_phase"
	CodeDuplicate         = "duplicate"
	CodeAudited           = "audited"
	CodeAuditLimit        = "audit_limit"     // addition: bulletin.ErrAuditLimit (SPEC.md §3.9 audit cap)
	CodeStaleInput        = "stale_input"     // addition: tally.ErrStaleInput (a shuffle of rows its question's cascade moved past, SPEC.md §11.3, V14.2)
	CodeTransferFailed    = "transfer_failed" // addition: a leadership hand-over raft refused (no other voter, an unknown one, or no take-over in time)
	CodeClosed            = "closed"
	CodeNotOpenYet        = "not_open_yet"    // addition: bulletin.ErrNotOpenYet (a voting post before the manifest's opens_at, SPEC.md §3.9)
	CodeCosignRejected    = "cosign_rejected" // addition: POST /api/v1/cluster/cosign
	CodeTooLarge          = "too_large"
	CodeOverloaded        = "overloaded"
	CodeNoLeader          = "no_leader"
	CodeNotReady          = "not_ready" // addition: a consistent read on a node that did not catch up with the leader's read index in time
	CodeInternal          = "internal"
)
