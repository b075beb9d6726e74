//go:build js && wasm && !officials

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
	"syscall/js"

	"github.com/urna-vote/urna/internal/wire"
)

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
		"boothWarmUp":         js.FuncOf(boothWarmUp),
		"openCheckpoint":      js.FuncOf(openCheckpointJS),
		"verifyReceipt":       js.FuncOf(verifyReceiptJS),
		"verifyInclusion":     js.FuncOf(verifyInclusionJS),
		"checkConsistency":    js.FuncOf(checkConsistencyJS),
		"entryFacts":          js.FuncOf(entryFactsJS),
		"verifyRecord":        js.FuncOf(verifyRecordJS),
		"verifyElectionKey":   js.FuncOf(verifyElectionKeyJS),
		"readCheckInput":      fn1s(func(s string) (any, error) { return readCheckInput(s) }),
		"openAudited":         js.FuncOf(openAuditedJS),
		// verifiedManifest(entry0B64, note, size, proofJSON) → ManifestView
		"verifiedManifest": js.FuncOf(func(_ js.Value, args []js.Value) any {
			raw, proof, err := argInclusion(args, 0, "entry 0", 3)
			if err != nil {
				return reply(nil, err)
			}
			return reply(verifiedManifest(raw, argString(args, 1), argUint(args, 2), proof))
		}),
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
	}
	js.Global().Set("urnaGo", js.ValueOf(api))
	if ready := js.Global().Get("urnaGoReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
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
	return withBoothJSON(args, (*booth).Encrypt)
}

// boothEncryptAnswers(handle, answersJSON) → Sealed. answersJSON is one
// AnswerJSON per question: {"choices"}, {"ranking"}, {"scores"} or {"text"}.
func boothEncryptAnswers(_ js.Value, args []js.Value) any {
	return withBoothJSON(args, (*booth).EncryptAnswers)
}

// withBoothJSON replies what step makes of the booth of handle args[0]
// and the JSON argument args[1].
func withBoothJSON[T, R any](args []js.Value, step func(*booth, T) (R, error)) any {
	b, err := boothOf(args)
	if err != nil {
		return reply(nil, err)
	}
	var in T
	if err := argJSON(args, 1, &in); err != nil {
		return reply(nil, err)
	}
	return reply(step(b, in))
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

// boothWarmUp(manifestB64, jointKeyHex, step) → more: one step of
// encrypting and dropping a throw-away ballot (warmup.go), so that the
// voter's first ballot does not pay for compiling the encryption; more
// says whether step+1 follows. Neither the ballot nor anything of its
// credential reaches the page.
func boothWarmUp(_ js.Value, args []js.Value) any {
	return reply(warmUpStep(rand.Reader, argString(args, 0), argString(args, 1), int(argUint(args, 2))))
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
	entry, proof, err := argInclusion(args, 2, "entry", 5)
	if err != nil {
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
	raw, err := argEntry(args, 0, "entry")
	if err != nil {
		return reply(nil, err)
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
	raw, err := argEntry(args, 2, "entry")
	if err != nil {
		return reply(nil, err)
	}
	return reply(openAudited(argString(args, 0), argString(args, 1), raw))
}
