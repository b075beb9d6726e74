package partition

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// opKind is what a client asked.
type opKind int

const (
	opPost       opKind = iota // POST /entries with one entry
	opRead                     // GET /entries/{seq}
	opTracker                  // GET /trackers/{tracker}
	opCheckpoint               // GET /checkpoint
)

func (k opKind) String() string {
	return [...]string{"post", "read", "tracker", "checkpoint"}[k]
}

// outcome is how an operation ended.
type outcome int

const (
	okFound  outcome = iota // post accepted / entry or tracker found / checkpoint read
	dupOf                   // post answered "duplicate": the entry is already on the board
	notFound                // read or tracker: 404
	failed                  // no answer or a 5xx: unknown for a post, nothing for a read
	effectOf                // set by complete: an unknown post whose entry is on the final board
	repeatOf                // set by complete: a post answered with the seq an earlier attempt's append got
)

// op is one client operation as recorded: who, on which node, what, the
// answer, and when it started and ended (nanoseconds since the history's
// start).
type op struct {
	client  int // the porcupine process: a new one after a post with unknown outcome
	sess    int // the session: one client with one node
	node    string
	kind    opKind
	id      string // post: the entry's id; tracker: the id of the ballot with that tracker
	seq     uint64 // read: asked; post, tracker: answered
	size    uint64 // checkpoint: answered
	root    string // checkpoint: answered
	note    string // checkpoint: answered
	signers int    // checkpoint: how many nodes signed it
	got     string // read, tracker: the id answered
	// consistent: a read with ?consistent=1, which MUST reflect every
	// post acknowledged before it began (docs/API.md, "Consistent reads").
	consistent bool
	out        outcome
	err        string // failed: why
	call       int64
	ret        int64
}

// history records operations from concurrent clients.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []*op
}

func newHistory() *history { return &history{start: time.Now()} }

// now is the monotonic time since the start.
func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(o *op) {
	h.mu.Lock()
	h.ops = append(h.ops, o)
	h.mu.Unlock()
}

// boardLog is the model's state: the ids of the entries in log order. It is
// never changed in place (porcupine requires a pure Step).
type boardLog []string

// model is the consistency docs/API.md promises, as a sequential
// specification of an append-only log:
//   - a post appends its entry and answers its seq (= the log's length), or
//     answers "duplicate" when the entry is already there;
//   - a post with unknown outcome or answered "duplicate" that complete
//     found to have appended its entry (effectOf) appends it;
//   - a post answered with the seq an earlier attempt's append got
//     (repeatOf, posting is idempotent) finds its entry at that seq;
//   - a read of seq s that finds an entry finds the log's entry s, a
//     tracker found names an entry at the seq the log has it, and a
//     checkpoint covers no more than the log: reads never show what is not
//     committed, nor anything different from it;
//   - a plain read's "not found" is allowed at any point: it is answered
//     from the node's own replica, which may be behind (checked separately
//     by checkSessions);
//   - a consistent read (?consistent=1, the read barrier) is linearizable:
//     it answers "not found" only when the log does not hold what it asked
//     for (seq s at or past the log's length; a tracker whose ballot is not
//     in the log), so a consistent read that misses a post acknowledged
//     before it began is a violation.
var model = porcupine.Model{
	Init: func() any { return boardLog(nil) },
	Step: func(state, input, output any) (bool, any) {
		l, o := state.(boardLog), input.(*op)
		switch o.kind {
		case opPost:
			has := slices.Contains(l, o.id)
			switch o.out {
			case okFound:
				if has || o.seq != uint64(len(l)) {
					return false, l
				}
				return true, append(slices.Clip(l), o.id)
			case effectOf: // seq: where the final board has it
				if has || o.seq != uint64(len(l)) {
					return false, l
				}
				return true, append(slices.Clip(l), o.id)
			case dupOf:
				return has, l
			case repeatOf:
				return o.seq < uint64(len(l)) && l[o.seq] == o.id, l
			}
		case opRead, opTracker:
			if o.out == notFound && !o.consistent {
				return true, l
			}
			if o.out == notFound && o.kind == opRead {
				return o.seq >= uint64(len(l)), l
			}
			if o.out == notFound {
				return !slices.Contains(l, o.id), l
			}
			return o.seq < uint64(len(l)) && l[o.seq] == o.got && (o.kind == opRead || o.got == o.id), l
		case opCheckpoint:
			return o.size <= uint64(len(l)), l
		}
		return false, l
	},
	Equal: func(a, b any) bool { return slices.Equal(a.(boardLog), b.(boardLog)) },
	Hash: func(s any) uint64 {
		h := fnv.New64a()
		for _, id := range s.(boardLog) {
			h.Write([]byte(id))
		}
		return h.Sum64()
	},
	DescribeOperation: func(input, _ any) string { return input.(*op).String() },
	DescribeState: func(s any) string {
		l := s.(boardLog)
		if len(l) == 0 {
			return "[]"
		}
		return fmt.Sprintf("%d entries, last %s", len(l), short(l[len(l)-1]))
	},
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func (o *op) String() string {
	if o.consistent {
		return o.describe() + " (consistent)"
	}
	return o.describe()
}

func (o *op) describe() string {
	switch o.kind {
	case opPost:
		switch o.out {
		case okFound:
			return fmt.Sprintf("%s: post %s -> seq %d", o.node, short(o.id), o.seq)
		case dupOf:
			return fmt.Sprintf("%s: post %s -> duplicate", o.node, short(o.id))
		case repeatOf:
			return fmt.Sprintf("%s: post %s -> seq %d, appended by an earlier attempt", o.node, short(o.id), o.seq)
		default:
			return fmt.Sprintf("%s: post %s -> unknown or duplicate, appended by this post", o.node, short(o.id))
		}
	case opRead:
		if o.out == notFound {
			return fmt.Sprintf("%s: read %d -> not found", o.node, o.seq)
		}
		return fmt.Sprintf("%s: read %d -> %s", o.node, o.seq, short(o.got))
	case opTracker:
		if o.out == notFound {
			return fmt.Sprintf("%s: tracker of %s -> not found", o.node, short(o.id))
		}
		return fmt.Sprintf("%s: tracker of %s -> seq %d %s", o.node, short(o.id), o.seq, short(o.got))
	default:
		return fmt.Sprintf("%s: checkpoint -> size %d", o.node, o.size)
	}
}

// complete turns the recorded history into porcupine operations, using
// the final board (entry id → seq) to settle posts with unknown outcome
// the way Jepsen settles indeterminate operations:
//   - an entry on the final board that no post answered with a seq was
//     appended by an attempt that failed or answered "duplicate": we let
//     the first one carry the effect (a failed one's open interval
//     [call, ∞) contains every later attempt's);
//   - posting is idempotent: a post of an entry already on the board is
//     answered with that entry's position (docs/API.md). So when the first
//     attempt at an entry failed and a later one was answered with a seq,
//     the failed one may have appended it: the first failed attempt
//     carries the effect, and every post answered with a seq after the one
//     that appended the entry is a repeat (repeatOf), which must name the
//     seq the log has the entry at;
//   - every other failed post had no effect (an entry answered with a seq
//     was appended by the first post so answered, unless a failed attempt
//     came before it; one not on the final board by none);
//   - failed reads say nothing and are left out.
//
// Why "duplicate" may carry the effect: before posting was made idempotent,
// a follower that forwarded a post to a leader that lost leadership sent
// it again to the next leader (httpapi/forward.go), which answered
// "duplicate" when the first attempt was committed after all. The node now
// answers the position instead and the test fails on any "duplicate"; the
// model keeps the case so that such a history is still judged exactly
// (selfDup counts them).
//
// Every client starts a new porcupine process after a failed post (its
// open interval would otherwise overlap the client's next operations).
func complete(ops []*op, final map[string]uint64) (hist []porcupine.Operation, selfDup int) {
	sorted := slices.Clone(ops)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].call < sorted[b].call })
	// appender is, per entry on the final board, the post that appended
	// it: the first failed attempt before any answered with a seq, else
	// the first answered with a seq, else the first failed or duplicate.
	appender := map[string]*op{}
	acked := map[string]bool{}
	for _, o := range sorted {
		if _, on := final[o.id]; !on || o.kind != opPost || acked[o.id] {
			continue
		}
		switch {
		case o.out == okFound:
			acked[o.id] = true
			if a := appender[o.id]; a == nil || a.out != failed {
				appender[o.id] = o
			}
		case o.out == failed && appender[o.id] == nil:
			appender[o.id] = o
		case o.out == dupOf && appender[o.id] == nil:
			appender[o.id] = o
		}
	}
	for _, o := range sorted {
		ret := o.ret
		a := appender[o.id]
		switch {
		case o.kind != opPost:
			if o.out == failed {
				continue
			}
		case a == o && o.out != okFound:
			e := *o
			e.out, e.seq = effectOf, final[o.id]
			if o.out == failed {
				ret = math.MaxInt64
			} else {
				selfDup++
			}
			o = &e
		case a != nil && a != o && o.out == okFound:
			e := *o
			e.out = repeatOf
			o = &e
		case o.out == failed:
			continue
		}
		hist = append(hist, porcupine.Operation{ClientId: o.client, Input: o, Output: o.out, Call: o.call, Return: ret})
	}
	return hist, selfDup
}

// checkSessions checks what reads do promise: within one client's session
// with one node, reads never go back in time. Once a session saw entry s
// (by seq or by tracker) or a checkpoint of size N, a later read of any seq
// below s+1 (or N) finds it, a later tracker whose ballot is below that
// finds it, and a later checkpoint is no smaller. final gives the seq of
// every entry on the final board.
func checkSessions(ops []*op, final map[string]uint64) []string {
	bySess := map[int][]*op{}
	for _, o := range ops {
		if o.kind != opPost && o.out != failed {
			bySess[o.sess] = append(bySess[o.sess], o)
		}
	}
	var bad []string
	for _, s := range bySess {
		sort.Slice(s, func(a, b int) bool { return s[a].call < s[b].call })
		var seen, cp uint64 // entries known present; the largest checkpoint
		var seenBy, cpBy *op
		for _, o := range s {
			switch {
			case o.kind == opCheckpoint:
				if o.size < cp {
					bad = append(bad, fmt.Sprintf("%s went back in time after %s", o, cpBy))
				}
				if o.size > cp {
					cp, cpBy = o.size, o
				}
				if o.size > seen {
					seen, seenBy = o.size, o
				}
				continue
			case o.out == okFound:
				if o.seq+1 > seen {
					seen, seenBy = o.seq+1, o
				}
				continue
			}
			at := o.seq // not found: where the asked entry is
			if o.kind == opTracker {
				var on bool
				if at, on = final[o.id]; !on {
					continue
				}
			}
			if at < seen {
				bad = append(bad, fmt.Sprintf("%s went back in time after %s", o, seenBy))
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// summary counts operations by kind and outcome.
func summary(ops []*op) string {
	count := map[string]int{}
	for _, o := range ops {
		name := [...]string{"ok", "duplicate", "not found", "failed", "effect", "repeat"}[o.out]
		kind := o.kind.String()
		if o.consistent {
			kind = "consistent " + kind
		}
		count[kind+" "+name]++
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d; ", k, count[k])
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// explain lists the simplest contradictions in a history porcupine
// refused, for the failure message: an answer that shows an entry (a read,
// a tracker, a checkpoint covering it, a "duplicate") before the post that
// appended it began, a consistent read that missed an entry whose post was
// acknowledged before the read began, and two posts whose seqs are in the
// opposite order of real time.
func explain(hist []porcupine.Operation) []string {
	appended := map[string]porcupine.Operation{} // id → the post that appended it
	bySeq := map[uint64]porcupine.Operation{}
	for _, p := range hist {
		o := p.Input.(*op)
		if o.kind == opPost && (o.out == okFound || o.out == effectOf) {
			appended[o.id], bySeq[o.seq] = p, p
		}
	}
	var out []string
	for _, p := range hist {
		o := p.Input.(*op)
		var shows []porcupine.Operation
		switch {
		case o.kind == opPost && o.out == dupOf, o.kind == opTracker && o.out == okFound:
			shows = append(shows, appended[o.id])
		case o.kind == opRead && o.out == okFound:
			shows = append(shows, appended[o.got])
		case o.kind == opCheckpoint && o.out == okFound:
			for s := uint64(0); s < o.size; s++ {
				shows = append(shows, bySeq[s])
			}
		case o.consistent && o.out == notFound && o.kind != opCheckpoint:
			q, ok := bySeq[o.seq]
			if o.kind == opTracker {
				q, ok = appended[o.id]
			}
			if ok && q.Return < p.Call {
				out = append(out, fmt.Sprintf("%s [%d,%d] began after %s [%d,%d] was acknowledged", o, p.Call, p.Return, q.Input.(*op), q.Call, q.Return))
			}
		case o.kind == opPost && o.out == okFound:
			for _, q := range hist {
				if qo := q.Input.(*op); qo.kind == opPost && qo.out == okFound && p.Return < q.Call && qo.seq < o.seq {
					out = append(out, fmt.Sprintf("%s [%d,%d] ended before %s [%d,%d] began", o, p.Call, p.Return, qo, q.Call, q.Return))
				}
			}
		}
		for _, q := range shows {
			if q.Input == nil {
				out = append(out, fmt.Sprintf("%s [%d,%d] shows an entry no post appended", o, p.Call, p.Return))
			} else if p.Return < q.Call {
				out = append(out, fmt.Sprintf("%s [%d,%d] ended before %s [%d,%d] began", o, p.Call, p.Return, q.Input.(*op), q.Call, q.Return))
			}
		}
		if len(out) > 20 {
			break
		}
	}
	return out
}
