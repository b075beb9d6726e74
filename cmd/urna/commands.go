package main

import (
	"context"
	"flag"
	"fmt"
)

// command is one `urna` subcommand.
//
// Registration: each command file registers its commands from an init
// function:
//
//	func init() {
//		register(&command{
//			name:    "vote",
//			summary: "encrypt, optionally challenge, and cast a ballot",
//			usage:   "--node URL --credential FILE [flags]",
//			flagSet: func() *flag.FlagSet { ... },  // optional: for `urna help vote`
//			run:     runVote,
//		})
//	}
//
// A run function builds its FlagSet with c.flags() (or its own flagSet
// func), parses with c.parseFlags(e, fs, args) (which handles --help), and
// returns an error; it writes only to e.stdout and e.stderr. Use
// c.usageError for command-line mistakes and withHint for errors with an
// obvious fix.
type command struct {
	name    string
	summary string // one line, shown by `urna help`
	usage   string // the synopsis after "urna NAME"
	help    string // optional paragraphs shown by --help
	// flagSet, if set, returns the command's flags (unparsed) so that
	// `urna help NAME` can list them without running the command.
	flagSet func() *flag.FlagSet
	run     func(ctx context.Context, e *env, args []string) error
	// stub marks a placeholder: a real registration of the same name
	// replaces it, whatever the init order.
	stub bool
}

// commands is the registration table, filled by register from init
// functions.
var commands = map[string]*command{}

// register adds c to the table. Registering a name twice is a programming
// error (panic), except that a real command replaces a stub.
func register(c *command) {
	if c.name == "" || c.run == nil || c.summary == "" {
		panic("urna: register: command needs a name, a summary and a run function")
	}
	old, dup := commands[c.name]
	switch {
	case !dup:
		commands[c.name] = c
	case old.stub && !c.stub:
		commands[c.name] = c
	case !old.stub && c.stub:
		// keep the real command
	default:
		panic(fmt.Sprintf("urna: register: command %q registered twice", c.name))
	}
}

// Role commands not built yet. Each is replaced by the registration in
// cmd/urna/roles_*.go once it exists; until then it fails clearly.
func init() {
	for _, s := range []struct{ name, summary, usage string }{
		{"authority", "election authority: create an election, open, close", "<init|create|open|close> [flags]"},
		{"credentials", "credential authority: issue voter credentials", "<init|issue> [flags]"},
		{"trustee", "trustee: keys, key ceremony, partial decryption", "<init|deal|check|answer|decrypt> [flags]"},
		{"vote", "voter: encrypt, optionally challenge, cast a ballot", "--node URL --credential FILE [flags]"},
		{"tally", "combine the partial decryptions and post the result", "--node URL [flags]"},
		{"demo", "run a whole election on a local 3-node cluster", "[--ballots N] [--serve] [--data DIR]"},
	} {
		name := s.name
		register(&command{name: name, summary: s.summary, usage: s.usage, stub: true,
			run: func(context.Context, *env, []string) error {
				return withHint(fmt.Errorf("urna %s: not implemented in this build", name),
					"this command is still being written; see 'urna help' for what is available")
			}})
	}
}
