package apiclient_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/testonly"
)

// recordOf frames blocks and notes as a record.
func recordOf(t *testing.T, blocks []*bulletin.RecordBlock, notes ...[]byte) []byte {
	return testonly.WriteRecord(t, blocks, notes)
}

// TestAttackRecordSuffix: a hostile node answers GET /record?from=&size=
// (a party's incremental read after its saved state) with a suffix that
// does not continue what the party holds. RecordSince passes an honest
// suffix through with the party's own checkpoint note, and otherwise
// fails the stream (ErrSuffix, ErrIncomplete) before any END frame, so
// the verifier reading it never sees a whole record: blocks from another
// height, a block left out, a block past the asked size, a stream cut
// short (anywhere, even at a clean HTTP end), an END that does not count
// what was sent, bytes after END. A rewritten entry passes the framing
// and is the verifier's to refuse (V3 against the party's note:
// internal/roles TestAttackRecordSuffixRewritten).
func TestAttackRecordSuffix(t *testing.T) {
	rec := testonly.Build(t, "apiclient-record-suffix", testonly.SmallConfig()).Record()
	blocks, notes := testonly.ReadRecord(t, bytes.NewReader(rec))
	if len(blocks) < 6 {
		t.Fatalf("the fixture has %d blocks, want at least 6", len(blocks))
	}
	const from = 2
	last := blocks[len(blocks)-1].Header
	size := last.LogSize
	note := notes[len(notes)-1]
	nodeNote := notes[0] // the node's own checkpoint frame differs from the party's note

	var asked []string
	serve := func(body []byte) *apiclient.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
			w.Write(body)
		}))
		t.Cleanup(srv.Close)
		c, err := apiclient.New(srv.URL, apiclient.Options{MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	since := func(c *apiclient.Client, size uint64) ([]byte, error) {
		rc, err := c.RecordSince(context.Background(), from, size, note)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}

	honest := recordOf(t, blocks[from:], nodeNote)
	got, err := since(serve(honest), size)
	if err != nil {
		t.Fatalf("an honest suffix: %v", err)
	}
	if want := recordOf(t, blocks[from:], note); !bytes.Equal(got, want) {
		t.Fatalf("an honest suffix came out as %d bytes, want the blocks from height %d with the party's note (%d bytes)", len(got), from, len(want))
	}
	if want := api.Prefix + "/record?from=2&size=" + strconv.FormatUint(size, 10); asked[0] != want {
		t.Errorf("asked %s, want %s", asked[0], want)
	}

	badEnd := slices.Clone(honest)
	binary.BigEndian.PutUint64(badEnd[len(badEnd)-20:], 1)
	for _, tc := range []struct {
		name string
		body []byte
		size uint64
		want error
	}{
		{"from an earlier height (an entry the party holds, again)", recordOf(t, blocks[from-1:], nodeNote), size, apiclient.ErrSuffix},
		{"from a later height (a block left out)", recordOf(t, blocks[from+1:], nodeNote), size, apiclient.ErrSuffix},
		{"a block left out in the middle", recordOf(t, slices.Delete(slices.Clone(blocks[from:]), 2, 3), nodeNote), size, apiclient.ErrSuffix},
		{"blocks past the asked size", honest, blocks[from+1].Header.LogSize, apiclient.ErrSuffix},
		{"ending before the asked size", recordOf(t, blocks[from:len(blocks)-1], nodeNote), size, apiclient.ErrSuffix},
		{"an END that does not count what was sent", badEnd, size, apiclient.ErrSuffix},
		{"bytes after END", append(slices.Clone(honest), 0), size, apiclient.ErrSuffix},
		{"the whole record (a node that ignores from)", rec, size, apiclient.ErrSuffix},
		{"not a record", []byte("<html>maintenance</html>"), size, apiclient.ErrSuffix},
		{"cut after the header", honest[:20], size, apiclient.ErrIncomplete},
		{"cut in the middle", honest[:len(honest)/2], size, apiclient.ErrIncomplete},
		{"cut before the checkpoints", honest[:len(honest)-25-5-len(nodeNote)], size, apiclient.ErrIncomplete},
		{"cut before END", honest[:len(honest)-25], size, apiclient.ErrIncomplete},
		{"nothing", nil, size, apiclient.ErrIncomplete},
	} {
		got, err := since(serve(tc.body), tc.size)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: RecordSince read %d bytes, then %v; want %v", tc.name, len(got), err, tc.want)
			continue
		}
		// What was passed on before the failure is no record: a reader
		// of it finds no END.
		if rr, err := bulletin.NewRecordReader(bytes.NewReader(got)); err == nil {
			for err == nil {
				_, err = rr.Next()
			}
			if err == io.EOF {
				t.Errorf("%s: the bytes passed on before the failure read as a whole record", tc.name)
			}
		}
	}
}
