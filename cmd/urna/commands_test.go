package main

import (
	"context"
	"strings"
	"testing"
)

func TestRegisterStubReplacement(t *testing.T) {
	saved := commands
	defer func() { commands = saved }()
	commands = map[string]*command{}
	noop := func(context.Context, *env, []string) error { return nil }

	stub := &command{name: "x", summary: "stub", stub: true, run: noop}
	real := &command{name: "x", summary: "real", run: noop}
	register(stub)
	register(real)
	if commands["x"] != real {
		t.Fatal("a real command did not replace the stub")
	}
	register(&command{name: "x", summary: "stub", stub: true, run: noop})
	if commands["x"] != real {
		t.Fatal("a stub registered after the real command replaced it")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("registering a real command twice did not panic")
			}
		}()
		register(&command{name: "x", summary: "again", run: noop})
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("a command without a run function was accepted")
			}
		}()
		register(&command{name: "y", summary: "y"})
	}()
}

func TestStubFails(t *testing.T) {
	for _, c := range commands {
		if !c.stub {
			continue
		}
		err := c.run(context.Background(), &env{}, nil)
		if err == nil || !strings.Contains(err.Error(), "not implemented") {
			t.Errorf("stub %s: %v", c.name, err)
		}
	}
}

// Every registered command answers --help with its usage and exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, name := range commandNames() {
		if commands[name].stub {
			continue
		}
		var out, errOut strings.Builder
		if err := run(context.Background(), []string{name, "--help"}, &out, &errOut); err != nil {
			t.Errorf("urna %s --help: %v", name, err)
			continue
		}
		if !strings.HasPrefix(out.String(), "Usage: urna "+name) {
			t.Errorf("urna %s --help: %q", name, out.String())
		}
	}
}
