// Package witness implements an Urna checkpoint witness (SPEC.md §3.13):
// the C2SP tlog-witness protocol (add-checkpoint) with C2SP
// tlog-cosignature cosignature/v1 signatures, for the checkpoints of the
// elections whose manifests it is given.
//
// A witness is an independent process — run by trustees, observers,
// parties, newspapers — that keeps, per election (checkpoint origin), the
// last checkpoint it cosigned, on disk. It cosigns a new checkpoint only if
// a quorum of the election's board nodes signed it and a consistency proof
// shows that it extends the one it cosigned before (same root and block at
// equal size; a larger block height and a valid RFC 6962 proof when
// larger). So no two inconsistent histories of one election both get its
// cosignature: if the manifest asks for a quorum of witnesses, a board that
// shows one party a history without a ballot (a split view) cannot make
// that party accept it unless the witnesses it needs misbehave too.
//
// Checking the old size against the stored checkpoint and persisting the
// new one is atomic (one lock, write-then-rename), so concurrent requests
// cannot roll the witness back. Refused checkpoints that carry a valid node
// quorum are kept in the evidence directory: they prove the board signed
// two histories.
//
// Witness (the service) does file I/O; Client speaks the protocol over
// HTTP to a witness, for board nodes gathering cosignatures.
package witness
