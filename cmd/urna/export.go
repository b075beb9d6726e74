package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urna-vote/urna/internal/apiclient"
)

func init() {
	register(&command{
		name:    "export",
		summary: "write the complete election record of a board to a file",
		usage:   "--node URL -o FILE",
		help: `Downloads the whole board (entries, blocks, checkpoints) as one election
record file, the input of 'urna verify'. The file appears only once it is
complete. Use -o - to write to standard output.`,
		flagSet: func() *flag.FlagSet { fs, _ := exportFlags(nil); return fs },
		run:     runExport,
	})
}

type exportOpts struct {
	node, out string
	force     bool
}

func exportFlags(c *command) (*flag.FlagSet, *exportOpts) {
	o := &exportOpts{}
	fs := flag.NewFlagSet("urna export", flag.ContinueOnError)
	if c != nil {
		fs = c.flags()
	}
	fs.StringVar(&o.node, "node", "", "API base `URL` of a board node, e.g. http://127.0.0.1:8080")
	fs.StringVar(&o.out, "o", "", "output `file` (- for standard output)")
	fs.BoolVar(&o.force, "force", false, "replace the output file if it exists")
	return fs, o
}

func runExport(ctx context.Context, e *env, args []string) error {
	c := commands["export"]
	fs, o := exportFlags(c)
	if err := c.parseFlags(e, fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return c.usageError("unexpected argument %q", fs.Arg(0))
	case o.node == "":
		return c.usageError("--node is required")
	case o.out == "":
		return c.usageError("-o is required")
	}
	cl, err := newClient(o.node)
	if err != nil {
		return err
	}
	if o.out == "-" {
		_, err := cl.WriteRecord(ctx, e.stdout)
		return nodeError(o.node, err)
	}
	if !o.force {
		if _, err := os.Lstat(o.out); err == nil {
			return withHint(fmt.Errorf("urna export: %s already exists", o.out), "choose another file or add --force")
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.out), "."+filepath.Base(o.out)+".partial-*")
	if err != nil {
		return fmt.Errorf("urna export: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	start := time.Now()
	n, err := cl.WriteRecord(ctx, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nodeError(o.node, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("urna export: %w", err)
	}
	if err := os.Rename(tmp.Name(), o.out); err != nil {
		return fmt.Errorf("urna export: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote the election record (%d bytes) to %s in %v\n", n, o.out, time.Since(start).Round(time.Millisecond))
	return nil
}

// newClient returns an API client for a --node flag value.
func newClient(node string) (*apiclient.Client, error) {
	cl, err := apiclient.New(node, apiclient.Options{MaxRetries: 3})
	if err != nil {
		return nil, withHint(err, "give the node's API base URL, e.g. --node http://127.0.0.1:8080")
	}
	return cl, nil
}

// nodeError adds a hint to errors that mean the node could not be reached.
func nodeError(node string, err error) error {
	if err == nil {
		return nil
	}
	var ae *apiclient.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return err
	}
	if strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host") {
		return withHint(err, fmt.Sprintf("is a node running at %s? start one with 'urna node' or check --node", node))
	}
	return err
}
