package store_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/store/storetest"
)

func bytesOf(t *testing.T, s store.Store) io.Reader {
	t.Helper()
	return bytes.NewReader(storetest.SnapshotBytes(t, s))
}

func writeToReader(t *testing.T, snap store.Snapshot) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	return &buf
}
