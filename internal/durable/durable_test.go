package durable

import (
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
	if err == nil || !os.IsNotExist(err) && !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("syncing a missing directory: %v", err)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Fatalf("the error does not name the directory: %v", err)
	}
}
