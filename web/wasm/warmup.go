package main

import (
	"encoding/json"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
)

// The booth's warm-up (issue 11): V8 compiles a WebAssembly function on
// its first call, on the page's main thread, so a freshly loaded booth's
// first ballot paid for compiling the whole encryption path and for
// building the election key's table (25–47 ms at the median in
// bench/wasmenc, against 3.5 ms for later ballots). The booth therefore
// runs the voter's encryption path once on a throw-away ballot while the
// voter enters the credential and reads the questions, and drops it. It
// does so in steps, one call each, so that the page can run in between
// and none holds its thread long.

// warmUpStep runs step step of the warm-up for the election of manifestB64
// under the election key jointKeyHex and reports whether another step
// follows:
//
//  0. the first multiplications by the key, which build its fixed-base
//     table and G's (ballot.Encrypt builds the key's from the second on);
//  1. a throw-away credential's key (the first multiplications by G and
//     the credential's hashing, as newBooth does for the voter);
//  2. a throw-away ballot (warmUp).
//
// Any step may run alone, in any order; the last one covers all of the
// encryption path by itself.
func warmUpStep(rand io.Reader, manifestB64, jointKeyHex string, step int) (more bool, err error) {
	switch step {
	case 0:
		b, err := throwAwayBooth(rand, manifestB64, jointKeyHex)
		if err != nil {
			return false, err
		}
		defer b.Close()
		r, err := group.RandomNonZeroScalar(rand)
		if err != nil {
			return false, err
		}
		ballot.Encrypt(b.pk, 0, r)
		ballot.Encrypt(b.pk, 0, r)
	case 1:
		b, err := throwAwayBooth(rand, manifestB64, jointKeyHex)
		if err != nil {
			return false, err
		}
		b.Close()
	case 2:
		_, _, err := warmUp(rand, manifestB64, jointKeyHex)
		return false, err
	default:
		return false, fail("usage", "no warm-up step %d", step)
	}
	return true, nil
}

// throwAwayBooth opens a booth with a credential generated here, which no
// credential authority registered.
func throwAwayBooth(rand io.Reader, manifestB64, jointKeyHex string) (*booth, error) {
	cred, err := ballot.GenerateCredential(rand)
	if err != nil {
		return nil, err
	}
	return newBooth(rand, manifestB64, jointKeyHex, cred.Text())
}

// warmUp encrypts and signs one throw-away ballot for the election of
// manifestB64 under the election key jointKeyHex as the voter's booth does
// (newBooth, the answers decoded from JSON, EncryptAnswers and the
// reply's encoding), so that every function on that path has been compiled
// and the tables it needs are built before the voter's ballot.
//
// The throw-away ballot is signed by a throw-away credential
// (throwAwayBooth) and never leaves this module: main.go MUST NOT hand it
// to the page, and it is returned only so that tests can check it is a
// real ballot. Its credential key and secrets are dropped on return. The
// answers are the first valid ones of each question (warmAnswers): the
// encryption and its proofs run in constant time with respect to the
// answers, so any valid answer runs the voter's code.
func warmUp(rand io.Reader, manifestB64, jointKeyHex string) (*Sealed, []byte, error) {
	b, err := throwAwayBooth(rand, manifestB64, jointKeyHex)
	if err != nil {
		return nil, nil, err
	}
	defer b.Close()
	// The page sends its answers as JSON (main.go's argJSON): decode them
	// from JSON too.
	text, err := json.Marshal(warmAnswers(b.e.m))
	if err != nil {
		return nil, nil, err
	}
	var in []AnswerJSON
	if err := json.Unmarshal(text, &in); err != nil {
		return nil, nil, err
	}
	s, err := b.EncryptAnswers(in)
	if err != nil {
		return nil, nil, err
	}
	// The page receives the sealed ballot as JSON (js.go's reply).
	out, err := json.Marshal(map[string]any{"ok": s})
	if err != nil {
		return nil, nil, err
	}
	return s, out, nil
}

// warmAnswers returns a valid answer to every question of m: the first
// max(min, 1) options of a selection or a ranking (max is at least 1), the
// lowest score for every option, one letter for a write-in (max is at
// least 1 byte), so that the write-in's encoding runs too.
func warmAnswers(m *ballot.Manifest) []AnswerJSON {
	out := make([]AnswerJSON, len(m.Questions))
	for i, q := range m.Questions {
		firstOptions := func() []uint32 {
			list := make([]uint32, max(q.Min, 1))
			for o := range list {
				list[o] = uint32(o)
			}
			return list
		}
		switch q.Kind {
		case ballot.KindSelect:
			out[i].Choices = firstOptions()
		case ballot.KindRanked:
			out[i].Ranking = firstOptions()
		case ballot.KindScore:
			out[i].Scores = make([]uint32, len(q.Options))
			for o := range out[i].Scores {
				out[i].Scores[o] = q.Min
			}
		case ballot.KindWriteIn:
			out[i].Text = "a"
		}
	}
	return out
}
