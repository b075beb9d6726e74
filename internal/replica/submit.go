package replica

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

type request struct {
	ctx  context.Context
	cmds []Command
	size int // framed size of cmds
	done chan response
}

type response struct {
	results []Result
	err     error
}

// Submit replicates cmd and returns its Result once the entry carrying it is
// committed and applied on this node (the leader). Submit is safe for
// concurrent use: concurrent calls are grouped into shared log entries.
//
// A nil error means the command was committed and applied; the FSM's verdict
// is in Result.Err. Errors: ErrNotLeader (a *NotLeaderError naming the
// leader; not committed), ErrOverloaded and ErrTooLarge (not committed),
// ErrLeadershipLost and ErrShutdown (outcome unknown), and ctx.Err() if ctx
// ends first (outcome unknown once the command was taken by the batcher).
func (n *Node) Submit(ctx context.Context, cmd []byte) (Result, error) {
	res, err := n.SubmitBatch(ctx, [][]byte{cmd})
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
}

// SubmitBatch replicates cmds as one unit: they are carried, contiguous and
// in order, by a single log entry, so they are committed all together or not
// at all. It returns one Result per command; errors are as for Submit. The
// batch MUST fit in one entry (Config.MaxBatch and MaxBatchBytes), else
// ErrTooLarge, except a batch of one command of up to MaxCommandBytes,
// which travels alone in its own entry after the large command in flight
// before it, if any, was applied. The caller MUST NOT modify cmds until
// SubmitBatch returns.
func (n *Node) SubmitBatch(ctx context.Context, cmds [][]byte) ([]Result, error) {
	return n.SubmitCommands(ctx, wholeCommands(cmds))
}

// FitEntry returns how many of cmds, taken in order from the first, one
// log entry carries together (at least one: a first command too large for
// a batch travels alone, as SubmitBatch says). A caller with more commands
// than fit submits them in several SubmitCommands calls.
func (n *Node) FitEntry(cmds []Command) int {
	count, size := 0, entryHeaderLen
	for count < len(cmds) && count < n.cfg.MaxBatch {
		size += cmdHeaderLen + cmds[count].Len()
		if count > 0 && size > n.cfg.MaxBatchBytes {
			break
		}
		count++
	}
	return count
}

// SubmitCommands is SubmitBatch with each command given in two parts
// (Command), framed straight into the log entry without a copy before. The
// caller MUST NOT modify the parts until SubmitCommands returns.
func (n *Node) SubmitCommands(ctx context.Context, cmds []Command) ([]Result, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	size := entrySize(cmds) - entryHeaderLen
	// Past MaxBatchBytes, only a lone command fits (FitEntry): a large one.
	large := entryHeaderLen+size > n.cfg.MaxBatchBytes
	if n.FitEntry(cmds) < len(cmds) || (large && cmds[0].Len() > n.cfg.MaxCommandBytes) {
		return nil, fmt.Errorf("%w: %d commands, %d bytes (an entry holds %d commands and %d bytes, or one command of up to %d)",
			ErrTooLarge, len(cmds), size, n.cfg.MaxBatch, n.cfg.MaxBatchBytes, max(n.cfg.MaxCommandBytes, n.cfg.MaxBatchBytes))
	}
	if large {
		select {
		case n.large <- struct{}{}:
			defer func() { <-n.large }()
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-n.stop:
			return nil, ErrShutdown
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n.raft.State() != raft.Leader {
		return nil, n.notLeader()
	}
	req := &request{ctx: ctx, cmds: cmds, size: size, done: make(chan response, 1)}
	n.mu.RLock()
	if n.closed {
		n.mu.RUnlock()
		return nil, ErrShutdown
	}
	select {
	case n.queue <- req:
	default:
		n.mu.RUnlock()
		return nil, ErrOverloaded
	}
	n.mu.RUnlock()
	select {
	case r := <-req.done:
		return r.results, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runBatcher is the single goroutine that turns queued requests into log
// entries. It gathers requests until the entry is full (MaxBatch,
// MaxBatchBytes) or MaxWait passed, hands the entry to raft, and lets a
// waiter goroutine deliver the results. At most MaxInflight entries are in
// flight; while none is free, requests accumulate and the next entry grows.
func (n *Node) runBatcher() {
	defer close(n.batcherDone)
	inflight := make(chan struct{}, n.cfg.MaxInflight)
	timer := time.NewTimer(time.Hour)
	timer.Stop()

	var carry *request
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-n.queue:
			case <-n.stop:
				n.drainQueue()
				return
			}
		}
		select {
		case inflight <- struct{}{}:
		case <-n.stop:
			first.done <- response{err: ErrShutdown}
			n.drainQueue()
			return
		}

		var batch []*request
		count, size := 0, entryHeaderLen
		// add reports false when r does not fit; r is then carried over.
		add := func(r *request) bool {
			if err := r.ctx.Err(); err != nil {
				r.done <- response{err: err}
				return true
			}
			if len(batch) > 0 && (count+len(r.cmds) > n.cfg.MaxBatch || size+r.size > n.cfg.MaxBatchBytes) {
				carry = r
				return false
			}
			batch = append(batch, r)
			count += len(r.cmds)
			size += r.size
			return true
		}
		add(first)
		deadline := time.Now().Add(n.cfg.MaxWait)
	gather:
		for count < n.cfg.MaxBatch && size < n.cfg.MaxBatchBytes {
			select {
			case r := <-n.queue:
				if !add(r) {
					break gather
				}
				continue
			default:
			}
			wait := time.Until(deadline)
			if wait <= 0 {
				break
			}
			timer.Reset(wait)
			select {
			case r := <-n.queue:
				timer.Stop()
				if !add(r) {
					break gather
				}
			case <-timer.C:
				break gather
			case <-n.stop:
				timer.Stop()
				break gather
			}
		}
		if len(batch) == 0 {
			<-inflight
			continue
		}
		n.send(batch, count, inflight)
	}
}

// send frames batch into one entry and hands it to raft.
func (n *Node) send(batch []*request, count int, inflight chan struct{}) {
	cmds := make([]Command, 0, count)
	for _, r := range batch {
		cmds = append(cmds, r.cmds...)
	}
	f := n.raft.Apply(encodeEntry(kindCommands, cmds), n.cfg.ApplyTimeout)
	n.entries.Add(1)
	n.commands.Add(uint64(count))
	n.waiters.Add(1)
	go func() {
		defer n.waiters.Done()
		err := n.await(context.Background(), f)
		<-inflight
		if err != nil {
			err = n.mapRaftErr(err)
			for _, r := range batch {
				r.done <- response{err: err}
			}
			return
		}
		results, ok := f.Response().([]Result)
		if !ok || len(results) != count {
			err := fmt.Errorf("replica: unexpected apply response %T at index %d", f.Response(), f.Index())
			for _, r := range batch {
				r.done <- response{err: err}
			}
			return
		}
		idx := f.Index()
		for i := range results {
			results[i].Index = idx
		}
		off := 0
		for _, r := range batch {
			r.done <- response{results: results[off : off+len(r.cmds) : off+len(r.cmds)]}
			off += len(r.cmds)
		}
	}()
}

// drainQueue fails every queued request after the batcher stopped.
func (n *Node) drainQueue() {
	for {
		select {
		case r := <-n.queue:
			r.done <- response{err: ErrShutdown}
		default:
			return
		}
	}
}
