// Package keyfile writes and reads the files in which the parties keep
// their keys: secret files (trustee keys, voter credentials, signing keys)
// with owner-only permissions, and the public files handed to others.
//
// Write creates a new file with mode 0600 and refuses to replace an existing
// one: a secret lost to an overwrite cannot be recovered. Read refuses a
// secret file that its group or other users may read or write, as ssh does for
// private keys, because such a key may already be compromised. Neither
// function logs or echoes the contents.
//
// On Windows, where Unix permission bits do not describe access, the
// permission check is skipped.
package keyfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/urna-vote/urna/internal/durable"
)

// Errors callers branch on.
var (
	// ErrExists: Write would replace an existing file.
	ErrExists = errors.New("keyfile: file already exists")
	// ErrPermissions: Read found a file that others may access.
	ErrPermissions = errors.New("keyfile: file is accessible by other users")
)

// MaxSize bounds what Read loads; key files are small.
const MaxSize = 1 << 20

// PermissionError is the error behind ErrPermissions.
type PermissionError struct {
	Path string
	Mode fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("keyfile: %s has permissions %04o: a secret file must be readable by its owner only", e.Path, e.Mode.Perm())
}

// Unwrap makes errors.Is(err, ErrPermissions) true.
func (e *PermissionError) Unwrap() error { return ErrPermissions }

// Hint says how to fix the file (shown by the urna command).
func (e *PermissionError) Hint() string {
	return fmt.Sprintf("if the file is yours and was not exposed, restrict it: chmod 600 %s", e.Path)
}

// ExistsError is the error behind ErrExists.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("keyfile: %s already exists; refusing to overwrite a secret", e.Path)
}

// Unwrap makes errors.Is(err, ErrExists) true.
func (e *ExistsError) Unwrap() error { return ErrExists }

// Hint says how to proceed.
func (e *ExistsError) Hint() string {
	return "choose another file name, or move the existing file away if you are sure it is no longer needed"
}

// Write creates path with mode 0600 (the directory must exist) and writes
// data to it durably. It fails with ErrExists if path exists. On any other
// failure the partial file is removed.
func Write(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ExistsError{Path: path}
		}
		return fmt.Errorf("keyfile: creating %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(path)
		}
	}()
	// The umask cannot widen 0600, but an inherited ACL or a filesystem
	// could; make the mode explicit.
	if runtime.GOOS != "windows" {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("keyfile: restricting %s: %w", path, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("keyfile: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("keyfile: syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keyfile: closing %s: %w", path, err)
	}
	_ = durable.SyncDir(filepath.Dir(path)) // best effort: make the new name durable
	return nil
}

// Read returns the contents of the secret file at path after checking that
// only its owner may access it (ErrPermissions otherwise).
func Read(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyfile: %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, &PermissionError{Path: path, Mode: fi.Mode()}
	}
	if fi.Size() > MaxSize {
		return nil, fmt.Errorf("keyfile: %s is %d bytes, larger than a key file can be (%d)", path, fi.Size(), MaxSize)
	}
	return readAll(f, path)
}

// ReadPublic returns the contents of a file that anyone may read, such
// as a party's public key file or a voter's receipt, bounded by MaxSize.
func ReadPublic(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	defer f.Close()
	return readAll(f, path)
}

// readAll reads f to its end, failing once it holds more than MaxSize bytes.
func readAll(f *os.File, path string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyfile: reading %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("keyfile: %s is larger than a key file can be (%d)", path, MaxSize)
	}
	return data, nil
}
