// Package web is Urna's web client: the voting booth, "check my ballot",
// the board explorer and the results page, as plain HTML, CSS and ES
// modules (static/), with the protocol code (packages ballot, bulletin and
// client) compiled to WebAssembly from ./wasm by `make wasm` into
// static/urna.wasm.
//
// The whole static directory is embedded, so the binary serves whatever
// was built: without `make wasm` the pages load and the module request
// 404s, which the pages report ("run make wasm"). Nothing here runs on the
// server: every check a page shows (the election key the booth encrypts
// under, SPEC.md §10.6; encryption, proofs, receipts, Merkle inclusion and
// consistency, checkpoint signatures, the full verifier) runs in the
// browser.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the web client rooted at its index.html, to be served at "/"
// (internal/httpapi Options.Static, internal/server Config.Static).
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("web: embedded static directory missing: " + err.Error()) // cannot happen: checked at compile time
	}
	return sub
}

// HasWasm reports whether the WebAssembly module was built into the binary.
func HasWasm() bool {
	_, err := fs.Stat(FS(), "urna.wasm")
	return err == nil
}
