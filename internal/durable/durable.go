// Package durable holds the one way Urna makes a directory's entries
// durable: a name created, renamed or removed in a directory survives a
// power loss only once the directory itself is synced.
package durable

import (
	"fmt"
	"os"
)

// SyncDir fsyncs directory dir, making the names in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
