//go:build js && wasm && officials

package main

import (
	"crypto/rand"
	"syscall/js"
)

// The officials' module: `make wasm` builds this package a second time,
// with the build tag officials, into officials.wasm for the election
// authority's console (console.go) and the trustee's page (trustee.go).
// Their code (packages authority and trustee, the keys behind handles) is
// in this module only, never in the booth's urna.wasm (main.go), which
// every voter downloads.
//
// The module runs in a Web Worker (web/static/js/officials-worker.js):
// every call verifies a whole record before it signs, and the page stays
// responsive meanwhile. It publishes globalThis.urnaGo like the booth's,
// with the same reply convention (js.go).
func main() {
	api := map[string]any{
		"version":         version,
		"consoleNewKey":   js.FuncOf(func(js.Value, []js.Value) any { return reply(consoleNewKey(rand.Reader)) }),
		"consoleLoadKey":  fn1s(func(f string) (any, error) { return consoleLoadKey(rand.Reader, f) }),
		"consoleForget":   js.FuncOf(func(_ js.Value, args []js.Value) any { consoleForget(int(argUint(args, 0))); return reply(true, nil) }),
		"consoleTrustee":  fn1s(func(f string) (any, error) { return consoleTrustee(f) }),
		"consoleCAKey":    fn1s(func(f string) (any, error) { return consoleCAKey(f) }),
		"consoleManifest": js.FuncOf(consoleManifestJS),
		"consoleSign":     js.FuncOf(consoleSignJS),
		"consoleAct":      js.FuncOf(consoleActJS),
		// trusteeNew(name) → TrusteeKeyView
		"trusteeNew": fn1s(func(name string) (any, error) { return trusteeNew(rand.Reader, name) }),
		// trusteeLoad(filesJSON) → TrusteeKeyView; filesJSON is the JSON
		// array of the texts of the files chosen.
		"trusteeLoad": js.FuncOf(func(_ js.Value, args []js.Value) any {
			var files []string
			if err := argJSON(args, 0, &files); err != nil {
				return reply(nil, err)
			}
			return reply(trusteeLoad(rand.Reader, files))
		}),
		// trusteeForget(handle)
		"trusteeForget": js.FuncOf(func(_ js.Value, args []js.Value) any {
			trusteeForget(int(argUint(args, 0)))
			return reply(true, nil)
		}),
		// trusteeAct(handle, step, recordBytes, notesJSON, force) →
		// TrusteeBoardView. It verifies the whole record before returning.
		"trusteeAct": js.FuncOf(func(_ js.Value, args []js.Value) any {
			raw, notes, err := argRecord(args)
			if err != nil {
				return reply(nil, err)
			}
			force := len(args) > 4 && args[4].Type() == js.TypeBoolean && args[4].Bool()
			return reply(trusteeAct(int(argUint(args, 0)), argString(args, 1), raw, notes, force))
		}),
	}
	js.Global().Set("urnaGo", js.ValueOf(api))
	if ready := js.Global().Get("urnaGoReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// argRecord reads the arguments every "act" call of the console and the
// trustee page takes after (handle, action): the election record's bytes
// (argument 3) and the JSON array of checkpoint notes the page saw or
// remembers (argument 4).
func argRecord(args []js.Value) (record []byte, notes []string, err error) {
	if record, err = argBytes(args, 2); err != nil {
		return nil, nil, err
	}
	if err = argJSON(args, 3, &notes); err != nil {
		return nil, nil, err
	}
	return record, notes, nil
}

// consoleManifest(handle, authoringJSON) → ManifestDraft
func consoleManifestJS(_ js.Value, args []js.Value) any {
	return reply(consoleManifest(int(argUint(args, 0)), argString(args, 1)))
}

// consoleSign(handle, manifestB64) → the signed manifest entry (base64url)
func consoleSignJS(_ js.Value, args []js.Value) any {
	return reply(consoleSignManifest(int(argUint(args, 0)), argString(args, 1)))
}

// consoleAct(handle, action, recordBytes, knownNotesJSON, fingerprintHex, reason) → BoardView.
// It verifies the whole record before returning: the page shows progress
// around it.
func consoleActJS(_ js.Value, args []js.Value) any {
	raw, known, err := argRecord(args)
	if err != nil {
		return reply(nil, err)
	}
	return reply(consoleAct(int(argUint(args, 0)), argString(args, 1), raw, known, argString(args, 4), argString(args, 5)))
}
