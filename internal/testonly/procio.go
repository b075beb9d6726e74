package testonly

import (
	"bytes"
	"fmt"
	"os"
)

// ProcIO is the counter field of /proc/self/io (Linux), e.g. "wchar" (the
// bytes the process passed to write calls) or "write_bytes" (the bytes it
// sent to the storage layer, counted when a page is first dirtied), which
// benchmarks report per operation; -1 where there is no such file or
// field.
func ProcIO(field string) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	prefix := field + ": "
	for line := range bytes.Lines(data) {
		if v, ok := bytes.CutPrefix(line, []byte(prefix)); ok {
			var n int64
			if _, err := fmt.Sscan(string(v), &n); err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
