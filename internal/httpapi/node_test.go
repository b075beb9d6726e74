package httpapi

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/store"
)

// TestParseTrackerQuery: the short form names the tracker's first 40 bits,
// the full form all of it (either case); anything else is not found.
func TestParseTrackerQuery(t *testing.T) {
	for i := range 50 {
		tr := ballot.TrackerOf([]byte{byte(i), 1, 2, 3})
		short, err := parseTrackerQuery(tr.Short())
		if err != nil || !bytes.Equal(short, tr[:5]) {
			t.Fatalf("short %s: %x, %v; want %x", tr.Short(), short, err, tr[:5])
		}
		if lower, err := parseTrackerQuery(strings.ToLower(tr.Short())); err != nil || !bytes.Equal(lower, tr[:5]) {
			t.Fatalf("lower-case short %s: %x, %v", tr.Short(), lower, err)
		}
		for _, h := range []string{tr.Hex(), strings.ToUpper(tr.Hex())} {
			full, err := parseTrackerQuery(h)
			if err != nil || !bytes.Equal(full, tr[:]) {
				t.Fatalf("full %s: %x, %v", h, full, err)
			}
		}
	}
	for _, q := range []string{"", "K7QF-2MZ", "K7QF-2MZXA", "K7QF-2MZU", "K7QF-2MZ!", strings.Repeat("g", 64), strings.Repeat("0", 63)} {
		if p, err := parseTrackerQuery(q); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%q: %x, %v; want not found", q, p, err)
		}
	}
}
