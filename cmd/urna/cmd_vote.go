package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
)

func init() {
	register(&command{
		name:    "vote",
		summary: "voter: encrypt, optionally challenge, cast a ballot",
		usage:   "--credential-file FILE [--voter N] --choices '1;2,4' [--challenge] [--node URL]",
		help: `Encrypts your choices on this machine, casts the ballot, prints its tracker
and saves a receipt (the entry, a checkpoint signed by the board nodes and the
proof that the ballot is in it). You may vote again: the last ballot cast with
a credential is the one that counts.

--choices lists, per question and separated by ';', the numbers (from 1) of
the options you select, separated by ','. With --challenge a first ballot is
encrypted and opened on the board instead of cast, so that you (and anyone)
can check this machine encrypted what you chose; a fresh ballot is then cast.

The credential comes from --credential-file (one credential, or the CA's file
with --voter N), --credential, or the environment variable URNA_CREDENTIAL.`,
		flags: voteFlags,
	})
	register(&command{
		name:    "check-receipt",
		summary: "voter: check a saved receipt against a node",
		usage:   "FILE [--node URL]",
		help: `Checks that the receipt's checkpoint is signed by the board nodes and
includes your ballot, that the node's current checkpoint extends it (the
board has not dropped or rewritten it), and whether your ballot counts.`,
		args:  true,
		flags: checkReceiptFlags,
	})
}

type voteOpts struct {
	node, credFile, cred, choices, receipts *string
	voter                                   *int
	challenge                               *bool
}

func voteFlags(fs *flag.FlagSet) action {
	o := &voteOpts{
		node:      nodeFlag(fs),
		credFile:  fs.String("credential-file", "", "`file` holding your credential (owner-only permissions)"),
		voter:     fs.Int("voter", 0, "voter `number` in a credentials file with many credentials"),
		cred:      fs.String("credential", "", "your credential `text` (prefer --credential-file: command lines are visible to other users)"),
		choices:   fs.String("choices", "", "your `choices`, e.g. '1;2,4' (questions separated by ';')"),
		challenge: fs.Bool("challenge", false, "first challenge (audit) a ballot, then cast a fresh one"),
		receipts:  fs.String("receipt-dir", ".", "`directory` where the receipt is saved"),
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
	if err != nil {
		return roleError("vote", *o.node, err)
	}
	if *o.choices == "" {
		return withHint(fmt.Errorf("urna vote: --choices is required"), "e.g. --choices '1;2,4': option 1 for question 1, options 2 and 4 for question 2")
	}
	cl, err := newClient("vote", *o.node)
	if err != nil {
		return err
	}
	el, err := roles.FetchElection(ctx, cl)
	if err != nil {
		return roleError("vote", *o.node, err)
	}
	choices, err := roles.ParseChoices(el.Manifest, *o.choices)
	if err != nil {
		return withHint(fmt.Errorf("urna vote: %w", err), "the questions and options are listed at "+*o.node+"/api/v1/election")
	}
	v, err := roles.Cast(ctx, randReader, cl, roles.CastOptions{Credential: cred, Choices: choices, Challenge: *o.challenge})
	if v != nil && v.Audit != nil {
		fmt.Fprintf(e.stdout, "challenged ballot %s (entry %d) was opened on the board; it contained:\n", v.Audit.Tracker.Short(), v.Audit.Seq)
		for q, sel := range v.Audit.Selections {
			fmt.Fprintf(e.stdout, "  %s: %s\n", el.Manifest.Questions[q].Text, orNone(sel))
		}
		if v.Audit.Verified {
			fmt.Fprintln(e.stdout, "the opening checks out: this machine encrypted your choices faithfully (the challenged ballot does not count)")
		}
	}
	if err != nil {
		return roleError("vote", *o.node, err)
	}
	fmt.Fprintf(e.stdout, "cast ballot %s (entry %d)\ntracker: %s\n", v.Tracker.Short(), v.Seq, v.Tracker.Hex())
	path, err := roles.SaveReceipt(*o.receipts, el.Manifest.ElectionID, v)
	if err != nil {
		return roleError("vote", *o.node, err)
	}
	fmt.Fprintf(e.stdout, "receipt saved to %s (check it later with 'urna check-receipt %s --node URL')\n", path, path)
	fmt.Fprintln(e.stdout, "if you vote again with this credential, your later ballot replaces this one")
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(nothing)"
	}
	return strings.Join(s, ", ")
}

func checkReceiptFlags(fs *flag.FlagSet) action {
	node := nodeFlag(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one receipt file")
		}
		return runCheckReceipt(ctx, e, *node, args[0])
	}
}

func runCheckReceipt(ctx context.Context, e *env, node, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("urna check-receipt: %w", err)
	}
	st, err := onNode("check-receipt", node, func(cl *apiclient.Client) (*roles.ReceiptStatus, error) {
		return roles.CheckReceipt(ctx, cl, path)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "receipt OK: ballot %s is entry %d of the board, in a checkpoint signed by the board nodes (log size %d)\n", st.Tracker, st.Seq, st.ReceiptSize)
	fmt.Fprintf(e.stdout, "the board's current checkpoint (log size %d) extends it: nothing was dropped or rewritten\n", st.CurrentSize)
	switch {
	case st.Audited:
		fmt.Fprintln(e.stdout, "this ballot was challenged (audited): it does not count")
	case st.SupersededBy != nil:
		fmt.Fprintf(e.stdout, "this ballot was replaced by a later ballot of the same credential (entry %d)\n", *st.SupersededBy)
	case st.Counts:
		fmt.Fprintln(e.stdout, "this ballot is the one that counts for its credential")
	}
	return nil
}
