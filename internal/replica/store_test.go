package replica

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// openTestStore opens a node's stores (raft.db and the WAL) in a new
// directory, which it returns.
func openTestStore(t *testing.T) (*raftStore, string) {
	t.Helper()
	path := t.TempDir()
	s, err := openRaftStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// reopenTestStore closes s and opens the store at path again, closed when
// the test ends.
func reopenTestStore(t *testing.T, s *raftStore, path string) *raftStore {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := openRaftStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

func testLog(idx uint64, data string) *raft.Log {
	return &raft.Log{
		Index: idx, Term: idx / 3, Type: raft.LogCommand, Data: []byte(data),
		Extensions: []byte("ext"), AppendedAt: time.Unix(1700000000, int64(idx)),
	}
}

func TestStoreEmpty(t *testing.T) {
	s, _ := openTestStore(t)
	for name, f := range map[string]func() (uint64, error){"first": s.FirstIndex, "last": s.LastIndex} {
		if idx, err := f(); err != nil || idx != 0 {
			t.Errorf("%s index of empty store = %d, %v; want 0, nil", name, idx, err)
		}
	}
	var l raft.Log
	if err := s.GetLog(1, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("GetLog on empty store: %v, want ErrLogNotFound", err)
	}
	// raft recognises a missing key by this exact text.
	if _, err := s.Get([]byte("k")); err == nil || err.Error() != "not found" {
		t.Errorf("Get missing: %v", err)
	}
	if _, err := s.GetUint64([]byte("k")); err == nil || err.Error() != "not found" {
		t.Errorf("GetUint64 missing: %v", err)
	}
}

func TestStoreLogs(t *testing.T) {
	s, path := openTestStore(t)
	if err := s.StoreLog(testLog(1, "one")); err != nil {
		t.Fatal(err)
	}
	var batch []*raft.Log
	for i := uint64(2); i <= 10; i++ {
		batch = append(batch, testLog(i, "cmd"))
	}
	batch = append(batch, &raft.Log{Index: 11, Term: 4, Type: raft.LogNoop}) // empty data, zero time
	if err := s.StoreLogs(batch); err != nil {
		t.Fatal(err)
	}
	check := func(s *raftStore, first, last uint64) {
		t.Helper()
		if f, _ := s.FirstIndex(); f != first {
			t.Errorf("FirstIndex = %d, want %d", f, first)
		}
		if l, _ := s.LastIndex(); l != last {
			t.Errorf("LastIndex = %d, want %d", l, last)
		}
	}
	check(s, 1, 11)

	var got raft.Log
	if err := s.GetLog(5, &got); err != nil {
		t.Fatal(err)
	}
	want := testLog(5, "cmd")
	if got.Index != want.Index || got.Term != want.Term || got.Type != want.Type ||
		!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) || !got.AppendedAt.Equal(want.AppendedAt) {
		t.Errorf("GetLog(5) = %+v, want %+v", got, want)
	}
	if err := s.GetLog(11, &got); err != nil || got.Type != raft.LogNoop || got.Data != nil || !got.AppendedAt.IsZero() {
		t.Errorf("GetLog(11) = %+v, %v", got, err)
	}

	// DeleteRange is inclusive at both ends; suffix deletes are used by raft
	// on conflicts, prefix deletes by compaction.
	if err := s.DeleteRange(1, 4); err != nil {
		t.Fatal(err)
	}
	check(s, 5, 11)
	if err := s.DeleteRange(9, 11); err != nil {
		t.Fatal(err)
	}
	check(s, 5, 8)
	if err := s.GetLog(4, &got); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("GetLog(4) after delete: %v", err)
	}
	if err := s.DeleteRange(1, 100); err != nil {
		t.Fatal(err)
	}
	check(s, 0, 0)

	// Durable across reopen.
	if err := s.StoreLogs([]*raft.Log{testLog(20, "x"), testLog(21, "y")}); err != nil {
		t.Fatal(err)
	}
	check(reopenTestStore(t, s, path), 20, 21)
}

func TestStoreStable(t *testing.T) {
	s, _ := openTestStore(t)
	if err := s.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Errorf("Get = %q, %v", v, err)
	}
	if err := s.SetUint64([]byte("term"), 42); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetUint64([]byte("term")); err != nil || v != 42 {
		t.Errorf("GetUint64 = %d, %v", v, err)
	}
	if err := s.Set([]byte("k"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get([]byte("k")); string(v) != "v2" {
		t.Errorf("overwrite: Get = %q", v)
	}
}

func TestStoreMembers(t *testing.T) {
	s, _ := openTestStore(t)
	ops := []memberOp{{op: opSetAPI, id: "a", addr: "http://a"}, {op: opSetAPI, id: "b", addr: "http://b"}}
	if ok, err := s.applyMembers(5, ops); !ok || err != nil {
		t.Fatalf("applyMembers = %v, %v", ok, err)
	}
	// Replay of an applied index changes nothing.
	if ok, err := s.applyMembers(5, []memberOp{{op: opForget, id: "a"}}); ok || err != nil {
		t.Fatalf("replayed applyMembers = %v, %v", ok, err)
	}
	if ok, _ := s.applyMembers(7, []memberOp{{op: opForget, id: "a"}}); !ok {
		t.Fatal("applyMembers(7) not applied")
	}
	m, idx, err := s.members()
	if err != nil || idx != 7 || len(m) != 1 || m["b"] != "http://b" {
		t.Fatalf("members = %v, %d, %v", m, idx, err)
	}
	if err := s.replaceMembers(map[string]string{"c": "http://c"}, 9); err != nil {
		t.Fatal(err)
	}
	m, idx, _ = s.members()
	if idx != 9 || len(m) != 1 || m["c"] != "http://c" {
		t.Fatalf("after replace: %v, %d", m, idx)
	}
}
