package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
		flags: exportFlags,
	})
}

func exportFlags(fs *flag.FlagSet) action {
	node := fs.String("node", "", "API base `URL` of a board node, e.g. http://127.0.0.1:8080")
	out := fs.String("o", "", "output `file` (- for standard output)")
	force := fs.Bool("force", false, "replace the output file if it exists")
	ca := caFlag(fs)
	election := electionFlag(fs)
	return func(ctx context.Context, e *env, _ []string) error {
		return runExport(ctx, e, *node, *out, *force, *ca, *election)
	}
}

func runExport(ctx context.Context, e *env, node, out string, force bool, ca, election string) error {
	switch {
	case node == "":
		return usagef("--node is required")
	case out == "":
		return usagef("-o is required")
	}
	cl, err := newClient("export", node, ca, election)
	if err != nil {
		return err
	}
	if out == "-" {
		n, err := cl.WriteRecord(ctx, e.stdout)
		if errors.Is(err, apiclient.ErrStalled) || errors.Is(err, apiclient.ErrIncomplete) || (err != nil && n > 0) {
			return withHint(fmt.Errorf("urna export: %w; the %d bytes written are no whole record", err, n), streamHint(err))
		}
		if err != nil {
			return nodeError(node, fmt.Errorf("urna export: %w", err))
		}
		return nil
	}
	if !force {
		if _, err := os.Lstat(out); err == nil {
			return withHint(fmt.Errorf("urna export: %s already exists", out), "choose another file or add --force")
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
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
	if errors.Is(err, apiclient.ErrStalled) || errors.Is(err, apiclient.ErrIncomplete) || (err != nil && n > 0) {
		return withHint(fmt.Errorf("urna export: %w; %s not written", err, out), streamHint(err))
	}
	if err != nil {
		return nodeError(node, fmt.Errorf("urna export: %w", err))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("urna export: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("urna export: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote the election record (%d bytes) to %s in %v\n", n, out, time.Since(start).Round(time.Millisecond))
	return nil
}
