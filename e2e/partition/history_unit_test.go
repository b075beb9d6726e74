package partition

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// The checkers themselves, on small hand-made histories (no namespaces
// needed): each must accept the good history and refuse the bad one.

func post(client int, id string, seq uint64, out outcome, call, ret int64) *op {
	return &op{client: client, sess: client, node: "n1", kind: opPost, id: id, seq: seq, out: out, call: call, ret: ret}
}

func read(sess int, seq uint64, got string, call, ret int64) *op {
	o := &op{client: sess, sess: sess, node: "n1", kind: opRead, seq: seq, got: got, out: okFound, call: call, ret: ret}
	if got == "" {
		o.out = notFound
	}
	return o
}

func consistent(o *op) *op { o.consistent = true; return o }

func TestModel(t *testing.T) {
	final := map[string]uint64{"a": 0, "b": 1, "c": 2}
	for _, tc := range []struct {
		name string
		ops  []*op
		want porcupine.CheckResult
	}{
		{"concurrent posts in either order", []*op{post(1, "a", 1, okFound, 0, 10), post(2, "b", 0, okFound, 5, 15)}, porcupine.Ok},
		{"seqs against real time", []*op{post(1, "a", 1, okFound, 0, 10), post(2, "b", 0, okFound, 11, 15)}, porcupine.Illegal},
		{"a seq skipped", []*op{post(1, "a", 1, okFound, 0, 10)}, porcupine.Illegal},
		{"read of an entry before its post began", []*op{read(3, 0, "a", 0, 4), post(1, "a", 0, okFound, 5, 10)}, porcupine.Illegal},
		{"stale not found", []*op{post(1, "a", 0, okFound, 0, 10), read(3, 0, "", 11, 12)}, porcupine.Ok},
		{"read of another entry at the seq", []*op{post(1, "a", 0, okFound, 0, 10), read(3, 0, "b", 11, 12)}, porcupine.Illegal},
		{"unknown post that took effect", []*op{post(1, "a", 0, failed, 0, 10), post(2, "b", 1, okFound, 20, 30), read(3, 0, "a", 31, 32)}, porcupine.Ok},
		{"duplicate answering the post that appended", []*op{post(1, "a", 0, dupOf, 0, 10), post(2, "b", 1, okFound, 11, 12)}, porcupine.Ok},
		{"duplicate answered before the entry was appended", []*op{post(1, "a", 0, okFound, 20, 30), post(2, "a", 0, dupOf, 0, 10)}, porcupine.Illegal},
		{"the appending duplicate ends before its seq's turn", []*op{post(1, "a", 0, okFound, 0, 10), post(1, "c", 0, dupOf, 11, 12), post(2, "b", 1, okFound, 20, 30)}, porcupine.Illegal},
		{"retry answered with the seq its failed first attempt got", []*op{post(1, "a", 0, failed, 0, 5), post(2, "b", 1, okFound, 6, 10), post(3, "a", 0, okFound, 11, 12)}, porcupine.Ok},
		{"retry answered with another seq than the append", []*op{post(1, "a", 0, okFound, 0, 5), post(2, "b", 1, okFound, 6, 10), post(3, "a", 1, okFound, 11, 12)}, porcupine.Illegal},
		{"consistent not found while the post is in flight", []*op{post(1, "a", 0, okFound, 0, 10), consistent(read(3, 0, "", 5, 12))}, porcupine.Ok},
		{"consistent read after the post", []*op{post(1, "a", 0, okFound, 0, 10), consistent(read(3, 0, "a", 11, 12))}, porcupine.Ok},
		{"consistent not found after the post was acknowledged", []*op{post(1, "a", 0, okFound, 0, 10), consistent(read(3, 0, "", 11, 12))}, porcupine.Illegal},
		{"consistent tracker not found after the post was acknowledged", []*op{post(1, "a", 0, okFound, 0, 10),
			{client: 3, sess: 3, node: "n2", kind: opTracker, id: "a", out: notFound, consistent: true, call: 11, ret: 12}}, porcupine.Illegal},
		{"consistent tracker not found of an entry never posted", []*op{post(1, "a", 0, okFound, 0, 10),
			{client: 3, sess: 3, node: "n2", kind: opTracker, id: "c", out: notFound, consistent: true, call: 11, ret: 12}}, porcupine.Ok},
		{"consistent checkpoint not found yet", []*op{post(1, "a", 0, okFound, 0, 10),
			{client: 3, sess: 3, node: "n2", kind: opCheckpoint, out: notFound, consistent: true, call: 11, ret: 12}}, porcupine.Ok},
		{"checkpoint ahead of the posts", []*op{{kind: opCheckpoint, size: 1, out: okFound, call: 0, ret: 4}, post(1, "a", 0, okFound, 5, 10)}, porcupine.Illegal},
	} {
		hist, _ := complete(tc.ops, final)
		if got := porcupine.CheckOperations(model, hist); (got && tc.want != porcupine.Ok) || (!got && tc.want == porcupine.Ok) {
			t.Errorf("%s: linearizable %v, want %s", tc.name, got, tc.want)
		}
		if tc.want == porcupine.Illegal && (strings.HasPrefix(tc.name, "seqs") || strings.HasPrefix(tc.name, "consistent")) && len(explain(hist)) == 0 {
			t.Errorf("%s: explain finds no contradiction", tc.name)
		}
	}
}

func TestCheckSessions(t *testing.T) {
	final := map[string]uint64{"a": 0, "b": 1}
	tr := func(sess int, id string, call int64) *op {
		return &op{sess: sess, node: "n1", kind: opTracker, id: id, out: notFound, call: call, ret: call + 1}
	}
	cp := func(sess int, size uint64, call int64) *op {
		return &op{sess: sess, node: "n1", kind: opCheckpoint, size: size, out: okFound, call: call, ret: call + 1}
	}
	good := []*op{read(1, 1, "", 0, 1), read(1, 0, "a", 2, 3), read(2, 1, "", 4, 5), cp(1, 1, 6), cp(1, 1, 8), read(1, 1, "", 10, 11)}
	if bad := checkSessions(good, final); len(bad) != 0 {
		t.Errorf("good history refused: %v", bad)
	}
	for name, ops := range map[string][]*op{
		"not found after found":       {read(1, 1, "b", 0, 1), read(1, 1, "", 2, 3)},
		"lower seq lost":              {read(1, 1, "b", 0, 1), read(1, 0, "", 2, 3)},
		"tracker lost":                {read(1, 1, "b", 0, 1), tr(1, "a", 2)},
		"checkpoint shrinks":          {cp(1, 2, 0), cp(1, 1, 2)},
		"entry under checkpoint lost": {cp(1, 2, 0), read(1, 1, "", 2, 3)},
	} {
		if bad := checkSessions(ops, final); len(bad) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}
