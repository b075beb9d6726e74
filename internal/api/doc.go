// Package api holds the wire types of Urna's HTTP API, version 1
// (docs/API.md): every request and answer body, the error codes, the error
// body and the limits. It is neutral ground: the echo handlers
// (internal/httpapi) encode these types, the Go client (internal/apiclient)
// decodes them, and the web client expects their JSON; neither side owns
// them. The package imports no HTTP framework, no storage and no Raft.
//
// One DTO per concept and one encoding per field: identifiers, keys, hashes
// and roots are lower-case hex strings; canonical bytes (entries, block
// headers, manifests, receipts) are [Bytes], whose JSON form is unpadded
// base64url (SPEC.md §2.4) decoded strictly, never encoding/json's padded
// standard base64.
package api
