//go:build js && wasm

package main

import (
	"encoding/json"
	"syscall/js"

	"github.com/urna-vote/urna/internal/wire"
)

// The conversions between JavaScript and Go that both modules built from
// this package share: the booth's (main.go) and the officials'
// (main_officials.go).

// version is the bridge's interface version; urna.js refuses another.
const version = 1

// reply encodes the outcome of a call for urna.js.
func reply(v any, err error) any {
	if err != nil {
		code, params := codeOf(err)
		b, _ := json.Marshal(map[string]any{"error": err.Error(), "code": code, "params": params})
		return string(b)
	}
	b, err := json.Marshal(map[string]any{"ok": v})
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": "urna: encoding the answer: " + err.Error(), "code": "error"})
	}
	return string(b)
}

func fn1s(f func(string) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) < 1 || args[0].Type() != js.TypeString {
			return reply(nil, fail("usage", "expected one string argument"))
		}
		return reply(f(args[0].String()))
	})
}

// argString returns args[i] as a string ("" when missing or not a string).
func argString(args []js.Value, i int) string {
	if i < len(args) && args[i].Type() == js.TypeString {
		return args[i].String()
	}
	return ""
}

func argUint(args []js.Value, i int) uint64 {
	if i < len(args) && args[i].Type() == js.TypeNumber {
		if f := args[i].Float(); f >= 0 && f < 1<<53 {
			return uint64(f)
		}
	}
	return 0
}

// argBytes copies a Uint8Array argument into Go memory.
func argBytes(args []js.Value, i int) ([]byte, error) {
	if i >= len(args) || args[i].Type() != js.TypeObject || !args[i].InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, fail("usage", "argument %d must be a Uint8Array", i+1)
	}
	b := make([]byte, args[i].Get("length").Int())
	js.CopyBytesToGo(b, args[i])
	return b, nil
}

// argEntry decodes the base64url string argument i, an entry that what
// names in the error.
func argEntry(args []js.Value, i int, what string) ([]byte, error) {
	raw, err := wire.DecodeB64(argString(args, i))
	if err != nil {
		return nil, fail("malformed", "%s is not base64url", what)
	}
	return raw, nil
}

// argJSON decodes a JSON string argument into v.
func argJSON(args []js.Value, i int, v any) error {
	if err := json.Unmarshal([]byte(argString(args, i)), v); err != nil {
		return fail("usage", "argument %d must be JSON: %w", i+1, err)
	}
	return nil
}

// argInclusion decodes the arguments of an inclusion check: the entry
// args[entry] (base64url, named what in the error) and its proof
// args[proof], a JSON array of hex hashes.
func argInclusion(args []js.Value, entry int, what string, proof int) ([]byte, []string, error) {
	raw, err := argEntry(args, entry, what)
	if err != nil {
		return nil, nil, err
	}
	var hashes []string
	if err := argJSON(args, proof, &hashes); err != nil {
		return nil, nil, err
	}
	return raw, hashes, nil
}
