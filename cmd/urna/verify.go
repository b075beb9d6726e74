package main

import (
	"context"
	"encoding/hex"
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
		flagSet: func() *flag.FlagSet { fs, _ := verifyFlags(nil); return fs },
		run:     runVerify,
	})
}

type verifyOpts struct {
	json     bool
	progress string
}

func verifyFlags(c *command) (*flag.FlagSet, *verifyOpts) {
	o := &verifyOpts{}
	fs := flag.NewFlagSet("urna verify", flag.ContinueOnError)
	if c != nil {
		fs = c.flags()
	}
	fs.BoolVar(&o.json, "json", false, "print the report as JSON on standard output")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar on standard error: auto (when it is a terminal), always or never")
	return fs, o
}

// verifyRecord is the verifier (a seam for tests).
var verifyRecord = client.VerifyElectionRecord

func runVerify(ctx context.Context, e *env, args []string) error {
	c := commands["verify"]
	fs, o := verifyFlags(c)
	if err := c.parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return c.usageError("give exactly one record: a file or a node URL")
	}
	src := fs.Arg(0)
	var showProgress bool
	switch o.progress {
	case "auto":
		showProgress = isTerminal(e.stderr)
	case "always":
		showProgress = true
	case "never":
	default:
		return c.usageError("--progress %q: want auto, always or never", o.progress)
	}

	var (
		r     io.Reader
		total int
	)
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		cl, err := newClient(src)
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
	rep, err := verifyRecord(&ctxReader{ctx: ctx, r: r}, opts)
	bar.clear()
	if rep == nil || (err != nil && !errors.Is(err, client.ErrFailed)) {
		if err == nil {
			err = errors.New("no report")
		}
		return fmt.Errorf("urna verify: %w", err)
	}
	if o.json {
		out := jsonReport{OK: rep.OK(), Report: rep, Fingerprint: hex.EncodeToString(rep.Fingerprint[:])}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("urna verify: %w", err)
		}
	} else {
		printReport(e.stdout, rep, time.Since(start))
	}
	if !rep.OK() {
		step, f, _ := rep.FirstFailure()
		return fmt.Errorf("urna verify: the record does not verify: %s failed: %s", step, f)
	}
	if !rep.Complete {
		// SPEC.md §10.2: a step not reached is not a pass.
		return withHint(errors.New("urna verify: the election is not finished: every step so far passed, but not every step could run"),
			"run it again after the result is posted to verify the whole election")
	}
	return nil
}

// jsonReport is the --json output: the verifier's report, with an overall
// verdict and the fingerprint in hex.
type jsonReport struct {
	OK bool `json:"ok"`
	*client.Report
	Fingerprint string `json:"fingerprint"`
}

func printReport(w io.Writer, rep *client.Report, took time.Duration) {
	title := rep.Title
	if title == "" {
		title = "(no manifest)"
	}
	fmt.Fprintf(w, "Election     %s", title)
	if rep.ElectionID != "" {
		fmt.Fprintf(w, " [%s]", rep.ElectionID)
	}
	fmt.Fprintf(w, "\nFingerprint  %s\n", hex.EncodeToString(rep.Fingerprint[:]))
	fmt.Fprintf(w, "Record       %d entries in %d blocks, %d checkpoints; %d ballots (%d counted, %d audited) from %d voters\n\n",
		rep.Entries, rep.Blocks, rep.Checkpoints, rep.Ballots, rep.Counted, rep.Audited, rep.Voters)
	for _, s := range rep.Steps {
		outcome := "ok"
		switch {
		case !s.OK:
			outcome = "FAIL"
		case !s.Ran:
			outcome = "--"
		}
		detail := fmt.Sprintf("%d checked", s.Checked)
		if !s.Ran {
			detail = "not reached"
			if s.Skipped != "" {
				detail = s.Skipped
			}
		}
		fmt.Fprintf(w, "  %-4s %-4s  %-58s %s\n", s.ID, outcome, s.Title, detail)
		for _, f := range s.Failures {
			fmt.Fprintf(w, "              - %s\n", f)
		}
		if s.Dropped > 0 {
			fmt.Fprintf(w, "              … and %d more failures\n", s.Dropped)
		}
	}
	fmt.Fprintln(w)
	if rep.Counts != nil {
		fmt.Fprintf(w, "Result (combined from trustees %v):\n", rep.Trustees)
		for q, counts := range rep.Counts {
			parts := make([]string, len(counts))
			for i, n := range counts {
				parts[i] = fmt.Sprintf("option %d: %d", i+1, n)
			}
			fmt.Fprintf(w, "  question %d: %s\n", q+1, strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
	var failed []string
	for _, s := range rep.Steps {
		if !s.OK {
			failed = append(failed, s.ID)
		}
	}
	switch {
	case len(failed) > 0:
		fmt.Fprintf(w, "Verdict: FAILED (%s) in %v\n", strings.Join(failed, ", "), took.Round(time.Millisecond))
	case !rep.Complete:
		fmt.Fprintf(w, "Verdict: INCOMPLETE: every step so far passed, on an election still in progress (%v)\n", took.Round(time.Millisecond))
	default:
		fmt.Fprintf(w, "Verdict: VERIFIED: every step passed (%v)\n", took.Round(time.Millisecond))
	}
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
