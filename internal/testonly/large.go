package testonly

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urna-vote/urna/internal/group"
)

// LargeCredentials returns n distinct public credentials, k·G for
// k = 1..n, cheap to make: the contents of the large credential lists
// that the tests and benchmarks of large entries post.
func LargeCredentials(n int) []*group.Element {
	creds := make([]*group.Element, n)
	p, g := group.Generator(), group.Generator()
	for i := range creds {
		creds[i] = p
		p = group.NewElement().Add(p, g)
	}
	return creds
}

// ProcStatus returns a memory field of /proc/self/status ("VmRSS" the
// resident set, "VmHWM" its peak) in bytes. ok is false where the file or
// the field does not exist (not Linux); err says a value it cannot read.
func ProcStatus(field string) (bytes uint64, ok bool, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), field+":"); found {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, true, fmt.Errorf("/proc/self/status %s: %w", field, err)
			}
			return kb << 10, true, nil
		}
	}
	return 0, false, sc.Err()
}
