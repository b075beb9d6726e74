package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/textreport"
)

func init() {
	roleCommand("trustee", "trustee: keys, key ceremony, partial decryption", `
A trustee holds a share of the election's decryption key. Its keys and its
dealer seed live in --dir (owner-only). In order:
  init     once: make the keys and print the public part for the manifest
  deal     after the credential list: post the dealer's commitments and shares
  check    after every trustee dealt: decrypt and check the shares received
  answer   if another trustee complained: reveal the share it was sent
  mix      after the close, for ranked, score and write-in questions: verify
           the whole board, then shuffle each such question's ballots (at
           least T trustees mix before anyone decrypts them)
  decrypt  after the close: verify the whole board, then post a partial
           decryption, and the decryption shares of every mixed question
           that T trustees have shuffled

Every step acts only on the verified board (SPEC.md §10.7): the whole election
record from the first --node, verified, consistent with the newest checkpoint
of every --node (repeat it to ask several) and with the checkpoint remembered
in --dir (board-memory.json). It refuses, posting nothing, when the record
does not verify, is older than a checkpoint shown, or contradicts one (the
evidence is then kept in --dir: check it with 'urna verify --evidence FILE').`, []*command{
		{name: "init", summary: "create the trustee's keys", flags: trusteeInit},
		{name: "deal", summary: "key ceremony: post the dealer post", flags: trusteeStep("deal")},
		{name: "check", summary: "key ceremony: check the received shares, confirm or complain", flags: trusteeStep("check")},
		{name: "answer", summary: "key ceremony: answer complaints against this trustee", flags: trusteeStep("answer")},
		{name: "mix", summary: "verify the board, then shuffle the ranked, score and write-in ballots", flags: trusteeStep("mix")},
		{name: "decrypt", summary: "verify the board, then post a partial decryption", flags: trusteeStep("decrypt")},
	})
}

func trusteeInit(fs *flag.FlagSet) action {
	dir := dirFlag(fs, "trustee")
	name := fs.String("name", "", "the trustee's `name` in the manifest")
	return func(_ context.Context, e *env, _ []string) error {
		if *name == "" {
			return withHint(fmt.Errorf("urna trustee init: --name is required"), "e.g. --name alice")
		}
		pub, err := roles.InitTrustee(randReader, *dir, *name)
		if err != nil {
			return roleError("trustee init", "", err)
		}
		fmt.Fprintf(e.stdout, "created the keys of trustee %q in %s (keep %s secret)\nsigning key: %s\nshare key:   %s\ngive %s/%s to the election authority\n",
			pub.Name, *dir, roles.TrusteeKeyFile, pub.SigningKey, pub.ShareKey, *dir, roles.TrusteePublicFile)
		return nil
	}
}

// trusteeStep is a key-ceremony or decryption step of the trustee whose
// keys are in --dir.
func trusteeStep(step string) func(*flag.FlagSet) action {
	return func(fs *flag.FlagSet) action {
		dir, nodes := dirFlag(fs, "trustee"), nodesFlag(fs)
		var force *bool
		if step == "check" {
			force = fs.Bool("force", false, "check now even if some trustees have not dealt")
		}
		what := "trustee " + step
		return func(ctx context.Context, e *env, _ []string) error {
			t, err := roles.LoadTrustee(*dir)
			if err != nil {
				return roleError(what, nodes.primary(), err)
			}
			_, err = onNodes(what, nodes, func(cl *apiclient.Client, others []*apiclient.Client) (struct{}, error) {
				return struct{}{}, runTrusteeStep(ctx, e, cl, others, t, step, force)
			})
			return err
		}
	}
}

func runTrusteeStep(ctx context.Context, e *env, cl *apiclient.Client, others []*apiclient.Client, t *roles.Trustee, step string, force *bool) error {
	switch step {
	case "deal":
		res, err := roles.Deal(ctx, randReader, cl, t, others...)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "trustee %q dealt (entry %d)\nnext: once every trustee has dealt, run 'urna trustee check'\n", t.Name, res.Seq)
	case "check":
		rep, err := roles.Check(ctx, randReader, cl, t, *force, others...)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "trustee %q accepted the shares of %s\n", t.Name, textreport.Trustees(rep.Accepted))
		if len(rep.Complaints) > 0 {
			fmt.Fprintf(e.stdout, "complained against %s: they must run 'urna trustee answer'\n", textreport.Trustees(rep.Complaints))
		}
	case "answer":
		done, err := roles.Answer(ctx, randReader, cl, t, others...)
		if err != nil {
			return err
		}
		if len(done) == 0 {
			fmt.Fprintf(e.stdout, "no complaint against trustee %q to answer\n", t.Name)
		} else {
			fmt.Fprintf(e.stdout, "trustee %q revealed its shares for %s\n", t.Name, textreport.Trustees(done))
		}
	case "mix":
		res, err := roles.Mix(ctx, randReader, cl, t, others...)
		if err != nil {
			return err
		}
		entries := "entries"
		if len(res.Seqs) == 1 {
			entries = "entry"
		}
		fmt.Fprintf(e.stdout, "verified the board, then posted trustee %d's shuffles of %s (%s %s) over %s\nnext: once T trustees have mixed, run 'urna trustee decrypt'\n",
			res.Index, textreport.Plural(len(res.Seqs), "mixed question", "mixed questions"), entries, textreport.List(res.Seqs), textreport.Plural(res.Counted, "counted ballot", "counted ballots"))
	case "decrypt":
		res, err := roles.Decrypt(ctx, randReader, cl, t, others...)
		if res != nil && res.Check != nil {
			reportStateUnused(e.stderr, res.Check.StateUnused)
		}
		if res != nil && res.Check != nil && !res.Check.OK {
			fmt.Fprintf(e.stderr, "own verification of the board FAILED at %s: %s\n", res.Check.FailedStep, res.Check.Failure)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "verified the board (V1–%s pass), then posted the decryptions of trustee %d (last entry %d) over %s\n",
			res.Check.UpTo, res.Index, res.Seq, textreport.Plural(res.Counted, "counted ballot", "counted ballots"))
		if res.Mixed > 0 {
			fmt.Fprintf(e.stdout, "including the decryption shares of %s\n", textreport.Plural(res.Mixed, "mixed question", "mixed questions"))
		}
	}
	return nil
}
