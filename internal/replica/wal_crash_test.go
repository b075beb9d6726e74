package replica

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/urna-vote/urna/internal/testonly"
)

// crashEntrySize is the data size of entry i in the kill -9 test: mostly
// small, every eleventh ~50 KB (several segments of 256 KiB fill per run).
func crashEntrySize(i uint64) int {
	if i%11 == 0 {
		return 50000 + int(i%1000)
	}
	return int(i % 300)
}

// TestWALKill9: a child process appends batches to a WAL with small
// segments (rolling often) and cuts its front now and then, printing
// "first last" after each call returned; it is killed with SIGKILL at a
// random moment, five times. After each kill the WAL opens and holds every
// entry the child reported, byte for byte, and nothing of what it cut.
func TestWALKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills a child process; skipped with -short")
	}
	if dir := os.Getenv("URNA_WAL_KILL_CHILD"); dir != "" {
		walCrashChild(t, dir)
		return
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	var first, last uint64
	for round := range 5 {
		cmd, sc, stderr := testonly.ChildTest(t, "TestWALKill9", "URNA_WAL_KILL_CHILD="+dir)
		lines := 0
		target := 100 + rng.IntN(300)
		for lines < target && sc.Scan() {
			if _, err := fmt.Sscanf(sc.Text(), "%d %d", &first, &last); err != nil {
				continue // the test binary's own output
			}
			lines++
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if lines < target {
			t.Fatalf("round %d: child stopped after %d acknowledged calls (%v): %s", round, lines, err, stderr.String())
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not by SIGKILL: %s", round, err, stderr.String())
		}

		w, err := openWAL(dir)
		if err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		f, _ := w.FirstIndex()
		l, _ := w.LastIndex()
		// A front cut or an append may have completed unreported; the
		// child always keeps at least 100 entries.
		if f < first || f > last || l < last {
			t.Fatalf("round %d: log is %d..%d after kill, the child reported %d..%d", round, f, l, first, last)
		}
		for i := f; i <= l; i++ {
			var got raft.Log
			if err := w.GetLog(i, &got); err != nil {
				t.Fatalf("round %d: GetLog(%d): %v", round, i, err)
			}
			sameLog(t, &got, walEntry(i, crashEntrySize(i)))
		}
		t.Logf("round %d: killed after %d..%d was reported; reopened with %d..%d in %d segments", round, first, last, f, l, len(w.segs))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// walCrashChild appends to the WAL in dir until killed.
func walCrashChild(t *testing.T, dir string) {
	w, err := openWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.segBytes = 256 << 10
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 7))
	for call := 0; ; call++ {
		last, _ := w.LastIndex()
		first, _ := w.FirstIndex()
		if call%20 == 19 && last-first > 200 {
			if err := w.DeleteRange(first, last-100-uint64(rng.IntN(50))); err != nil {
				t.Fatal(err)
			}
		} else {
			var logs []*raft.Log
			for i := range uint64(1 + rng.IntN(8)) {
				logs = append(logs, walEntry(last+1+i, crashEntrySize(last+1+i)))
			}
			if err := w.StoreLogs(logs); err != nil {
				t.Fatal(err)
			}
		}
		first, _ = w.FirstIndex()
		last, _ = w.LastIndex()
		fmt.Printf("%d %d\n", first, last)
	}
}

// TestWALDiskFull: appends that fail for want of space (here the file
// size limit, RLIMIT_FSIZE, in a child process) return the error, leave
// the log as it was on disk and in memory, new segment included, and the
// WAL takes appends again once there is room; a reopen holds exactly the
// acknowledged entries.
func TestWALDiskFull(t *testing.T) {
	if os.Getenv("URNA_WAL_FULL_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestWALDiskFull$", "-test.count", "1", "-test.v")
		cmd.Env = append(os.Environ(), "URNA_WAL_FULL_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestWALDiskFull") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	storeRange(t, w, 1, 10)
	size := w.segs[0].size()

	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	full := lim
	full.Cur = uint64(size) + 1000
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		t.Fatal(err)
	}
	err := w.StoreLogs([]*raft.Log{walEntry(11, 300), walEntry(12, 5000)})
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("append past the limit: %v, want EFBIG", err)
	}
	checkWALHolds(t, w, 1, 10)
	if st, _ := os.Stat(w.segs[0].path); st.Size() != size {
		t.Fatalf("segment is %d bytes after the failed append, want %d", st.Size(), size)
	}
	storeRange(t, w, 11, 11) // fits under the limit

	// A new segment whose first write fails is removed again.
	w.segBytes = 1
	err = w.StoreLogs([]*raft.Log{walEntry(12, int(full.Cur))})
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("append into a new segment past the limit: %v, want EFBIG", err)
	}
	if _, err := os.Stat(filepath.Join(dir, segmentName(12))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("segment of the failed append left behind: %v", err)
	}
	checkWALHolds(t, w, 1, 11)

	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	storeRange(t, w, 12, 14)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkWALHolds(t, openTestWAL(t, dir), 1, 14)
}
