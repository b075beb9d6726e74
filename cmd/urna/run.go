package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// env is what a command runs with: its output streams and environment.
// Commands MUST write only to these (never to os.Stdout/os.Stderr directly),
// so that tests can capture them.
type env struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time // the local clock (tests set it)
}

// run dispatches `urna <command> [flags] [args]`.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now}
	if len(args) == 0 {
		printUsage(stderr)
		return withHint(errors.New("no command given"), "run 'urna help' for the list of commands")
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			c, err := lookup(rest[0])
			if err != nil {
				return err
			}
			c.printHelp(stdout)
			return nil
		}
		printUsage(stdout)
		return nil
	case "-version", "--version":
		name = "version"
	}
	c, err := lookup(name)
	if err != nil {
		return err
	}
	err = c.run(ctx, e, rest)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func lookup(name string) (*command, error) {
	if c, ok := commands[name]; ok {
		return c, nil
	}
	hint := "run 'urna help' for the list of commands"
	if s := closest(name); s != "" {
		hint = fmt.Sprintf("did you mean 'urna %s'? (%s)", s, hint)
	}
	return nil, withHint(fmt.Errorf("unknown command %q", name), hint)
}

// closest returns a registered command name within edit distance 2 of
// name, or that name starts with, if any.
func closest(name string) string {
	best, bestD := "", 3
	for _, n := range commandNames() {
		d := editDistance(name, n)
		if len(name) >= 3 && strings.HasPrefix(n, name) {
			d = 1
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `urna: verifiable elections on a replicated public bulletin board.

Usage: urna <command> [flags] [arguments]

Commands:
`)
	width := 0
	for _, n := range commandNames() {
		width = max(width, len(n))
	}
	for _, n := range commandNames() {
		c := commands[n]
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'urna <command> --help' for a command's flags.
The protocol is specified in SPEC.md; the HTTP API in docs/API.md.
`)
}

// hinter is implemented by errors that know an obvious fix.
type hinter interface{ Hint() string }

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }

// withHint attaches a "hint:" line to err, shown by reportError.
func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

// reportError prints err as "urna: error: …" and, when some error in the
// chain knows an obvious fix, a "hint: …" line.
func reportError(w io.Writer, err error) {
	fmt.Fprintf(w, "urna: error: %v\n", err)
	var h hinter
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintf(w, "hint: %s\n", h.Hint())
	}
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
