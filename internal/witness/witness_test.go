package witness

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/urna-vote/urna/bulletin"
)

func wantErr(t *testing.T, what string, err, want error, status int) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
	if got := StatusOf(err); got != status {
		t.Fatalf("%s: status %d, want %d", what, got, status)
	}
}

func wantConflict(t *testing.T, what string, err error, size uint64) {
	t.Helper()
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Size != size || StatusOf(err) != http.StatusConflict {
		t.Fatalf("%s: err = %v, want a size conflict at %d", what, err, size)
	}
}

// TestAddCheckpoint: the witness cosigns a first checkpoint, then each
// checkpoint proven to extend it, and re-cosigns the same one; its lines
// verify as cosignature/v1 of the witness listed in the manifest, and two
// witnesses' lines make the checkpoint valid for the parties (V3.9).
func TestAddCheckpoint(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	w := f.witness(0, dir)
	h := newHistory(t, leaves("honest", 0, 5)...)
	line, err := f.add(w, h, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	cp := f.checkpoint(h, 5, "n1", "n2")
	text := cp[:bytes.Index(cp, []byte("\n\n"))+1]
	cs, err := bulletin.VerifyCosignatures(text, line, f.board().Witnesses)
	if err != nil || len(cs) != 1 || cs[0].Witness != f.wnames[0] {
		t.Fatalf("cosignature: %v %+v", err, cs)
	}
	h.add(t, leaves("honest", 5, 9)...)
	if _, err := f.add(w, h, 5, 9); err != nil {
		t.Fatalf("extension: %v", err)
	}
	if _, err := f.add(w, h, 9, 9); err != nil {
		t.Fatalf("same checkpoint again: %v", err)
	}
	// The state survives a restart.
	w2 := f.witness(0, dir)
	if _, err := f.add(w2, h, 5, 9); err == nil {
		t.Fatal("restarted witness forgot its checkpoint")
	}
	if got := w2.Latest(f.origin); !bytes.HasPrefix(got, []byte(f.origin+"\n9\n")) {
		t.Fatalf("latest checkpoint after restart: %q", got)
	}
	// Both witnesses' lines: valid for a party requiring the witness quorum.
	line2, err := f.add(f.witness(1, ""), h, 0, 9)
	if err != nil {
		t.Fatal(err)
	}
	cp9 := f.checkpoint(h, 9, "n1", "n2")
	l1, _ := f.add(w2, h, 9, 9)
	if _, err := f.board().Open(append(append(append([]byte(nil), cp9...), l1...), line2...)); err != nil {
		t.Fatalf("checkpoint with both cosignatures: %v", err)
	}
	if _, err := f.board().Open(append(append([]byte(nil), cp9...), l1...)); !errors.Is(err, bulletin.ErrCheckpoint) {
		t.Fatalf("one cosignature of a quorum of 2 accepted: %v", err)
	}
}

// TestAttackWitnessFork: a checkpoint of a forked history (entry 2
// replaced), signed by a quorum of nodes, is refused whether it is larger
// (the proof cannot link it: 422) or the same size (409), and the witness
// keeps the evidence.
func TestAttackWitnessFork(t *testing.T) {
	f := newFixture(t)
	w, honest := f.cosignedWitness(t, 5)
	fork := newHistory(t, leaves("honest", 0, 2)...)
	fork.add(t, leaves("forged", 2, 8)...)
	// The fork's own proof from 5 to 8 links its own size-5 root, not ours.
	_, err := f.add(w, fork, 5, 8)
	wantErr(t, "larger fork", err, ErrBadProof, http.StatusUnprocessableEntity)
	_, err = f.add(w, fork, 5, 5)
	wantErr(t, "same-size fork", err, ErrInconsistent, http.StatusConflict)
	// A proof built from the honest log cannot reach the fork's root either.
	honest8 := newHistory(t, leaves("honest", 0, 8)...)
	_, err = w.AddCheckpoint(&Request{OldSize: 5, Proof: honest8.proof(t, 5, 8), Note: f.checkpoint(fork, 8, "n2", "n3")})
	wantErr(t, "fork with a spliced proof", err, ErrBadProof, http.StatusUnprocessableEntity)
	ev, err := w.Evidence()
	if err != nil || len(ev) != 3 {
		t.Fatalf("evidence files: %v %v", ev, err)
	}
	// The honest history still extends.
	honest.add(t, leaves("honest", 5, 8)...)
	if _, err := f.add(w, honest, 5, 8); err != nil {
		t.Fatalf("honest extension after refusing the fork: %v", err)
	}
}

// TestAttackWitnessRollback: a stale or rolled-back checkpoint is never
// cosigned: with the true old size it is a bad request (old > size), with
// its own size as old a size conflict naming the witness's size, and a
// replay of the first request after the witness moved on a conflict too.
func TestAttackWitnessRollback(t *testing.T) {
	f := newFixture(t)
	w := f.witness(0, "")
	h := newHistory(t, leaves("honest", 0, 5)...)
	first := &Request{OldSize: 0, Note: f.checkpoint(h, 5, "n1", "n2")}
	if _, err := w.AddCheckpoint(first); err != nil {
		t.Fatal(err)
	}
	h.add(t, leaves("honest", 5, 9)...)
	if _, err := f.add(w, h, 5, 9); err != nil {
		t.Fatal(err)
	}
	_, err := w.AddCheckpoint(&Request{OldSize: 9, Note: f.checkpoint(h, 5, "n1", "n2")})
	wantErr(t, "rollback with old 9", err, ErrMalformed, http.StatusBadRequest)
	_, err = f.add(w, h, 5, 5)
	wantConflict(t, "rollback with old 5", err, 9)
	_, err = w.AddCheckpoint(first)
	wantConflict(t, "replayed first request", err, 9)
	// A smaller log whose block height did not grow: 422 even with a proof.
	f2 := newFixture(t)
	w2 := f2.witness(1, "")
	if _, err := f2.add(w2, h, 0, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.AddCheckpoint(&Request{OldSize: 5, Proof: h.proof(t, 5, 9), Note: f2.checkpointAtHeight(h, 9, 5)}); !errors.Is(err, ErrBadProof) {
		t.Fatalf("height did not grow: %v", err)
	}
}

// checkpointAtHeight signs the checkpoint of size with a chosen block height.
func (f *fixture) checkpointAtHeight(h *history, size, height uint64) []byte {
	n := f.checkpoint(h, size, "n1", "n2")
	text := string(n[:bytes.Index(n, []byte("\n\n"))+1])
	c, err := bulletin.ParseCheckpointText([]byte(text))
	if err != nil {
		f.t.Fatal(err)
	}
	c.Height = height
	var notes [][]byte
	for _, id := range []string{"n1", "n2"} {
		s, _ := bulletin.NodeSigner(id, f.e.NodeKeys()[id])
		m, err := bulletin.SignCheckpoint(c, s)
		if err != nil {
			f.t.Fatal(err)
		}
		notes = append(notes, m)
	}
	m, _ := bulletin.MergeCheckpointSignatures(notes...)
	return m
}

// TestAttackWitnessWrongOrigin: checkpoints of an election the witness
// does not witness are 404; checkpoints lacking the node quorum, or signed
// by keys the manifest does not list, are 403; garbage is 400.
func TestAttackWitnessWrongOrigin(t *testing.T) {
	f := newFixture(t)
	w := f.witness(0, "")
	h := newHistory(t, leaves("honest", 0, 3)...)
	other := newFixture(t)
	other.origin = "urna/other-election/0011223344556677"
	_, err := w.AddCheckpoint(&Request{Note: other.checkpoint(h, 3, "n1", "n2")})
	wantErr(t, "other origin", err, ErrUnknownOrigin, http.StatusNotFound)
	_, err = w.AddCheckpoint(&Request{Note: f.checkpoint(h, 3, "n1")})
	wantErr(t, "one node of quorum 2", err, ErrNotSigned, http.StatusForbidden)
	forged := f.checkpoint(h, 3, "n1", "n2")
	forged = bytes.Replace(forged, []byte("— n2 "), []byte("— n3 "), 1)
	_, err = w.AddCheckpoint(&Request{Note: forged})
	wantErr(t, "signature line renamed", err, ErrNotSigned, http.StatusForbidden)
	_, err = w.AddCheckpoint(&Request{Note: []byte(f.origin + "\nnot a size\n\n— n1 AAAA\n")})
	if s := StatusOf(err); s != http.StatusBadRequest && s != http.StatusForbidden {
		t.Fatalf("garbage checkpoint: %v (status %d)", err, s)
	}
	for _, body := range []string{"", "old 01\n\nx", "old 1\nnot base64\n\nx", "old 1\n", "new 1\n\nx", "old 1\n\n"} {
		if _, err := ParseRequest([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseRequest(%q) = %v", body, err)
		}
	}
}

// TestAttackWitnessBadProof: a tampered, truncated or misplaced proof is
// 422 and the witness stays at its checkpoint.
func TestAttackWitnessBadProof(t *testing.T) {
	f := newFixture(t)
	w, h := f.cosignedWitness(t, 5)
	h.add(t, leaves("honest", 5, 13)...)
	good := h.proof(t, 5, 13)
	note := f.checkpoint(h, 13, "n1", "n3")
	tampered := append(good[:0:0], good...)
	tampered[0][0] ^= 1
	for name, p := range map[string][][32]byte{
		"tampered hash":   toArr(tampered),
		"truncated":       toArr(good[:len(good)-1]),
		"extra hash":      toArr(append(append(good[:0:0], good...), good[0])),
		"proof of 6 → 13": toArr(h.proof(t, 6, 13)),
		"none":            nil,
	} {
		_, err := w.AddCheckpoint(&Request{OldSize: 5, Proof: fromArr(p), Note: note})
		wantErr(t, name, err, ErrBadProof, http.StatusUnprocessableEntity)
	}
	_, err := w.AddCheckpoint(&Request{OldSize: 0, Proof: good, Note: note})
	wantConflict(t, "old 0 after a cosign", err, 5)
	if _, err := w.AddCheckpoint(&Request{OldSize: 5, Proof: good, Note: note}); err != nil {
		t.Fatalf("the good proof: %v", err)
	}
}

// TestAtomicUpdate: of many concurrent first requests at different sizes,
// exactly one is cosigned; the rest get the conflict naming its size.
func TestAtomicUpdate(t *testing.T) {
	f := newFixture(t)
	w := f.witness(0, "")
	h := newHistory(t, leaves("honest", 0, 20)...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	sizes := map[uint64]bool{}
	for s := uint64(1); s <= 20; s++ {
		n := f.checkpoint(h, s, "n1", "n2")
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.AddCheckpoint(&Request{OldSize: 0, Note: n})
			mu.Lock()
			defer mu.Unlock()
			var ce *ConflictError
			switch {
			case err == nil:
				won++
			case errors.As(err, &ce):
				sizes[ce.Size] = true
			default:
				t.Errorf("size %d: %v", s, err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || len(sizes) != 1 {
		t.Fatalf("%d cosigned, conflicts name sizes %v", won, sizes)
	}
}

// TestHTTP: the protocol over HTTP, through Client: 200 with the line,
// 409 text/x.tlog.size with the size, and the other statuses.
func TestHTTP(t *testing.T) {
	f := newFixture(t)
	w := f.witness(0, "")
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	c := &Client{URL: srv.URL}
	ctx := context.Background()
	h := newHistory(t, leaves("honest", 0, 4)...)
	line, err := c.AddCheckpoint(ctx, &Request{OldSize: 0, Note: f.checkpoint(h, 4, "n1", "n2")})
	if err != nil || !strings.HasPrefix(string(line), "— "+f.wnames[0]+" ") {
		t.Fatalf("add: %q %v", line, err)
	}
	_, err = c.AddCheckpoint(ctx, &Request{OldSize: 0, Note: f.checkpoint(h, 4, "n1", "n2")})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Size != 4 {
		t.Fatalf("conflict: %v", err)
	}
	var se *StatusError
	_, err = c.AddCheckpoint(ctx, &Request{OldSize: 4, Note: f.checkpoint(h, 4, "n1")})
	if !errors.As(err, &se) || se.Code != http.StatusForbidden {
		t.Fatalf("forbidden: %v", err)
	}
	resp, err := http.Post(srv.URL+AddCheckpointPath, "text/plain", strings.NewReader("old x\n\n"))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad request: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.URL + AddCheckpointPath)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %v %v", resp, err)
	}
	resp.Body.Close()
}
