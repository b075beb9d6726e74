//go:build js && wasm

package main

import (
	"crypto/rand"
	"syscall/js"
)

// The trustee page's functions (trustee.go) are their own global,
// globalThis.urnaTrusteeGo, set before main publishes urnaGo: urna.js
// (trusteeModule) wraps them like the booth's.
func init() {
	js.Global().Set("urnaTrusteeGo", js.ValueOf(map[string]any{
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
	}))
}
