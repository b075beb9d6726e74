package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/urna-vote/urna/client"
)

// TestStateReaderEqualsState: a state read as a stream from its file
// (FollowOptions.StateReader) is used exactly as the same bytes given whole
// (State): only the blocks after it are read, the verified state is the
// same, and the state saved after it (WriteState, streamed) is the bytes
// MarshalState returns.
func TestStateReaderEqualsState(t *testing.T) {
	e := smallElection(t)
	const bs = 4
	closed := closedEntries(e)
	k := len(closed) / 2 / bs * bs
	_, state := savedAfter(t, newSealedNode(t, e, closed[:k], bs))
	path := filepath.Join(t.TempDir(), "board-state.bin")
	if err := os.WriteFile(path, state, 0o600); err != nil {
		t.Fatal(err)
	}

	n := newSealedNode(t, e, closed, bs)
	want, err := followSeeded(n, client.FollowOptions{State: state})
	if err != nil || n.records != 0 || n.since != 1 {
		t.Fatalf("Follow with State: %v, whole record read %d times, blocks %d times", err, n.records, n.since)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n.records, n.since = 0, 0
	got, err := followSeeded(n, client.FollowOptions{StateReader: f})
	if err != nil || n.records != 0 || n.since != 1 || got.StateUnused != nil {
		t.Fatalf("Follow with StateReader: %v, whole record read %d times, blocks %d times, unused: %v", err, n.records, n.since, got.StateUnused)
	}
	if summary(t, got) != summary(t, want) {
		t.Fatalf("the verified states differ:\n%s\n%s", summary(t, got), summary(t, want))
	}
	a, err := want.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := got.WriteState(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b.Bytes()) {
		t.Fatalf("WriteState after a streamed state: %d bytes, MarshalState after the whole state: %d bytes, not equal", b.Len(), len(a))
	}
	// The full verification saves the same state too.
	n.records, n.since = 0, 0
	full, err := followSeeded(n, client.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := full.MarshalState(); err != nil || !bytes.Equal(c, a) {
		t.Fatalf("the state after a full verification differs from the one after an incremental one (%v)", err)
	}
}

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWriteStateError: a writer that fails makes WriteState fail.
func TestWriteStateError(t *testing.T) {
	s, state := savedAfter(t, newSealedNode(t, smallElection(t), closedEntries(smallElection(t)), 4))
	for _, n := range []int{0, 10, len(state) / 2, len(state) - 1} {
		if err := s.WriteState(&failingWriter{n: n}); err == nil {
			t.Errorf("WriteState into a writer failing after %d of %d bytes: no error", n, len(state))
		}
	}
}

// TestStateStructureDamaged: a state whose checksum matches but whose
// structure does not (a count, a length or a field changed, and the
// checksum made again, as a bug or another program might write it) never
// makes the party crash: a resume either refuses it (ErrState) or goes on
// from what it decodes, and Follow falls back to the whole record when it
// is refused, saying why (StateUnused).
func TestStateStructureDamaged(t *testing.T) {
	e := smallElection(t)
	const bs = 4
	closed := closedEntries(e)
	k := len(closed) / 2 / bs * bs
	_, state := savedAfter(t, newSealedNode(t, e, closed[:k], bs))
	n := newSealedNode(t, e, closed, bs)
	body := state[:len(state)-sha256.Size]
	refused := 0
	for off := len("urna-verified-state") + 1; off < len(body); off += 1 + off/16 {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			bad := slices.Clone(body)
			bad[off] ^= x
			sum := sha256.Sum256(bad)
			bad = append(bad, sum[:]...)
			_, err := client.Resume(context.Background(), n, client.FollowOptions{StateReader: bytes.NewReader(bad)})
			if errors.Is(err, client.ErrState) {
				refused++
			}
		}
	}
	if refused == 0 {
		t.Fatal("no damaged state was refused")
	}
	// Cut short and re-summed: refused, and Follow reads the whole record.
	cut := slices.Clone(body[:len(body)-5])
	sum := sha256.Sum256(cut)
	cut = append(cut, sum[:]...)
	n.records, n.since = 0, 0
	s, err := followSeeded(n, client.FollowOptions{StateReader: bytes.NewReader(cut)})
	if err != nil || n.records != 1 || !errors.Is(s.StateUnused, client.ErrState) {
		t.Fatalf("a cut state: %v, whole record read %d times, unused: %v", err, n.records, s.StateUnused)
	}
}
