package durable

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := SyncDir(dir); err != nil {
		t.Fatalf("syncing an existing directory: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	err := SyncDir(missing)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("syncing a missing directory: %v", err)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Fatalf("the error does not name the directory: %v", err)
	}
}
