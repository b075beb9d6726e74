//go:build !unix

package testonly

import "time"

// CPUTime is zero where the process's CPU time is not available.
func CPUTime() time.Duration { return 0 }
