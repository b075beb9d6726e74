package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
)

// command is one `urna` subcommand, or one action of a role command
// (`urna trustee deal`).
//
// Each command file registers its commands from an init function:
//
//	func init() {
//		register(&command{
//			name:    "export",
//			summary: "write the complete election record of a board to a file",
//			usage:   "--node URL -o FILE",
//			flags: func(fs *flag.FlagSet) action {
//				node := fs.String("node", "", "…")
//				return func(ctx context.Context, e *env, args []string) error { … }
//			},
//		})
//	}
//
// The action writes only to e.stdout and e.stderr, returns usagef(…) for a
// mistake in the command line and withHint(…) for an error with an obvious
// fix.
type command struct {
	name    string
	summary string // one line, shown by `urna help`
	usage   string // the synopsis after "urna NAME"
	help    string // optional paragraphs shown by --help
	// flags declares the command's flags on fs and returns the action that
	// runs once they are parsed. `urna help NAME` calls it too, to list the
	// flags, and ignores the action.
	flags func(fs *flag.FlagSet) action
	// args: the command takes positional arguments (its action checks
	// them); without it any positional argument is a usage error.
	args bool
	// actions, for a role command (`urna trustee`), are what its first
	// argument names. A command may have both (`urna node` runs a node, and
	// `urna node backup` is one of its actions): a first argument that names
	// an action runs it, anything else goes to the command's own flags.
	actions []*command
}

// action runs a command with its parsed flags and positional arguments.
type action func(ctx context.Context, e *env, args []string) error

// commands is the registration table, filled by register from init
// functions.
var commands = map[string]*command{}

// register adds c to the table. Registering a name twice, or a command
// that cannot run, is a programming error (panic).
func register(c *command) {
	if c.name == "" || c.summary == "" || (c.flags == nil && c.actions == nil) {
		panic("urna: register: command needs a name, a summary, and flags or actions")
	}
	if _, dup := commands[c.name]; dup {
		panic(fmt.Sprintf("urna: register: command %q registered twice", c.name))
	}
	commands[c.name] = c
}

// run parses args and runs the command (or the action args[0] names).
func (c *command) run(ctx context.Context, e *env, args []string) error {
	if c.flags == nil || (len(args) > 0 && c.action(args[0]) != nil) {
		return c.runAction(ctx, e, args)
	}
	fs := c.flagSet()
	act := c.flags(fs)
	pos, err := c.parse(e, fs, args)
	if err != nil {
		return err
	}
	if !c.args && len(pos) > 0 {
		return c.usageError("unexpected argument %q", pos[0])
	}
	err = act(ctx, e, pos)
	if u := (*usageErr)(nil); errors.As(err, &u) {
		return c.usageError("%s", u.msg)
	}
	return err
}

func (c *command) runAction(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		c.printHelp(e.stdout)
		if len(args) == 0 {
			return c.usageError("no action given")
		}
		return errHelpShown
	}
	if a := c.action(args[0]); a != nil {
		return a.run(ctx, e, args[1:])
	}
	return c.usageError("unknown action %q", args[0])
}

// action returns c's action called name, or nil.
func (c *command) action(name string) *command {
	for _, a := range c.actions {
		if a.name == c.name+" "+name {
			return a
		}
	}
	return nil
}

// flagSet returns an empty FlagSet for c that reports errors instead of
// exiting and prints nothing by itself.
func (c *command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("urna "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// errHelpShown is returned after printing a command's help for -h/--help;
// the dispatcher turns it into success.
var errHelpShown = errors.New("help shown")

// parse parses args into fs and returns the positional arguments. Flags
// may follow positional arguments (`urna check-receipt FILE --node URL`);
// after "--" everything is positional. On -h/--help it prints c's help to
// stdout and returns errHelpShown; a bad flag is a usage error.
func (c *command) parse(e *env, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			c.printHelp(e.stdout)
			return nil, errHelpShown
		}
		if err != nil {
			return nil, c.usageError("%s", docFlags(err.Error()))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// flagInMessage is a flag name as package flag's errors write it, "-name".
var flagInMessage = regexp.MustCompile(`(^|[ :])-([A-Za-z0-9][-A-Za-z0-9_.]+)`)

// docFlags writes the flags that package flag's error message names as
// the docs and --help write them: "--name" (one-letter flags keep "-o").
func docFlags(msg string) string {
	return flagInMessage.ReplaceAllString(msg, "$1--$2")
}

// usageErr is a mistake in a command line, returned by an action; run
// names the command and points at its --help.
type usageErr struct{ msg string }

func (u *usageErr) Error() string { return u.msg }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageErr{msg: fmt.Sprintf(format, args...)}
}

// usageError is a mistake in a command line: it says so and points at --help.
func (c *command) usageError(format string, args ...any) error {
	return withHint(fmt.Errorf("urna %s: %s", c.name, fmt.Sprintf(format, args...)),
		fmt.Sprintf("run 'urna %s --help' for usage", c.name))
}

// printHelp prints c's usage, help and flags (or actions).
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: urna %s %s\n\n%s\n", c.name, c.usage, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	if c.actions != nil {
		fmt.Fprintln(w, "\nActions:")
		for _, a := range c.actions {
			fmt.Fprintf(w, "  %-8s %s\n", strings.TrimPrefix(a.name, c.name+" "), a.summary)
		}
		fmt.Fprintf(w, "\nRun 'urna %s ACTION --help' for an action's flags.\n", c.name)
		if c.flags == nil {
			return
		}
	}
	fs := c.flagSet()
	c.flags(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		printFlags(w, fs)
	}
}

// printFlags lists fs's flags as the docs write them: "--name" (and "-o"
// for a one-letter flag), then the usage and any non-zero default.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		fmt.Fprintf(w, "  %s%s%s\n    \t%s", dash, f.Name, arg, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if !isZeroDefault(f) {
			if _, ok := f.Value.(flag.Getter).Get().(string); ok {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			} else {
				fmt.Fprintf(w, " (default %v)", f.DefValue)
			}
		}
		fmt.Fprintln(w)
	})
}

// isZeroDefault reports whether f's default is its type's zero value (as
// flag.PrintDefaults decides whether to show it).
func isZeroDefault(f *flag.Flag) bool {
	t := reflect.TypeOf(f.Value)
	var z reflect.Value
	if t.Kind() == reflect.Pointer {
		z = reflect.New(t.Elem())
	} else {
		z = reflect.Zero(t)
	}
	v, ok := z.Interface().(flag.Value)
	return ok && f.DefValue == v.String()
}

// roleCommand registers a command whose first argument names an action.
func roleCommand(name, summary, help string, actions []*command) {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.name
		a.name = name + " " + a.name
		if a.usage == "" {
			a.usage = "[flags]"
		}
	}
	register(&command{name: name, summary: summary, help: help, actions: actions,
		usage: "<" + strings.Join(names, "|") + "> [flags]"})
}
