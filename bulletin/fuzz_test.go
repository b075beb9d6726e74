package bulletin

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/internal/schnorr"
)

func seedVectors(f testing.TB) *vectors {
	b, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	if err != nil {
		f.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	return &v
}

func unhex(s string) []byte { b, _ := hex.DecodeString(s); return b }

// FuzzParseEntry: anything ParseEntry accepts re-encodes to the same bytes,
// and ParseEntryShared decides every input alike (the same error, or the
// same entry with its body inside the input).
func FuzzParseEntry(f *testing.F) {
	v := seedVectors(f)
	for _, e := range v.Entries {
		f.Add(unhex(e.Hex))
	}
	for _, e := range v.BadEntries {
		f.Add(unhex(e.Hex))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		es, errShared := ParseEntryShared(b)
		if (err == nil) != (errShared == nil) || err != nil && err.Error() != errShared.Error() {
			t.Fatalf("ParseEntry: %v; ParseEntryShared: %v", err, errShared)
		}
		if err != nil {
			if e != nil || es != nil {
				t.Fatal("non-nil entry with error")
			}
			return
		}
		if !bytes.Equal(e.Bytes(), b) || !bytes.Equal(es.Bytes(), b) {
			t.Fatalf("re-encoding differs")
		}
		if len(es.Body) > 0 && &es.Body[0] != &b[len(b)-schnorr.SignatureSize-len(es.Body)] {
			t.Fatal("ParseEntryShared copied the body")
		}
		if len(e.Body) > 0 && &e.Body[0] == &b[len(b)-schnorr.SignatureSize-len(e.Body)] {
			t.Fatal("ParseEntry's body aliases its input")
		}
	})
}

// FuzzParseBlockHeader: parse → marshal round trip.
func FuzzParseBlockHeader(f *testing.F) {
	for _, b := range seedVectors(f).Blocks {
		f.Add(unhex(b.Hex))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseBlockHeader(b)
		if err == nil && !bytes.Equal(h.Bytes(), b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// FuzzParseReceipt: parse → marshal round trip.
func FuzzParseReceipt(f *testing.F) {
	f.Add(unhex(seedVectors(f).Receipt))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err == nil && !bytes.Equal(r.Bytes(), b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// FuzzProofs: parse → marshal round trip of both proof encodings.
func FuzzProofs(f *testing.F) {
	v := seedVectors(f)
	f.Add(unhex(v.Log.Inclusion))
	f.Add(unhex(v.Log.Consistency))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseInclusionProof(b); err == nil && !bytes.Equal(p.Bytes(), b) {
			t.Fatal("inclusion re-encoding differs")
		}
		if p, err := ParseConsistencyProof(b); err == nil && !bytes.Equal(p.Bytes(), b) {
			t.Fatal("consistency re-encoding differs")
		}
	})
}

// FuzzCheckpointText: parse → format round trip.
func FuzzCheckpointText(f *testing.F) {
	n := seedVectors(f).Checkpoint.Note
	f.Add([]byte(n[:bytes.Index([]byte(n), []byte("\n\n"))+1]))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := ParseCheckpointText(b); err == nil && !bytes.Equal(c.Text(), b) {
			t.Fatalf("re-encoding differs: %q", b)
		}
	})
}

// FuzzRecordReader: a record that reads completely re-writes to the same bytes.
func FuzzRecordReader(f *testing.F) {
	_, _, p := fullParts(f, "fuzz-record")
	f.Add(p.write(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		rr, err := NewRecordReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w, _ := NewRecordWriter(&buf)
		for {
			blk, err := rr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					return
				}
				break
			}
			if err := w.WriteBlock(blk.Header, blk.Raw); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range rr.Checkpoints() {
			if err := w.WriteCheckpoint(n); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), b) {
			t.Fatal("record re-encoding differs")
		}
	})
}

// FuzzElectionState: parse → marshal round trip.
func FuzzElectionState(f *testing.F) {
	el := newElection(f, "fuzz-state")
	b := newBoard()
	b.mustApply(f, el.prefix(f, PhaseTally)...)
	f.Add(b.st.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		if st, err := ParseElectionState(in); err == nil && !bytes.Equal(st.Bytes(), in) {
			t.Fatal("re-encoding differs")
		}
	})
}
