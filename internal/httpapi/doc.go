// Package httpapi serves Urna's HTTP API, version 1 (docs/API.md), with echo
// v4, over a [Backend] in the wire types of internal/api. It owns every
// route (the cluster routes and the node-internal cosign route included)
// and, in [NewNode], every hex string and JSON view made of a board's
// domain values.
//
// Handlers are thin: they decode the request strictly, call one Backend
// method and encode its answer. Everything else happens in one place each:
//
//   - decoding (decode.go): JSON bodies MUST match the documented shape
//     exactly (unknown fields and trailing data are rejected) and fit the
//     route's body limit (16 MiB for POST /entries, 64 KiB otherwise);
//   - encoding (internal/api): binary fields are api.Bytes, unpadded
//     base64url of their canonical bytes (SPEC.md §2.4), never
//     encoding/json's padded std base64; the same types are decoded by
//     internal/apiclient;
//   - views (node.go): the adapter from internal/board's domain values;
//   - errors (errors.go): one echo HTTPErrorHandler maps the sentinels of
//     bulletin, board, replica and store to the status codes and error codes of
//     docs/API.md. The text of an internal error never reaches a client: it is
//     logged with the injected slog.Logger and the client sees "internal";
//   - forwarding (forward.go): a write on a follower (replica.ErrNotLeader) is
//     replayed to the leader's API, at most one hop, after the follower
//     parsed the entries (junk is answered locally); a leader change during
//     the forward is followed;
//   - consistent reads (consistent.go): a read with ?consistent=1 gets a
//     read index (from this node's replica when it leads, else from the
//     leader's GET /api/v1/cluster/read-index over the peer transport) and
//     waits until the board applied it, or answers 503 no_leader /
//     not_ready; it never falls back to the possibly stale local state;
//   - readiness (ready.go: GET /api/v1/ready) and metrics (metrics.go: GET
//     /metrics, the Prometheus text format, no metrics library).
//
// The cluster routes (POST /api/v1/cluster/join, /remove, /cosign and
// /transfer-leadership, GET /api/v1/cluster/read-index) are accepted from a loopback peer address, with the
// bearer cluster token, or (mutual TLS on the peer listener) from a member's
// verified certificate; the peer address is the TCP one, never a
// client-supplied header.
//
// The package never logs request bodies: they hold ballots and credentials'
// signatures.
package httpapi
