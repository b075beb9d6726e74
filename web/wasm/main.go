//go:build js && wasm

// Command wasm is Urna's browser module: the same Go code as packages ballot,
// bulletin and client, compiled to WebAssembly and exposed to the web client
// (web/static/urna.js) as globalThis.urnaGo.
//
// Every function returns a JSON string, either {"ok": value} or
// {"error": message, "code": code}; urna.js turns the latter into a thrown
// UrnaError, so a failure in Go is an exception in JavaScript. Binary
// inputs (records, receipts) come as Uint8Array; entries and manifests as
// unpadded base64url strings, as the API serves them.
//
// Randomness is crypto/rand, which Go maps to the browser's
// crypto.getRandomValues. The voter's credential key and the secrets of an
// encrypted ballot stay in this module's memory behind an integer handle;
// JavaScript sees only public values, signed entries and, after a
// challenge, the opening the voter chose to publish.
package main

import (
	"crypto/rand"
	"encoding/json"
	"syscall/js"

	"github.com/urna-vote/urna/internal/wire"
)

// version is the bridge's interface version; urna.js refuses another.
const version = 1

var (
	booths   = map[int]*booth{}
	nextBoot = 1
)

func main() {
	api := map[string]any{
		"version":             version,
		"parseManifest":       fn1s(func(m string) (any, error) { return parseManifest(m) }),
		"checkCredential":     fn1s(func(c string) (any, error) { return true, checkCredential(c) }),
		"boothOpen":           js.FuncOf(boothOpen),
		"boothRegistered":     js.FuncOf(boothRegistered),
		"boothEncrypt":        js.FuncOf(boothEncrypt),
		"boothEncryptAnswers": js.FuncOf(boothEncryptAnswers),
		"boothChallenge":      js.FuncOf(boothChallenge),
		"boothForget":         js.FuncOf(boothForget),
		"boothClose":          js.FuncOf(boothClose),
		"openCheckpoint":      js.FuncOf(openCheckpointJS),
		"verifyReceipt":       js.FuncOf(verifyReceiptJS),
		"verifyInclusion":     js.FuncOf(verifyInclusionJS),
		"checkConsistency":    js.FuncOf(checkConsistencyJS),
		"entryFacts":          js.FuncOf(entryFactsJS),
		"verifyRecord":        js.FuncOf(verifyRecordJS),
		"verifyElectionKey":   js.FuncOf(verifyElectionKeyJS),
		"readCheckInput":      fn1s(func(s string) (any, error) { return readCheckInput(s) }),
		"openAudited":         js.FuncOf(openAuditedJS),
		"votingWindow": js.FuncOf(func(_ js.Value, args []js.Value) any {
			return reply(votingWindow(argString(args, 0), argUint(args, 1)))
		}),
		"electorate": js.FuncOf(func(_ js.Value, args []js.Value) any {
			raws, err := argEntries(args, 1)
			if err != nil {
				return reply(nil, err)
			}
			return reply(electorate(argString(args, 0), raws))
		}),
		"consoleNewKey":   js.FuncOf(func(js.Value, []js.Value) any { return reply(consoleNewKey(rand.Reader)) }),
		"consoleLoadKey":  fn1s(func(f string) (any, error) { return consoleLoadKey(rand.Reader, f) }),
		"consoleForget":   js.FuncOf(func(_ js.Value, args []js.Value) any { consoleForget(int(argUint(args, 0))); return reply(true, nil) }),
		"consoleTrustee":  fn1s(func(f string) (any, error) { return consoleTrustee(f) }),
		"consoleCAKey":    fn1s(func(f string) (any, error) { return consoleCAKey(f) }),
		"consoleManifest": js.FuncOf(consoleManifestJS),
		"consoleSign":     js.FuncOf(consoleSignJS),
		"consoleAct":      js.FuncOf(consoleActJS),
	}
	js.Global().Set("urnaGo", js.ValueOf(api))
	if ready := js.Global().Get("urnaGoReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

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

// argJSON decodes a JSON string argument into v.
func argJSON(args []js.Value, i int, v any) error {
	if err := json.Unmarshal([]byte(argString(args, i)), v); err != nil {
		return fail("usage", "argument %d must be JSON: %w", i+1, err)
	}
	return nil
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

func boothOf(args []js.Value) (*booth, error) {
	b, ok := booths[int(argUint(args, 0))]
	if !ok {
		return nil, fail("no_booth", "the booth session has ended; enter the credential again")
	}
	return b, nil
}

// boothOpen(manifestB64, jointKeyHex, credential) → {handle, publicCredential}
func boothOpen(_ js.Value, args []js.Value) any {
	b, err := newBooth(rand.Reader, argString(args, 0), argString(args, 1), argString(args, 2))
	if err != nil {
		return reply(nil, err)
	}
	h := nextBoot
	nextBoot++
	booths[h] = b
	return reply(map[string]any{"handle": h, "publicCredential": b.PublicCredential()}, nil)
}

// boothRegistered(handle, entriesJSON) → Registration. entriesJSON is the
// JSON array of the base64url credentials entry and the late-credentials
// entries after it, in board order.
func boothRegistered(_ js.Value, args []js.Value) any {
	b, err := boothOf(args)
	if err != nil {
		return reply(nil, err)
	}
	raws, err := argEntries(args, 1)
	if err != nil {
		return reply(nil, err)
	}
	return reply(b.Registered(raws))
}

// argEntries decodes args[i], a JSON array of base64url entries.
func argEntries(args []js.Value, i int) ([][]byte, error) {
	var entries []string
	if err := argJSON(args, i, &entries); err != nil {
		return nil, err
	}
	raws := make([][]byte, len(entries))
	for k, s := range entries {
		var err error
		if raws[k], err = wire.DecodeB64(s); err != nil {
			return nil, fail("malformed", "entry %d is not base64url", k)
		}
	}
	return raws, nil
}

// boothEncrypt(handle, choicesJSON) → Sealed
func boothEncrypt(_ js.Value, args []js.Value) any {
	b, err := boothOf(args)
	if err != nil {
		return reply(nil, err)
	}
	var choices [][]uint32
	if err := argJSON(args, 1, &choices); err != nil {
		return reply(nil, err)
	}
	return reply(b.Encrypt(choices))
}

// boothEncryptAnswers(handle, answersJSON) → Sealed. answersJSON is one
// AnswerJSON per question: {"choices"}, {"ranking"}, {"scores"} or {"text"}.
func boothEncryptAnswers(_ js.Value, args []js.Value) any {
	b, err := boothOf(args)
	if err != nil {
		return reply(nil, err)
	}
	var as []AnswerJSON
	if err := argJSON(args, 1, &as); err != nil {
		return reply(nil, err)
	}
	return reply(b.EncryptAnswers(as))
}

// boothChallenge(handle) → Challenged
func boothChallenge(_ js.Value, args []js.Value) any {
	b, err := boothOf(args)
	if err != nil {
		return reply(nil, err)
	}
	return reply(b.Challenge())
}

// boothForget(handle): the ballot was cast; drop its secrets.
func boothForget(_ js.Value, args []js.Value) any {
	if b, err := boothOf(args); err == nil {
		b.Forget()
	}
	return reply(true, nil)
}

// boothClose(handle): drop the credential key too.
func boothClose(_ js.Value, args []js.Value) any {
	if b, err := boothOf(args); err == nil {
		b.Close()
		delete(booths, int(argUint(args, 0)))
	}
	return reply(true, nil)
}

// openCheckpoint(manifestB64, note) → CheckpointView
func openCheckpointJS(_ js.Value, args []js.Value) any {
	return reply(openCheckpoint(argString(args, 0), argString(args, 1)))
}

// verifyReceipt(manifestB64, receiptBytes) → EntryFacts
func verifyReceiptJS(_ js.Value, args []js.Value) any {
	raw, err := argBytes(args, 1)
	if err != nil {
		return reply(nil, err)
	}
	return reply(verifyReceipt(argString(args, 0), raw))
}

// verifyInclusion(manifestB64, note, entryB64, seq, size, proofJSON) → EntryFacts
func verifyInclusionJS(_ js.Value, args []js.Value) any {
	entry, err := wire.DecodeB64(argString(args, 2))
	if err != nil {
		return reply(nil, fail("malformed", "entry is not base64url"))
	}
	var proof []string
	if err := argJSON(args, 5, &proof); err != nil {
		return reply(nil, err)
	}
	return reply(verifyInclusion(argString(args, 0), argString(args, 1), entry, argUint(args, 3), argUint(args, 4), proof))
}

// checkConsistency(manifestB64, oldNote, newNote, from, to, proofJSON) → true
func checkConsistencyJS(_ js.Value, args []js.Value) any {
	var proof []string
	if err := argJSON(args, 5, &proof); err != nil {
		return reply(nil, err)
	}
	err := checkConsistency(argString(args, 0), argString(args, 1), argString(args, 2), argUint(args, 3), argUint(args, 4), proof)
	return reply(err == nil, err)
}

// entryFacts(entryB64) → EntryFacts
func entryFactsJS(_ js.Value, args []js.Value) any {
	raw, err := wire.DecodeB64(argString(args, 0))
	if err != nil {
		return reply(nil, fail("malformed", "entry is not base64url"))
	}
	return reply(entryFacts(raw))
}

// verifyRecord(recordBytes, progress?) → VerifyView. It runs to completion
// before returning: the page calls it from a Web Worker.
func verifyRecordJS(_ js.Value, args []js.Value) any {
	raw, err := argBytes(args, 0)
	if err != nil {
		return reply(nil, err)
	}
	var progress func(string, int, int)
	if len(args) > 1 && args[1].Type() == js.TypeFunction {
		cb := args[1]
		progress = func(step string, done, total int) { cb.Invoke(step, done, total) }
	}
	return reply(verifyElectionRecord(rand.Reader, raw, progress))
}

// verifyElectionKey(entriesJSON, note?, proofJSON?) → ElectionKeyView.
// entriesJSON is the JSON array of the base64url entries 0 … open.
func verifyElectionKeyJS(_ js.Value, args []js.Value) any {
	var entries []string
	if err := argJSON(args, 0, &entries); err != nil {
		return reply(nil, err)
	}
	var proof []string
	if note := argString(args, 1); note != "" {
		if err := argJSON(args, 2, &proof); err != nil {
			return reply(nil, err)
		}
	}
	return reply(verifyElectionKey(entries, argString(args, 1), proof))
}

// openAudited(manifestB64, jointKeyHex, entryB64) → Opened
func openAuditedJS(_ js.Value, args []js.Value) any {
	raw, err := wire.DecodeB64(argString(args, 2))
	if err != nil {
		return reply(nil, fail("malformed", "entry is not base64url"))
	}
	return reply(openAudited(argString(args, 0), argString(args, 1), raw))
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
