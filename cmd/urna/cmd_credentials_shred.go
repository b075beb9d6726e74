package main

import (
	"fmt"
	"os"
)

// shred overwrites the file at path with zeros, syncs it and removes it.
// On a journaling or copy-on-write filesystem, or an SSD, old blocks may
// survive an overwrite (docs/OPERATIONS.md says so); the overwrite still
// removes the secrets from the file's current blocks and from backups made
// after it.
func shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	zero := make([]byte, 64<<10)
	for left := fi.Size(); left > 0; {
		n := min(left, int64(len(zero)))
		if _, err := f.Write(zero[:n]); err != nil {
			f.Close()
			return fmt.Errorf("overwriting: %w", err)
		}
		left -= n
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Remove(path)
}
