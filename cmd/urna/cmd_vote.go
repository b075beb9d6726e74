package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/textreport"
)

func init() {
	register(&command{
		name:    "vote",
		summary: "voter: encrypt, optionally challenge, cast a ballot",
		usage:   "--credential-file FILE [--voter N] (--choices '1;2,4' | --answers FILE) [--challenge] [--fingerprint HEX] [--node URL]...",
		help: `Encrypts your choices on this machine, casts the ballot, prints its tracker
and saves a receipt (the entry, a checkpoint signed by the board nodes and the
proof that the ballot is in it). You may vote again: the last ballot cast with
a credential is the one that counts.

--choices lists, per question and separated by ';', the numbers (from 1) of
the options you select, separated by ','. With --challenge a first ballot is
encrypted and opened on the board instead of cast, so that you (and anyone)
can check this machine encrypted what you chose; a fresh ballot is then cast.

--answers FILE gives the answers instead, and is required when the
election has ranked, score or write-in questions: a JSON array with one
object per question, in order, options numbered from 1:
  [{"choices":[2]}, {"ranking":[3,1,4]}, {"scores":[5,0,3]}, {"text":"Zoë"}]
"choices" selects options, "ranking" lists options most preferred first,
"scores" gives every option its score, "text" is a write-in. Such a ballot
(version 2) is challenged as any other (SPEC.md §12.10).

The credential comes from --credential-file (one credential, or the CA's file
with --voter N), --credential, or the environment variable URNA_CREDENTIAL.

The election key is never taken from what the node says: it is recomputed
from the board's key ceremony and checked against a checkpoint signed by the
board nodes (SPEC.md §10.6). The election fingerprint is pinned: from
--fingerprint, else from the credentials file's fingerprint line. The newest
checkpoint seen is remembered in the receipt directory (board-memory.json);
if the board ever contradicts it, the vote is refused and the evidence kept.`,
		flags: voteFlags,
	})
	register(&command{
		name:    "check-receipt",
		summary: "voter: check a saved receipt against a node",
		usage:   "FILE [--node URL]...",
		help: `Checks that the receipt's checkpoint is signed by the board nodes and
includes your ballot; downloads and verifies the whole election record
(covered by a checkpoint the board nodes signed) and proves that it extends
the receipt's checkpoint, the newest checkpoint of every --node given (repeat
--node to ask several) and the one remembered beside the receipt; and decides
from the verified record, never from a node's say-so, whether your ballot
counts. If the board contradicts itself the evidence is kept beside the
receipt: check it with 'urna verify --evidence FILE'.`,
		args:  true,
		flags: checkReceiptFlags,
	})
}

type voteOpts struct {
	nodes                                                         *nodeList
	credFile, cred, choices, answers, receipts, fingerprint, lang *string
	voter                                                         *int
	challenge                                                     *bool
}

func voteFlags(fs *flag.FlagSet) action {
	o := &voteOpts{
		nodes:       nodesFlag(fs),
		fingerprint: fingerprintFlag(fs),
		lang:        langFlag(fs),
		credFile:    fs.String("credential-file", "", "`file` holding your credential (owner-only permissions)"),
		voter:       fs.Int("voter", 0, "voter `number` in a credentials file with many credentials"),
		cred:        fs.String("credential", "", "your credential `text` (prefer --credential-file: command lines are visible to other users)"),
		choices:     fs.String("choices", "", "your `choices`, e.g. '1;2,4' (questions separated by ';')"),
		answers:     fs.String("answers", "", "`file` of answers in JSON, one per question (see --help)"),
		challenge:   fs.Bool("challenge", false, "first challenge (audit) a ballot, then cast a fresh one"),
		receipts:    fs.String("receipt-dir", ".", "`directory` where the receipt is saved"),
	}
	return func(ctx context.Context, e *env, _ []string) error { return runVote(ctx, e, o) }
}

func runVote(ctx context.Context, e *env, o *voteOpts) error {
	var cred ballot.Credential
	var err error
	switch {
	case *o.credFile != "" && *o.cred != "":
		return usagef("give either --credential-file or --credential")
	case *o.credFile != "":
		cred, err = roles.LoadCredential(*o.credFile, *o.voter)
	case *o.cred != "":
		cred, err = ballot.ParseCredential(*o.cred)
	case e.getenv("URNA_CREDENTIAL") != "":
		cred, err = ballot.ParseCredential(e.getenv("URNA_CREDENTIAL"))
	default:
		return withHint(fmt.Errorf("urna vote: no credential"), "give --credential-file FILE (the credential the credential authority gave you)")
	}
	node := o.nodes.primary()
	if err != nil {
		return roleError("vote", node, err)
	}
	fp, err := parseFingerprint(*o.fingerprint)
	if err != nil {
		return err
	}
	if *o.credFile != "" {
		cfp, ok, err := roles.CredentialFingerprint(*o.credFile)
		if err != nil {
			return roleError("vote", node, err)
		}
		switch {
		case ok && fp != [32]byte{} && cfp != fp:
			return fmt.Errorf("urna vote: --fingerprint %x… is not the fingerprint %x… of %s", fp[:8], cfp[:8], *o.credFile)
		case ok:
			fp = cfp
		}
	}
	var answersJSON []byte
	switch {
	case *o.choices != "" && *o.answers != "":
		return usagef("give either --choices or --answers")
	case *o.answers != "":
		answersJSON, err = os.ReadFile(*o.answers)
	case *o.choices == "":
		return withHint(fmt.Errorf("urna vote: --choices or --answers is required"), "e.g. --choices '1;2,4': option 1 for question 1, options 2 and 4 for question 2; see 'urna vote --help' for --answers")
	}
	if err != nil {
		return fmt.Errorf("urna vote: reading --answers: %w", err)
	}
	cl, _, err := o.nodes.clients("vote")
	if err != nil {
		return err
	}
	mem, err := roles.OpenMemory(*o.receipts)
	if err != nil {
		return roleError("vote", node, err)
	}
	el, err := roles.FetchVerifiedElection(ctx, cl, roles.ElectionOptions{Fingerprint: fp, Memory: mem})
	if err != nil {
		return roleError("vote", node, err)
	}
	title, questions, err := localized(el.Manifest, *o.lang)
	if err != nil {
		return fmt.Errorf("urna vote: %w", err)
	}
	fmt.Fprintf(e.stdout, "election %q (%s), fingerprint %x (compare it with the one the election authority published)\n", el.Manifest.ElectionID, title, el.Fingerprint)
	if line := scheduleLine(el.Manifest); line != "" {
		fmt.Fprintln(e.stdout, line)
	}
	// The board refuses a ballot outside the window by the time of its
	// block (SPEC.md §3.9); refuse it here first, on this machine's clock.
	now := e.now()
	switch w := el.Manifest.Window(); w.At(uint64(max(now.UnixMilli(), 0))) {
	case ballot.WindowNotOpen:
		opens := time.UnixMilli(int64(w.OpensAt))
		return withHint(fmt.Errorf("urna vote: the election opens at %s, in %v: nothing was sent", ballot.FormatTime(w.OpensAt), opens.Sub(now).Round(time.Second)), "vote again after the opening")
	case ballot.WindowClosed:
		return fmt.Errorf("urna vote: the election closed at %s: nothing was sent (ballots are accepted only until then)", ballot.FormatTime(w.ClosesAt))
	}
	opts := roles.CastOptions{Credential: cred, Challenge: *o.challenge, Fingerprint: el.Fingerprint, Memory: mem}
	listed := "the questions and options are listed at " + node + "/api/v1/election"
	if answersJSON != nil {
		if opts.Answers, err = roles.ParseAnswers(el.Manifest, answersJSON); err != nil {
			return withHint(fmt.Errorf("urna vote: %w", err), listed)
		}
		for q, a := range opts.Answers {
			fmt.Fprintf(e.stdout, "  %s: %s\n", questions[q].Text, orNone(answerNames(&questions[q], a)))
		}
	} else {
		if kinds := mixedQuestions(el.Manifest); kinds != "" {
			return withHint(fmt.Errorf("urna vote: the election has %s: --choices cannot answer them", kinds), "give --answers FILE (see 'urna vote --help')")
		}
		if opts.Choices, err = roles.ParseChoices(el.Manifest, *o.choices); err != nil {
			return withHint(fmt.Errorf("urna vote: %w", err), listed)
		}
		for q, sel := range opts.Choices {
			var names []string
			for _, i := range sel {
				names = append(names, questions[q].Options[i])
			}
			fmt.Fprintf(e.stdout, "  %s: %s\n", questions[q].Text, orNone(names))
		}
		if el.Manifest.Version == ballot.ManifestVersionKinds {
			// A version-3 manifest takes version-2 ballots only (SPEC.md §12.2).
			for _, ch := range opts.Choices {
				opts.Answers = append(opts.Answers, ballot.Answer{Choices: ch})
			}
		}
	}
	v, err := roles.Cast(ctx, randReader, cl, opts)
	if v != nil && v.Audit != nil {
		fmt.Fprintf(e.stdout, "challenged ballot %s (entry %d) was opened on the board; it contained:\n", v.Audit.Tracker.Short(), v.Audit.Seq)
		for q, sel := range v.Audit.Selections {
			if v.Audit.Answers != nil { // ranked, score and write-in answers (SPEC.md §12.10)
				sel = answerNames(&questions[q], v.Audit.Answers[q])
			}
			fmt.Fprintf(e.stdout, "  %s: %s\n", questions[q].Text, orNone(sel))
		}
		if v.Audit.Verified {
			fmt.Fprintln(e.stdout, "the opening checks out: this machine encrypted your choices faithfully (the challenged ballot does not count)")
		}
	}
	if errors.Is(err, ballot.ErrInvalidChoice) {
		// Refused while encrypting, by ballot's rules (SPEC.md §12.3).
		return withHint(fmt.Errorf("urna vote: %w: nothing was sent", err), "that message numbers questions and options from 0 (question 0 is the first); "+listed)
	}
	if err != nil {
		return roleError("vote", node, err)
	}
	fmt.Fprintf(e.stdout, "cast ballot %s (entry %d)\ntracker: %s\n", v.Tracker.Short(), v.Seq, v.Tracker.Hex())
	if v.Replaces != nil {
		fmt.Fprintf(e.stdout, "this credential had already voted: this ballot replaces your earlier ballot %s (entry %d), which no longer counts\n", v.Replaces.Tracker.Short(), v.Replaces.Seq)
	}
	path, err := roles.SaveReceipt(*o.receipts, el.Manifest.ElectionID, v)
	if err != nil {
		return roleError("vote", node, err)
	}
	fmt.Fprintf(e.stdout, "receipt saved to %s (check it later with 'urna check-receipt %s --node URL')\n", path, path)
	fmt.Fprintln(e.stdout, "if you vote again with this credential, your later ballot replaces this one")
	return nil
}

// answerNames shows an answer as the voter gave it: the selected options,
// the ranked options in order, "option: score" per option, the text.
func answerNames(q *ballot.Question, a ballot.Answer) []string {
	var out []string
	switch {
	case a.Choices != nil:
		for _, i := range a.Choices {
			out = append(out, q.Options[i])
		}
	case a.Ranking != nil:
		for r, i := range a.Ranking {
			out = append(out, fmt.Sprintf("%d. %s", r+1, q.Options[i]))
		}
	case a.Scores != nil:
		for i, v := range a.Scores {
			out = append(out, fmt.Sprintf("%s: %d", q.Options[i], v))
		}
	case a.Text != "":
		out = append(out, strconv.Quote(a.Text))
	}
	return out
}

// mixedQuestions names the ranked, score and write-in questions of m
// ("" if none), which only --answers can answer.
func mixedQuestions(m *ballot.Manifest) string {
	var qs []string
	for q, mq := range m.Questions {
		if mq.Kind.Mixed() {
			qs = append(qs, fmt.Sprintf("question %d (%q)", q+1, mq.Text))
		}
	}
	if len(qs) == 0 {
		return ""
	}
	return "ranked, score or write-in questions: " + strings.Join(qs, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(nothing)"
	}
	return strings.Join(s, ", ")
}

func checkReceiptFlags(fs *flag.FlagSet) action {
	nodes := nodesFlag(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one receipt file")
		}
		return runCheckReceipt(ctx, e, nodes, args[0])
	}
}

func runCheckReceipt(ctx context.Context, e *env, nodes *nodeList, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("urna check-receipt: %w", err)
	}
	cl, others, err := nodes.clients("check-receipt")
	if err != nil {
		return err
	}
	st, err := roles.CheckReceipt(ctx, cl, path, others...)
	if err != nil {
		return roleError("check-receipt", nodes.primary(), err)
	}
	fmt.Fprintf(e.stdout, "receipt OK: ballot %s is entry %d of the board, in a checkpoint signed by the board nodes (log size %d)\n", st.Tracker, st.Seq, st.ReceiptSize)
	fmt.Fprintf(e.stdout, "verified the whole election record (log size %d, checkpoint signed by the board nodes): it extends the receipt's checkpoint and the newest checkpoint of %s: nothing was dropped or rewritten\n", st.CurrentSize, textreport.Plural(st.Nodes, "node", "nodes"))
	switch {
	case st.Audited:
		fmt.Fprintln(e.stdout, "this ballot was challenged (audited): it does not count")
	case st.SupersededBy != nil:
		fmt.Fprintf(e.stdout, "this ballot was replaced by a later ballot of the same credential (entry %d)\n", *st.SupersededBy)
	case st.Counts:
		fmt.Fprintln(e.stdout, "this ballot is the one that counts for its credential (decided from the verified record)")
	default:
		fmt.Fprintln(e.stdout, "this ballot does NOT count: the verified record does not count it for its credential")
	}
	return nil
}
