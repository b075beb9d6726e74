// Package server wires one Urna board node together: the state store
// (bbolt at <data>/state.db, or PostgreSQL), the Raft replica
// (internal/replica, under <data>/raft), the board state machine
// (internal/board) and the HTTP API (internal/httpapi).
//
// Run serves until its context is cancelled; Start returns a *Node handle
// for in-process use (tests, `urna demo`). A new node either bootstraps a
// cluster or joins one through a member's POST /api/v1/cluster/join (with
// the cluster token when the member is not on loopback). Followers forward
// their checkpoint cosignatures to the leader on the node-internal route
// POST /api/v1/cluster/cosign (raw cosign command; loopback or cluster
// token; the signature itself is verified by the state machine).
//
// TLS (tls.go): HTTPS on the public listener with certificates reloaded
// on SIGHUP or change; with a cluster CA, mutual TLS for Raft (a TLS stream
// layer, internal/replica) and for node-to-node HTTP on a separate peer
// listener, the peer's node ID checked against the membership, never a
// plaintext fallback. certs.go makes a test CA and node certificates
// (`urna certs`). A node with Raft state never asks to join again; a
// leader hands leadership over when it stops. ready.go: readiness (leader
// contact, apply lag, a periodic disk and store probe) and the metrics
// gathered for GET /metrics.
//
// The node's Ed25519 checkpoint key comes from a file, an environment
// variable or the caller; there is no default key location. Logs go to the
// injected slog.Logger and never contain entries, ballots, keys or tokens.
package server
