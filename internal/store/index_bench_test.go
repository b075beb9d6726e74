package store_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// BenchmarkBallotIndex measures what the board's apply asks of a bbolt
// store per ballot as the board grows: commits of 300 posts (the board's
// commit at 10,000 posts/s), each post a 2.2 KB entry and its three index
// rows under random keys (a new entry hash and tracker, and the
// credential's last ballot, overwriting a registered credential), on a
// store already holding size such ballots. It reports the bytes the
// process wrote (/proc/self/io wchar: the pages of the commits, robust to
// a busy CPU), the CPU time per post, the slowest commit (with levels,
// one that merges a level) and the state file's size at the end.
//
//	go test -run '^$' -bench BallotIndex -benchtime 200x ./internal/store/
func BenchmarkBallotIndex(b *testing.B) {
	for _, size := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) { benchBallotIndex(b, size) })
	}
}

const (
	postsPerCommit = 300
	ballotEntry    = 2200
)

func benchBallotIndex(b *testing.B, size int) {
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	// The board of size ballots: their rows inserted in key order (a
	// fill, cheap whatever the layout), the entries left out (they are
	// appended, and cost the same at any size).
	creds := randomKeys(size)
	for _, ns := range []store.Namespace{store.NSCredential, store.NSTracker, store.NSEntryHash} {
		keys := creds
		if ns != store.NSCredential {
			keys = randomKeys(size)
		}
		slices.SortFunc(keys, bytes.Compare)
		for lo := 0; lo < len(keys); lo += 100_000 {
			err := s.Update(ctx, func(tx store.WriteTx) error {
				for i, k := range keys[lo:min(lo+100_000, len(keys))] {
					if err := tx.Put(ns, k, binary.BigEndian.AppendUint64(nil, uint64(lo+i))); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	entry := make([]byte, ballotEntry)
	rand.Read(entry)
	entries := make([][]byte, postsPerCommit)
	for i := range entries {
		entries[i] = entry
	}
	var seq uint64
	var slowest time.Duration
	w0, cpu0 := wchar(b), testonly.CPUTime()
	b.ResetTimer()
	for range b.N {
		hashes, trackers := randomKeys(postsPerCommit), randomKeys(postsPerCommit)
		at := time.Now()
		err := s.Update(ctx, func(tx store.WriteTx) error {
			if err := tx.AppendEntries(seq, entries); err != nil {
				return err
			}
			for i := range postsPerCommit {
				v := binary.BigEndian.AppendUint64(nil, seq+uint64(i))
				if _, err := tx.Get(store.NSEntryHash, hashes[i]); err == nil {
					return fmt.Errorf("entry hash %x present", hashes[i])
				}
				if err := tx.Put(store.NSEntryHash, hashes[i], v); err != nil {
					return err
				}
				if err := tx.Put(store.NSTracker, trackers[i], v); err != nil {
					return err
				}
				c := creds[(int(seq)+i)*7919%len(creds)]
				if _, err := tx.Get(store.NSCredential, c); err != nil {
					return err
				}
				if err := tx.Put(store.NSCredential, c, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		slowest = max(slowest, time.Since(at))
		seq += postsPerCommit
	}
	b.StopTimer()
	posts := float64(b.N * postsPerCommit)
	b.ReportMetric(float64(wchar(b)-w0)/posts, "written-B/post")
	b.ReportMetric(float64((testonly.CPUTime()-cpu0).Microseconds())/posts, "cpu-µs/post")
	b.ReportMetric(float64(slowest.Microseconds())/1000, "slowest-commit-ms")
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	}
	b.ReportMetric(0, "ns/op")
}

func randomKeys(n int) [][]byte {
	buf := make([]byte, 32*n)
	rand.Read(buf)
	out := make([][]byte, n)
	for i := range out {
		out[i] = buf[32*i : 32*i+32 : 32*i+32]
	}
	return out
}

// wchar is the bytes the process passed to write system calls so far.
func wchar(b *testing.B) int64 {
	n := testonly.ProcIO("wchar")
	if n < 0 {
		b.Skip("no wchar in /proc/self/io")
	}
	return n
}
