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
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/textreport"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "verify an election record (file or live node): every step of SPEC.md",
		usage:   "[--json] [--fingerprint HEX] [--checkpoint FILE]... [--receipt FILE]... FILE|URL\n       urna verify --evidence FILE",
		help: `Runs the verification steps V1–V16 of SPEC.md §10 on an election record
file (written by 'urna export') or on a live node's record (http://…), and
prints a report naming each step and its outcome. It trusts nothing it
reads: it recomputes the block chain, the Merkle log, the checkpoint
signatures, every ballot proof, which ballots count, the aggregate, the
partial decryptions and the result, and for ranked, score and write-in
questions every shuffle and mix decryption (V14–V16, SPEC.md §11; steps
that do not apply to an election are listed as not reached, with why). The report gives N, the number of
registered credentials (V6.3), to compare with the number of eligible
voters, and the result digest (V13.5), to compare with other verifiers'.

--fingerprint pins the election fingerprint the election authority
published (V4.6). --checkpoint FILE (a signed checkpoint note, or a party's
board-memory.json) and --receipt FILE (a voter's saved receipt) are
checkpoints seen before: the record MUST extend each of them (V3.7, V3.8),
and for a receipt the report says whether its ballot counts. If the record
contradicts one of them, the evidence is written beside that file.

--evidence FILE checks an evidence file (SPEC.md §10.8) offline instead:
both checkpoints signed by a quorum of the board nodes and witnesses, and
whether they prove that the board showed two histories.

Exit status: 0 only when every step passes (with --evidence: only when the
evidence is well-formed and proves a fork); 1 otherwise.`,
		args:  true,
		flags: verifyFlags,
	})
}

type verifyOpts struct {
	asJSON                                    *bool
	progress, fingerprint, evidence, ca, lang *string
	election                                  *string
	checkpoints, receipts                     stringList
}

func verifyFlags(fs *flag.FlagSet) action {
	o := &verifyOpts{
		asJSON:      fs.Bool("json", false, "print the report as JSON on standard output"),
		progress:    fs.String("progress", "auto", "progress bar on standard error: auto (when it is a terminal), always or never"),
		fingerprint: fingerprintFlag(fs),
		evidence:    fs.String("evidence", "", "check the evidence `file` of a fork (SPEC.md §10.8) instead of a record"),
		ca:          caFlag(fs),
		lang:        langFlag(fs),
		election:    electionFlag(fs),
	}
	fs.Var(&o.checkpoints, "checkpoint", "a signed checkpoint `file` seen before (or a board-memory.json): the record MUST extend it (repeatable)")
	fs.Var(&o.receipts, "receipt", "a voter's receipt `file`: the record MUST include and extend it (repeatable)")
	return func(ctx context.Context, e *env, args []string) error {
		if *o.evidence != "" {
			if len(args) != 0 {
				return usagef("--evidence takes no record")
			}
			return runVerifyEvidence(e, *o.evidence, *o.asJSON)
		}
		if len(args) != 1 {
			return usagef("give exactly one record: a file or a node URL")
		}
		return runVerify(ctx, e, args[0], o)
	}
}

// follower verifies a record (a seam for tests).
var follower = client.FollowRecord

// verifyMemoryLimit is the soft limit of `urna verify`'s Go heap unless
// GOMEMLIMIT sets one: a million-voter record's state is ≈ 0.7 GB (bench/
// README.md), and the collector's default headroom (GOGC=100) would let
// garbage double it; near the limit it collects more often instead.
const verifyMemoryLimit = 900 << 20

func runVerify(ctx context.Context, e *env, src string, o *verifyOpts) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(verifyMemoryLimit))
	}
	var showProgress bool
	switch *o.progress {
	case "auto":
		showProgress = isTerminal(e.stderr)
	case "always":
		showProgress = true
	case "never":
	default:
		return usagef("--progress %q: want auto, always or never", *o.progress)
	}
	fp, err := parseFingerprint(*o.fingerprint)
	if err != nil {
		return err
	}
	// The checkpoints seen before, each with the file it came from.
	type seen struct {
		note    []byte
		path    string
		receipt []byte
	}
	var known []seen
	for _, path := range o.checkpoints {
		notes, err := roles.LoadCheckpoints(path)
		if err != nil {
			return fmt.Errorf("urna verify: --checkpoint: %w", err)
		}
		for _, n := range notes {
			known = append(known, seen{note: n, path: path})
		}
	}
	for _, path := range o.receipts {
		_, raw, err := roles.LoadReceipt(path)
		if err != nil {
			return fmt.Errorf("urna verify: --receipt: %w", err)
		}
		rc, err := bulletin.ParseReceipt(raw)
		if err != nil {
			return fmt.Errorf("urna verify: --receipt %s: %w", path, err)
		}
		known = append(known, seen{note: rc.Checkpoint, path: path, receipt: raw})
	}

	var (
		r     io.Reader
		total int
	)
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		cl, err := newClient("verify", src, *o.ca, *o.election)
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

	// Lean: without checkpoints or receipts seen before, nothing is proven
	// against the record's Merkle log afterwards (client.FollowOptions).
	opts := client.FollowOptions{Fingerprint: fp, TotalEntries: total, Lean: len(known) == 0}
	var bar *progressBar
	if showProgress {
		bar = &progressBar{w: e.stderr}
		opts.Progress = bar.update
	}
	start := time.Now()
	cr := &ctxReader{ctx: ctx, r: r}
	s, err := follower(cr, opts)
	bar.clear()
	if cr.err != nil && cr.err != ctx.Err() {
		// The transport failed (a node that stalled or cut the stream):
		// what was read is no record to judge.
		return withHint(fmt.Errorf("urna verify: reading the record from %s: %w", src, cr.err), streamHint(cr.err))
	}
	if s == nil || s.Report == nil || (err != nil && !errors.Is(err, client.ErrNotVerified)) {
		if err == nil {
			err = errors.New("no report")
		}
		return fmt.Errorf("urna verify: %w", err)
	}
	rep := s.Report
	if *o.lang != "" {
		if s.Manifest == nil {
			return fmt.Errorf("urna verify: --lang %s: the record has no valid manifest to take texts from", *o.lang)
		}
		lr := *rep
		var lerr error
		if lr.Title, lr.Questions, lerr = localized(s.Manifest, *o.lang); lerr != nil {
			return fmt.Errorf("urna verify: %w", lerr)
		}
		rep = &lr
	}
	// V3.7, V3.8: the record extends every checkpoint seen before.
	var seenErr error
	var receiptLines []string
	skipped := 0
	if err == nil {
		for _, k := range known {
			// V3.8 step 1: a note of another election (a memory file holds
			// one per election followed) is not about this record.
			first, _, _ := strings.Cut(string(k.note), "\n")
			if k.receipt == nil && first != bulletin.Origin(s.Manifest.ElectionID, s.Fingerprint) {
				skipped++
				continue
			}
			if xerr := s.Extends(ctx, k.note, nil); xerr != nil {
				seenErr = keptEvidence(xerr, k.path, k.receipt != nil)
				break
			}
			if k.receipt == nil {
				continue
			}
			line, xerr := receiptLine(s, k.receipt)
			if xerr != nil {
				seenErr = fmt.Errorf("urna verify: V3.7: --receipt %s: %w", k.path, xerr)
				break
			}
			receiptLines = append(receiptLines, k.path+": "+line)
		}
	}
	if *o.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("urna verify: %w", err)
		}
	} else {
		textreport.WriteMixed(e.stdout, rep, s.Manifest, s.Mixed, time.Since(start))
		if len(known) > skipped && seenErr == nil && err == nil {
			fmt.Fprintf(e.stdout, "The record extends %s seen before (V3.7, V3.8).\n", textreport.Plural(len(known)-skipped, "checkpoint", "checkpoints"))
		}
		if skipped > 0 {
			fmt.Fprintf(e.stdout, "Skipped %s of other elections (V3.8).\n", textreport.Plural(skipped, "checkpoint", "checkpoints"))
		}
		for _, l := range receiptLines {
			fmt.Fprintln(e.stdout, "Receipt "+l)
		}
	}
	if !rep.OK() {
		step, f, _ := rep.FirstFailure()
		err := fmt.Errorf("urna verify: the record does not verify: %s failed: %s", step, f)
		if step == client.StepV1 && strings.Contains(f.Detail, "record truncated") {
			return withHint(err, "the record ends in the middle of a block: if it is a copy, make it again (urna export --node URL -o FILE)")
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("urna verify: %w", err)
	}
	if seenErr != nil {
		return seenErr
	}
	if !rep.Complete {
		// SPEC.md §10.2: a step not reached is not a pass.
		return withHint(errors.New("urna verify: the election is not finished: every step so far passed, but not every step could run"),
			"run it again after the result is posted to verify the whole election")
	}
	return nil
}

// keptEvidence writes the evidence of a fork beside the file the
// contradicted checkpoint came from and says where; other errors are
// returned as they are. Each names the step: V3.7 for a receipt's
// checkpoint, V3.8 for a checkpoint seen before.
func keptEvidence(err error, path string, receipt bool) error {
	step, what := "V3.8", "the checkpoint in"
	if receipt {
		step, what = "V3.7", "the receipt"
	}
	var fe *client.ForkError
	if !errors.As(err, &fe) {
		if errors.Is(err, client.ErrStale) {
			return withHint(fmt.Errorf("urna verify: %s: %s: %w", step, path, err), "the record is older than a checkpoint seen before: verify a newer record (urna export again)")
		}
		return fmt.Errorf("urna verify: %s: %s: %w", step, path, err)
	}
	mem, merr := roles.OpenMemory(filepath.Dir(path))
	if merr == nil {
		var ev string
		if ev, merr = mem.KeepEvidence(fe.Evidence); merr == nil {
			return withHint(fmt.Errorf("urna verify: %s: the record contradicts %s %s: %w; evidence kept in %s", step, what, path, err, ev),
				"check it with 'urna verify --evidence "+ev+"' and publish it")
		}
	}
	return fmt.Errorf("urna verify: %s: the record contradicts %s %s: %w (and keeping the evidence failed: %v)", step, what, path, err, merr)
}

// receiptLine checks a receipt against the verified record (V3.7) and says
// what became of its entry.
func receiptLine(s *client.Verified, raw []byte) (string, error) {
	st, err := client.CheckReceipt(raw, nil, s.Manifest)
	if err != nil {
		return "", err
	}
	rc, _ := bulletin.ParseReceipt(raw)
	ent, err := bulletin.ParseEntry(rc.Entry)
	if err != nil {
		return "", err
	}
	what := fmt.Sprintf("entry %d is in the record", st.Seq)
	if st.Tracker != nil {
		what = fmt.Sprintf("ballot %s (entry %d) is in the record", st.Tracker.Short(), st.Seq)
	}
	switch at, ok := s.CountedSeq(ent.AuthorKey()); {
	case ent.Type == bulletin.TypeAuditedBallot:
		return what + "; it was challenged (audited) and does not count", nil
	case ent.Type != bulletin.TypeBallot:
		return what, nil
	case ok && at == st.Seq:
		return what + " and counts", nil
	case ok && at > st.Seq:
		return what + fmt.Sprintf("; a later ballot of its credential (entry %d) replaced it", at), nil
	default:
		return what + " but does NOT count", nil
	}
}

// runVerifyEvidence checks an evidence file offline (SPEC.md §10.8).
func runVerifyEvidence(e *env, path string, asJSON bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("urna verify: %w", err)
	}
	r, err := client.CheckEvidence(data)
	if err != nil {
		return fmt.Errorf("urna verify: --evidence %s is not valid evidence: %w", path, err)
	}
	if asJSON {
		out := map[string]any{"kind": "urna-evidence-check", "election_id": r.ElectionID, "fingerprint": hex.EncodeToString(r.Fingerprint[:]),
			"old_size": r.Old.Size, "new_size": r.New.Size, "proven": r.Proven, "why": r.Why}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("urna verify: %w", err)
		}
	} else {
		fmt.Fprintf(e.stdout, "Election     %s\nFingerprint  %x (compare it with the one the election authority published)\n", r.ElectionID, r.Fingerprint)
		fmt.Fprintf(e.stdout, "Checkpoints  log size %d (block %d) and log size %d (block %d), each signed by a quorum of the board nodes\n", r.Old.Size, r.Old.Height, r.New.Size, r.New.Height)
	}
	if !r.Proven {
		if !asJSON {
			fmt.Fprintf(e.stdout, "Verdict: NOT PROVEN: %s\n", r.Why)
		}
		return fmt.Errorf("urna verify: the evidence does not prove a fork: %s", r.Why)
	}
	if !asJSON {
		fmt.Fprintf(e.stdout, "Verdict: PROVEN: the board nodes signed two contradicting histories (%s)\n", r.Why)
	}
	return nil
}

// ctxReader stops a verification when the command is interrupted.
// ctxReader stops reading when ctx is done and keeps the first error of
// r other than io.EOF (a stream's transport failing).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// streamHint advises on a record stream from a node that failed.
func streamHint(err error) string {
	if errors.Is(err, apiclient.ErrStalled) {
		return "the node stopped sending the record: try again, or read it from another node of the board"
	}
	return "the node sent no whole record (cut short, or not a record): try again, or read it from another node of the board"
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
