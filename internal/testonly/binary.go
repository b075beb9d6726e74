package testonly

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunWithUrna is a TestMain for tests of the urna binary: it builds the
// command in the package directory pkg (relative to the test's directory,
// e.g. "../cmd/urna") into a temporary directory, sets *bin to the binary,
// runs m's tests and exits with their status once the directory is
// removed. If the build fails it exits with status 1 before any test runs,
// saying so after the prefix what.
func RunWithUrna(m *testing.M, what, pkg string, bin *string) {
	dir, err := os.MkdirTemp("", what+"-urna-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, what+":", err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, "urna")
	build := exec.Command("go", "build", "-o", *bin, pkg)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, what+": building urna:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
