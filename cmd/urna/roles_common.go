package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strings"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/roles"
)

// defaultNode is the --node default of the role commands.
const defaultNode = "http://127.0.0.1:8080"

// subcommand is one action of a role command (`urna trustee deal`).
type subcommand struct {
	name    string
	summary string
	flags   func(fs *flag.FlagSet) func(ctx context.Context, e *env, fs *flag.FlagSet) error
}

// roleCommand registers a command whose first argument names an action.
func roleCommand(name, summary, help string, subs []subcommand) {
	var usage strings.Builder
	usage.WriteString("<")
	for i, s := range subs {
		if i > 0 {
			usage.WriteString("|")
		}
		usage.WriteString(s.name)
	}
	usage.WriteString("> [flags]")
	var long strings.Builder
	long.WriteString(strings.TrimSpace(help))
	long.WriteString("\n\nActions:\n")
	for _, s := range subs {
		fmt.Fprintf(&long, "  %-8s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(&long, "\nRun 'urna %s ACTION --help' for an action's flags.", name)
	var c *command
	c = &command{
		name: name, summary: summary, usage: usage.String(), help: long.String(),
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
				c.printHelp(e.stdout, nil)
				if len(args) == 0 {
					return c.usageError("no action given")
				}
				return nil
			}
			for _, s := range subs {
				if s.name != args[0] {
					continue
				}
				sc := &command{name: name + " " + s.name, summary: s.summary, usage: "[flags]"}
				fs := sc.flags()
				runSub := s.flags(fs)
				if err := parseInterspersed(sc, e, fs, args[1:]); err != nil {
					return err
				}
				return runSub(ctx, e, fs)
			}
			return c.usageError("unknown action %q", args[0])
		},
	}
	register(c)
}

// parseInterspersed parses flags that may follow positional arguments
// (`urna check-receipt FILE --node URL`); the positional arguments are
// left in fs.Args() order by re-parsing.
func parseInterspersed(c *command, e *env, fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := c.parseFlags(e, fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > 0 {
		// Leave the positional arguments for the caller.
		_ = fs.Parse(append([]string{"--"}, pos...))
	}
	return nil
}

// nodeFlag adds --node.
func nodeFlag(fs *flag.FlagSet) *string {
	return fs.String("node", defaultNode, "API base `URL` of a board node")
}

// dirFlag adds --dir, where the party keeps its key files.
func dirFlag(fs *flag.FlagSet, def, what string) *string {
	return fs.String("dir", def, "`directory` of "+what+" (created with owner-only permissions)")
}

// noArgs rejects positional arguments.
func noArgs(name string, fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return withHint(fmt.Errorf("urna %s: unexpected argument %q", name, fs.Arg(0)), fmt.Sprintf("run 'urna %s --help' for usage", name))
	}
	return nil
}

// roleClient opens an API client for --node.
func roleClient(node string) (*apiclient.Client, error) { return newClient(node) }

// roleError adds hints to the errors of internal/roles and the API.
func roleError(what, node string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("urna %s: %w", what, err)
	var ae *apiclient.Error
	switch {
	case errors.As(err, &ae) && ae.Code == "wrong_phase":
		return withHint(err, "the board is not in the phase this step needs; check it with 'curl "+node+"/api/v1/election'")
	case errors.As(err, &ae) && ae.Code == "not_authorized":
		return withHint(err, "the key in --dir is not the one the manifest names for this role")
	case errors.Is(err, roles.ErrNotReady):
		return withHint(err, "wait for the other parties, then run this again")
	case errors.Is(err, roles.ErrExists):
		return withHint(err, "nothing to do: this step was already done")
	case errors.Is(err, fs.ErrNotExist) && strings.Contains(err.Error(), ".key"):
		role, _, _ := strings.Cut(what, " ")
		if role == "tally" {
			role = "authority"
		}
		return withHint(err, fmt.Sprintf("create the keys first with 'urna %s init --dir DIR', or point --dir at them", role))
	case errors.Is(err, keyfile.ErrExists), errors.Is(err, keyfile.ErrPermissions):
		return err // keyfile's own hint
	case errors.Is(err, ballot.ErrInvalidCredential), errors.Is(err, ballot.ErrCredentialChecksum):
		return withHint(err, "check the credential for typing mistakes (letters I, L, O and U never occur)")
	}
	return nodeError(node, err)
}

// boardNodes is the repeatable --board-node ID=KEY flag.
type boardNodes []ballot.BoardNode

func (b *boardNodes) String() string { return fmt.Sprint(len(*b)) + " board nodes" }

func (b *boardNodes) Set(s string) error {
	id, key, ok := strings.Cut(s, "=")
	if !ok || id == "" {
		return errors.New("want ID=PUBLIC-KEY (the hex key 'urna node-key' printed)")
	}
	raw, err := hex.DecodeString(key)
	if err != nil {
		raw, err = base64.RawURLEncoding.Strict().DecodeString(key)
	}
	if err != nil || len(raw) != ballot.NodeKeySize {
		return fmt.Errorf("node %s: key is not a 32-byte Ed25519 public key in hex", id)
	}
	*b = append(*b, ballot.BoardNode{ID: id, Key: raw})
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// randReader is the randomness of every role command.
var randReader = rand.Reader
