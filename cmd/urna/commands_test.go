package main

import (
	"context"
	"flag"
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	saved := commands
	defer func() { commands = saved }()
	commands = map[string]*command{}
	noop := func(*flag.FlagSet) action { return nil }

	register(&command{name: "x", summary: "x", flags: noop})
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("registering a command twice did not panic")
			}
		}()
		register(&command{name: "x", summary: "again", flags: noop})
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("a command without flags or actions was accepted")
			}
		}()
		register(&command{name: "y", summary: "y"})
	}()
}

// Every registered command, and every action of a role command, answers
// --help with its usage and exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, name := range commandNames() {
		args := [][]string{{name, "--help"}}
		for _, a := range commands[name].actions {
			args = append(args, append(strings.Fields(a.name), "--help"))
		}
		for _, a := range args {
			var out, errOut strings.Builder
			if err := run(context.Background(), a, &out, &errOut); err != nil {
				t.Errorf("urna %s: %v", strings.Join(a, " "), err)
				continue
			}
			if want := "Usage: urna " + strings.Join(a[:len(a)-1], " "); !strings.HasPrefix(out.String(), want) {
				t.Errorf("urna %s: %q", strings.Join(a, " "), out.String())
			}
		}
	}
}

// Flags may follow positional arguments; after "--" everything is
// positional.
func TestParseInterspersed(t *testing.T) {
	c := &command{name: "t"}
	for _, tc := range []struct {
		args []string
		node string
		pos  string
	}{
		{[]string{"a", "--node", "u", "b"}, "u", "a b"},
		{[]string{"--node=u", "a"}, "u", "a"},
		{[]string{"a", "--", "--node", "u"}, "", "a --node u"},
	} {
		fs := c.flagSet()
		node := fs.String("node", "", "")
		pos, err := c.parse(&env{}, fs, tc.args)
		if err != nil || *node != tc.node || strings.Join(pos, " ") != tc.pos {
			t.Errorf("parse %q: node %q, args %q, %v; want %q, %q", tc.args, *node, pos, err, tc.node, tc.pos)
		}
	}
}

// A role command without an action, or with an unknown one, is a usage
// error; a positional argument to an action too.
func TestRoleCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trustee"}, "urna trustee: no action given"},
		{[]string{"trustee", "dance"}, `urna trustee: unknown action "dance"`},
		{[]string{"authority", "close", "now"}, `urna authority close: unexpected argument "now"`},
	} {
		var out, errOut strings.Builder
		err := run(context.Background(), tc.args, &out, &errOut)
		if err == nil || err.Error() != tc.want {
			t.Errorf("urna %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
