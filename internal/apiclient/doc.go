// Package apiclient is a typed Go client for Urna's HTTP API, version 1
// (docs/API.md). The `urna` command's role commands, the demo, the
// verifier's URL mode and the end-to-end tests talk to board nodes through it.
//
// It decodes into the wire types of internal/api, so the client and the
// server share one definition of every answer (binary fields are api.Bytes:
// canonical bytes, base64url decoded strictly). It never imports the server
// (internal/deptest keeps that fence).
//
// A *Client is a client.SuffixSource: a party holding a saved verification
// state reads only the blocks after it, as the binary record suffix
// (RecordSince over GET /record?from=&size=, SPEC.md §3.11), checked to
// continue the party's record before the verifier sees it. An entry of
// 1 MiB or more (a credential list, a shuffle) is posted alone in binary
// (Submit), up to its type's limit (SPEC.md §3.2, §3.14.6.4).
//
// Every call has a timeout (Options.Timeout) except the streams (Record,
// RecordSince, Events), which end with their context. A 503 answer (overloaded, no
// leader) is retried after its Retry-After, up to Options.MaxRetries times;
// reads are also retried after a transport error. Writes are not retried
// after a transport error, but the caller may resend them: posting is
// idempotent (docs/API.md), so a post whose answer was lost is answered
// with the position its first attempt took.
//
// Errors from the API are *Error values carrying the API's code, message and
// SPEC.md step.
package apiclient
