package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/textreport"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "verify an election record (file or live node): every step of SPEC.md",
		usage:   "[--json] FILE|URL",
		help: `Runs the verification steps V1–V13 of SPEC.md §10 on an election record
file (written by 'urna export') or on a live node's record (http://…), and
prints a report naming each step and its outcome. It trusts nothing it
reads: it recomputes the block chain, the Merkle log, the checkpoint
signatures, every ballot proof, which ballots count, the aggregate, the
partial decryptions and the result.

Exit status: 0 only when every step passes; 1 otherwise.`,
		args:  true,
		flags: verifyFlags,
	})
}

func verifyFlags(fs *flag.FlagSet) action {
	asJSON := fs.Bool("json", false, "print the report as JSON on standard output")
	progress := fs.String("progress", "auto", "progress bar on standard error: auto (when it is a terminal), always or never")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give exactly one record: a file or a node URL")
		}
		return runVerify(ctx, e, args[0], *asJSON, *progress)
	}
}

// verifier is the verifier (a seam for tests).
var verifier = client.VerifyElectionRecord

func runVerify(ctx context.Context, e *env, src string, asJSON bool, progress string) error {
	var showProgress bool
	switch progress {
	case "auto":
		showProgress = isTerminal(e.stderr)
	case "always":
		showProgress = true
	case "never":
	default:
		return usagef("--progress %q: want auto, always or never", progress)
	}

	var (
		r     io.Reader
		total int
	)
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		cl, err := newClient("verify", src)
		if err != nil {
			return err
		}
		if st, err := cl.Election(ctx); err == nil {
			total = int(st.Counts.Entries) // for the progress bar only
		}
		rc, err := cl.Record(ctx)
		if err != nil {
			return nodeError(src, fmt.Errorf("urna verify: %w", err))
		}
		defer rc.Close()
		r = rc
	} else {
		f, err := os.Open(src)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return withHint(fmt.Errorf("urna verify: %w", err),
					"give a record file written by 'urna export', or a node URL such as http://127.0.0.1:8080")
			}
			return fmt.Errorf("urna verify: %w", err)
		}
		defer f.Close()
		r = f
	}

	opts := client.VerifyOptions{TotalEntries: total}
	var bar *progressBar
	if showProgress {
		bar = &progressBar{w: e.stderr}
		opts.Progress = bar.update
	}
	start := time.Now()
	rep, err := verifier(&ctxReader{ctx: ctx, r: r}, opts)
	bar.clear()
	if rep == nil || (err != nil && !errors.Is(err, client.ErrFailed)) {
		if err == nil {
			err = errors.New("no report")
		}
		return fmt.Errorf("urna verify: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("urna verify: %w", err)
		}
	} else {
		textreport.Write(e.stdout, rep, time.Since(start))
	}
	if !rep.OK() {
		step, f, _ := rep.FirstFailure()
		err := fmt.Errorf("urna verify: the record does not verify: %s failed: %s", step, f)
		if step == client.StepV1 && strings.Contains(f.Detail, "record truncated") {
			return withHint(err, "the record ends in the middle of a block: if it is a copy, make it again (urna export --node URL -o FILE)")
		}
		return err
	}
	if !rep.Complete {
		// SPEC.md §10.2: a step not reached is not a pass.
		return withHint(errors.New("urna verify: the election is not finished: every step so far passed, but not every step could run"),
			"run it again after the result is posted to verify the whole election")
	}
	return nil
}

// ctxReader stops a verification when the command is interrupted.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// progressBar draws one self-overwriting line on a terminal.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	last  time.Time
	drawn bool
}

func (b *progressBar) update(step string, done, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	const width = 30
	if total > 0 {
		done = min(done, total)
		n := done * width / total
		fmt.Fprintf(b.w, "\r  %-4s [%s%s] %3d%%  %d/%d entries ", step,
			strings.Repeat("#", n), strings.Repeat(".", width-n), done*100/total, done, total)
	} else {
		fmt.Fprintf(b.w, "\r  %-4s %d entries checked ", step, done)
	}
	b.drawn = true
}

func (b *progressBar) clear() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", 72))
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
