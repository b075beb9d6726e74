package replica

import (
	"bytes"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
)

func TestEntryGolden(t *testing.T) {
	got := encodeEntry(kindCommands, wholeCommands([][]byte{[]byte("ab"), {}, []byte("c")}))
	const want = "01" + "01" + "00000003" + "00000002" + "6162" + "00000000" + "00000001" + "63"
	if hex.EncodeToString(got) != want {
		t.Fatalf("encoding = %x, want %s", got, want)
	}
	e, err := decodeEntry(got)
	if err != nil || e.kind != kindCommands || len(e.cmds) != 3 || string(e.cmds[0]) != "ab" || len(e.cmds[1]) != 0 || string(e.cmds[2]) != "c" {
		t.Fatalf("decode = %+v, %v", e, err)
	}
}

// TestEntryCommandParts: a command given as Head and Body is framed as the
// same command given whole, however it is cut.
func TestEntryCommandParts(t *testing.T) {
	whole := [][]byte{[]byte("header+body"), {}, []byte("c")}
	want := encodeEntry(kindCommands, wholeCommands(whole))
	for cut := 0; cut <= len(whole[0]); cut++ {
		parts := []Command{{Head: whole[0][:cut], Body: whole[0][cut:]}, {}, {Head: whole[2]}}
		if got := encodeEntry(kindCommands, parts); !bytes.Equal(got, want) {
			t.Fatalf("cut at %d: %x, want %x", cut, got, want)
		}
		if entrySize(parts) != len(want) {
			t.Fatalf("cut at %d: entrySize %d, want %d", cut, entrySize(parts), len(want))
		}
	}
}

func TestEntryRejects(t *testing.T) {
	valid := encodeEntry(kindCommands, wholeCommands([][]byte{[]byte("ab")}))
	for name, b := range map[string][]byte{
		"empty":          {},
		"short header":   valid[:5],
		"version 0":      append([]byte{0}, valid[1:]...),
		"version 2":      append([]byte{2}, valid[1:]...),
		"kind 0":         append([]byte{1, 0}, valid[2:]...),
		"kind 3":         append([]byte{1, 3}, valid[2:]...),
		"zero count":     {1, 1, 0, 0, 0, 0},
		"huge count":     {1, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		"count too high": {1, 1, 0, 0, 0, 2, 0, 0, 0, 0},
		"truncated cmd":  valid[:len(valid)-1],
		"long length":    {1, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 'a'},
		"trailing byte":  append(bytes.Clone(valid), 0),
		"short prefix":   {1, 1, 0, 0, 0, 1, 0, 0, 0},
	} {
		if _, err := decodeEntry(b); !errors.Is(err, errMalformed) {
			t.Errorf("%s: decode error = %v, want errMalformed", name, err)
		}
	}
}

func TestMemberOp(t *testing.T) {
	for _, m := range []memberOp{{op: opSetAPI, id: "n1", addr: "http://127.0.0.1:8080"}, {op: opSetAPI, id: "n1"}, {op: opForget, id: "n2"}} {
		got, err := decodeMemberOp(encodeMemberOp(m))
		if err != nil || got != m {
			t.Errorf("round trip %+v = %+v, %v", m, got, err)
		}
	}
	for name, b := range map[string][]byte{
		"empty":      {},
		"unknown op": {9, 0, 1, 'a'},
		"empty id":   {opForget, 0, 0},
		"short id":   {opForget, 0, 2, 'a'},
		"no addr":    {opSetAPI, 0, 1, 'a'},
		"trailing":   {opForget, 0, 1, 'a', 0},
	} {
		if _, err := decodeMemberOp(b); !errors.Is(err, errMalformed) {
			t.Errorf("%s: error = %v", name, err)
		}
	}
}

func TestSnapHeaderRoundTrip(t *testing.T) {
	h := snapHeader{fsmIndex: 7, membersIndex: 3, members: map[string]string{"b": "B", "a": "A"}}
	enc := h.encode()
	r := bytes.NewReader(append(bytes.Clone(enc), "fsm-stream"...))
	got, err := readSnapHeader(r)
	if err != nil || got.fsmIndex != 7 || got.membersIndex != 3 || len(got.members) != 2 || got.members["a"] != "A" {
		t.Fatalf("readSnapHeader = %+v, %v", got, err)
	}
	if rest := r.Len(); rest != len("fsm-stream") {
		t.Fatalf("header reader consumed FSM bytes: %d left", rest)
	}
	if !bytes.Equal(got.encode(), enc) {
		t.Fatal("header encoding not canonical")
	}
	if _, err := readSnapHeader(bytes.NewReader(enc[:len(enc)-1])); err == nil {
		t.Fatal("truncated header accepted")
	}
}

// FuzzDecodeEntry: the decoder never panics, and whatever it accepts
// re-encodes to the same bytes (one encoding per entry).
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(kindCommands, wholeCommands([][]byte{[]byte("ab"), {}, []byte("c")})))
	f.Add(encodeEntry(kindMembership, wholeCommands([][]byte{encodeMemberOp(memberOp{op: opSetAPI, id: "n1", addr: "x"})})))
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		if got := encodeEntry(e.kind, wholeCommands(e.cmds)); !bytes.Equal(got, b) {
			t.Fatalf("round trip: %x != %x", got, b)
		}
		if e.kind == kindMembership {
			for _, c := range e.cmds {
				if m, err := decodeMemberOp(c); err == nil && !bytes.Equal(encodeMemberOp(m), c) {
					t.Fatalf("member op round trip: %x", c)
				}
			}
		}
	})
}

// A committed entry that does not decode must stop the replica, not be
// skipped.
func TestApplyPanicsOnGarbage(t *testing.T) {
	a := &fsmAdapter{fsm: &listFSM{}}
	defer func() {
		if recover() == nil {
			t.Fatal("Apply accepted a committed entry that does not decode")
		}
	}()
	a.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{9, 9, 9}})
}

// TestSnapshotHeaderLayout pins raft's FileSnapshotStore layout that
// snapshotHeaderOf relies on, and shows what it saves: the store's Open
// reads the whole state file (a flipped byte past the header fails its
// CRC), while the start-up decision reads the header alone.
func TestSnapshotHeaderLayout(t *testing.T) {
	dir := t.TempDir()
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 1, newHCLogger(slog.New(slog.DiscardHandler), "raft-snap"))
	if err != nil {
		t.Fatal(err)
	}
	sink, err := snaps.Create(raft.SnapshotVersionMax, 40, 2, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := snapHeader{fsmIndex: 39, membersIndex: 5, members: map[string]string{"n1": "http://a"}}
	body := bytes.Repeat([]byte{7}, 1<<20)
	if _, err := sink.Write(append(h.encode(), body...)); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	id := sink.ID()
	got, err := snapshotHeaderOf(dir, id)
	if err != nil || got.fsmIndex != 39 || got.membersIndex != 5 || got.members["n1"] != "http://a" {
		t.Fatalf("snapshotHeaderOf = %+v, %v", got, err)
	}
	fsm := &listFSM{applied: 39}
	if !skipRestore(dir, snaps, fsm, 5, slog.New(slog.DiscardHandler)) {
		t.Fatal("FSM at the snapshot's index: restore not skipped")
	}
	if skipRestore(dir, snaps, &listFSM{applied: 38}, 5, slog.New(slog.DiscardHandler)) {
		t.Fatal("FSM behind the snapshot: restore skipped")
	}

	path := filepath.Join(dir, "snapshots", id, "state.bin")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, rc, err := snaps.Open(id); err == nil {
		rc.Close()
		t.Fatal("raft's Open accepted a state file whose CRC does not match: it no longer reads the whole file")
	}
	if !skipRestore(dir, snaps, fsm, 5, slog.New(slog.DiscardHandler)) {
		t.Fatal("the start-up decision read past the header")
	}
}
