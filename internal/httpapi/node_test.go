package httpapi

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/board"
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

// boundedEntries records the byte bound its Entries is asked with; the
// other methods of election are not called.
type boundedEntries struct {
	election
	maxBytes []int
}

func (e *boundedEntries) Entries(_ context.Context, _ uint64, _, maxBytes int) ([]board.Entry, error) {
	e.maxBytes = append(e.maxBytes, maxBytes)
	return nil, nil
}

// TestNodeEntriesPageBytes: the node asks the board for a page of
// GET /entries bounded by api.MaxPageBytes (docs/API.md), whatever the
// limit; the board's test (TestEntriesPageBytes) checks that it keeps to it.
func TestNodeEntriesPageBytes(t *testing.T) {
	e := &boundedEntries{}
	n := node{e: e}
	for _, limit := range []int{1, 100, 1000} {
		if _, err := n.Entries(t.Context(), 0, limit); err != nil {
			t.Fatal(err)
		}
	}
	for i, got := range e.maxBytes {
		if got != api.MaxPageBytes {
			t.Errorf("request %d: the board was asked for %d bytes at most, want api.MaxPageBytes (%d)", i, got, api.MaxPageBytes)
		}
	}
	if len(e.maxBytes) != 3 {
		t.Fatalf("the board was asked %d times, want 3", len(e.maxBytes))
	}
}
