//go:build unix

package testonly

import (
	"syscall"
	"time"
)

// CPUTime is the process's user and system CPU time so far (GC included),
// which benchmarks report per operation beside the wall time: on a shared
// machine it depends less on what else runs. Zero where unavailable.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
