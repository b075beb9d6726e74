package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// crashStep is what step i of the kill -9 test writes, in one Update: key
// (i·7919 mod 600) set to "v<i>", on every fifth step the key of step i-3
// deleted, and the step counter in NSMeta. The keys repeat, so rows are
// overwritten and deleted across levels.
func crashStep(tx store.WriteTx, i int) error {
	if err := tx.Put(store.NSTracker, crashKey(i), []byte("v"+strconv.Itoa(i))); err != nil {
		return err
	}
	if i%5 == 0 && i >= 3 {
		if err := tx.Delete(store.NSTracker, crashKey(i-3)); err != nil {
			return err
		}
	}
	return tx.Put(store.NSMeta, []byte("step"), []byte(strconv.Itoa(i)))
}

func crashKey(i int) []byte { return fmt.Appendf(nil, "k%03d", i*7919%600) }

// crashModel is the tracker namespace after steps 0..last.
func crashModel(last int) map[string]string {
	m := map[string]string{}
	for i := 0; i <= last; i++ {
		m[string(crashKey(i))] = "v" + strconv.Itoa(i)
		if i%5 == 0 && i >= 3 {
			delete(m, string(crashKey(i-3)))
		}
	}
	return m
}

// TestBoltLevelsKill9: a process writing through tiny levels (merges at
// nearly every commit) is killed with SIGKILL at random moments, four
// times; after each kill the store opens, holds every step the process
// reported committed, and reads exactly as the steps up to its own counter
// say (a merge is part of its commit: never half applied), its levels'
// filters holding every key of their levels.
func TestBoltLevelsKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills a child process; skipped with -short")
	}
	if os.Getenv("URNA_LEVELS_CHILD") != "" {
		crashChild(t, os.Getenv("URNA_LEVELS_CHILD"))
		return
	}
	path := filepath.Join(t.TempDir(), "node.db")
	acked := -1
	for round := range 4 {
		cmd, sc, _ := testonly.ChildTest(t, "TestBoltLevelsKill9", "URNA_LEVELS_CHILD="+path)
		// Kill it once it has committed a few hundred steps more.
		target := acked + 150 + 100*round
		for sc.Scan() {
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				acked = n
				if n >= target {
					break
				}
			}
		}
		time.Sleep(time.Duration(round) * 7 * time.Millisecond) // somewhere in a later commit
		cmd.Process.Kill()
		for sc.Scan() { // steps reported before the kill landed
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				acked = n
			}
		}
		cmd.Wait()
		if acked < target {
			t.Fatalf("round %d: the child stopped at step %d before %d", round, acked, target)
		}

		s, err := store.OpenBolt(path, store.BoltOptions{})
		if err != nil {
			t.Fatalf("round %d: reopening after kill -9: %v", round, err)
		}
		err = s.View(context.Background(), func(tx store.ReadTx) error {
			v, err := tx.Get(store.NSMeta, []byte("step"))
			if err != nil {
				return err
			}
			last, err := strconv.Atoi(string(v))
			if err != nil {
				return err
			}
			if last < acked {
				return fmt.Errorf("the store is at step %d, the child had committed %d", last, acked)
			}
			want := crashModel(last)
			got := map[string]string{}
			if err := tx.Scan(store.NSTracker, nil, func(k, v []byte) error { got[string(k)] = string(v); return nil }); err != nil {
				return err
			}
			for k, w := range want {
				if got[k] != w {
					return fmt.Errorf("step %d: key %s = %q, want %q", last, k, got[k], w)
				}
				if g, err := tx.Get(store.NSTracker, []byte(k)); err != nil || string(g) != w {
					return fmt.Errorf("step %d: Get(%s) = %q, %v; want %q", last, k, g, err, w)
				}
			}
			if len(got) != len(want) {
				return fmt.Errorf("step %d: %d keys, want %d", last, len(got), len(want))
			}
			for i := range 600 { // the deleted keys, through the levels' filters
				k := fmt.Sprintf("k%03d", i)
				if _, ok := want[k]; !ok {
					if g, err := tx.Get(store.NSTracker, []byte(k)); !errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("step %d: Get(%s) = %q, %v; want ErrNotFound", last, k, g, err)
					}
				}
			}
			if _, err := store.CheckFilters(tx, nil); err != nil {
				return fmt.Errorf("step %d: %w", last, err)
			}
			acked = last
			return nil
		})
		s.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		t.Logf("round %d: killed at step %d, the store reads as its steps say", round, acked)
	}
}

// crashChild writes steps after the store's counter until killed, printing
// each step once committed.
func crashChild(t *testing.T, path string) {
	store.SetLevels(t, 4, 2)
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	err = s.View(context.Background(), func(tx store.ReadTx) error {
		v, err := tx.Get(store.NSMeta, []byte("step"))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		next, err = strconv.Atoi(string(v))
		next++
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := next; ; i++ {
		if err := s.Update(context.Background(), func(tx store.WriteTx) error { return crashStep(tx, i) }); err != nil {
			t.Fatal(err)
		}
		fmt.Println(i)
	}
}
