package testonly

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ChildTest starts this test binary again running only the test named
// test, with env ("KEY=VALUE") added to its environment: how that test
// knows it is the child. It returns the child, a line scanner of its
// standard output and the builder its standard error goes to (read it
// after cmd.Wait). The caller ends the child (crash tests kill it).
func ChildTest(t testing.TB, test, env string) (*exec.Cmd, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^"+test+"$", "-test.count", "1")
	cmd.Env = append(os.Environ(), env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(strings.Builder)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out), stderr
}
