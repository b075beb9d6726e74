package keyfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/keyfile"
)

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "trustee.key")
	secret := []byte("not a real key\n")
	if err := keyfile.Write(p, secret); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
	}
	got, err := keyfile.Read(p)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Read: %q %v", got, err)
	}

	// No overwrite, and the old secret survives the attempt.
	err = keyfile.Write(p, []byte("other"))
	var ee *keyfile.ExistsError
	if !errors.Is(err, keyfile.ErrExists) || !errors.As(err, &ee) || ee.Hint() == "" {
		t.Fatalf("overwrite: %v", err)
	}
	if got, _ := keyfile.Read(p); !bytes.Equal(got, secret) {
		t.Fatalf("secret changed to %q", got)
	}
}

func TestReadRefusesOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions only")
	}
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o602, 0o666} {
		p := filepath.Join(dir, "k")
		os.Remove(p)
		if err := os.WriteFile(p, []byte("k"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := keyfile.Read(p)
		var pe *keyfile.PermissionError
		if !errors.Is(err, keyfile.ErrPermissions) || !errors.As(err, &pe) {
			t.Fatalf("mode %04o: %v", mode, err)
		}
		if !strings.Contains(pe.Hint(), "chmod 600 "+p) || !strings.Contains(err.Error(), fmt.Sprintf("%04o", mode)) {
			t.Fatalf("mode %04o: hint %q, error %q", mode, pe.Hint(), err)
		}
	}
	// Owner-only read (0400) is fine.
	p := filepath.Join(dir, "ro")
	if err := os.WriteFile(p, []byte("k"), 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := keyfile.Read(p); err != nil {
		t.Fatalf("0400: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := keyfile.Read(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := keyfile.Read(dir); err == nil {
		t.Fatal("read a directory")
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, keyfile.MaxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keyfile.Read(big); err == nil {
		t.Fatal("read an oversized file")
	}
	if err := keyfile.Write(filepath.Join(dir, "nodir", "k"), []byte("x")); err == nil {
		t.Fatal("wrote into a missing directory")
	}
}

// ReadPublic reads a file others may read, within the same size bound.
func TestReadPublic(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "k.pub")
	if err := os.WriteFile(pub, []byte("public"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := keyfile.ReadPublic(pub); err != nil || string(b) != "public" {
		t.Fatalf("ReadPublic = %q, %v", b, err)
	}
	if _, err := keyfile.ReadPublic(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, keyfile.MaxSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keyfile.ReadPublic(big); err == nil {
		t.Fatal("read an oversized file")
	}
}
