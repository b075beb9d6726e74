package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/textreport"
	"github.com/urna-vote/urna/internal/wire"
)

func init() {
	roleCommand("authority", "election authority: create an election, open, close", `
The election authority (EA) writes the manifest, opens voting once the
trustees' key ceremony is done, and closes it. Its Schnorr key lives in
--dir (authority.key, owner-only). 'urna tally' posts the result.

A whole election, in order:
  urna authority init --dir ea
  urna credentials init --dir ca          # and each trustee: urna trustee init
  urna authority create --dir ea --manifest election.json \
      --credential-authority ca/credential-authority.pub \
      --trustee t1/trustee.pub --trustee t2/trustee.pub --trustee t3/trustee.pub \
      --board-node n1=HEX --board-node n2=HEX --board-node n3=HEX
  urna credentials issue --dir ca --count 100
  urna trustee deal|check|answer --dir t1 ...   # every trustee
  urna authority open --dir ea
  urna vote ...
  urna authority close --dir ea
  urna trustee decrypt --dir t1 ...             # at least threshold trustees
  urna tally --dir ea`, []*command{
		{name: "init", summary: "create the authority's signing key",
			flags: keyInit("authority", "election authority", roles.AuthorityKeyFile, "", roles.InitAuthority)},
		{name: "create", summary: "post the election manifest", flags: authorityCreate},
		{name: "open", summary: "compute the election key from the key ceremony and open voting", flags: authorityOpen},
		{name: "close", summary: "close voting", flags: authorityClose},
	})
	register(&command{
		name:    "tally",
		summary: "combine the partial decryptions and post the result",
		usage:   "--dir DIR --node URL...",
		help: `The election authority recomputes the aggregate of the counted ballots, verifies
every trustee's partial decryption, combines any threshold of valid ones and
posts the result, which it prints.

Like every role step it acts only on the verified board (SPEC.md §10.7): it
downloads and verifies the whole election record from the first --node,
proves it consistent with the newest checkpoint of every --node (repeat it to
ask several) and with the checkpoint remembered in --dir (board-memory.json),
and refuses, posting nothing, when the record does not verify, is older than a
checkpoint shown, or contradicts one (the evidence is then kept in --dir).`,
		flags: tallyFlags,
	})
}

// keyInit is `urna authority init` and `urna credentials init`: it creates
// a Schnorr key in --dir and prints its public half, then next.
func keyInit(role, who, keyFile, next string, create func(io.Reader, string) (*group.Element, error)) func(*flag.FlagSet) action {
	return func(fs *flag.FlagSet) action {
		dir := dirFlag(fs, role)
		return func(_ context.Context, e *env, _ []string) error {
			pub, err := create(randReader, *dir)
			if err != nil {
				return roleError(role+" init", "", err)
			}
			fmt.Fprintf(e.stdout, "created the %s key in %s (keep %s secret)\npublic key: %s\n%s",
				who, *dir, keyFile, wire.EncodeB64(pub.Bytes()), next)
			return nil
		}
	}
}

func authorityCreate(fs *flag.FlagSet) action {
	dir, nodes := dirFlag(fs, "authority"), nodesFlag(fs)
	manifest := fs.String("manifest", "", "manifest authoring JSON `file` (SPEC.md §4.4); empty keys are filled in")
	ca := fs.String("credential-authority", "", "the credential authority's public `file` (credential-authority.pub)")
	var trustees stringList
	fs.Var(&trustees, "trustee", "a trustee's public `file` (trustee.pub); repeat, in order")
	var members boardNodes
	fs.Var(&members, "board-node", "a board node as `ID=HEXKEY` (the key 'urna node-key' printed); repeat")
	out := fs.String("o", "", "also write the completed manifest JSON to `file`")
	return func(ctx context.Context, e *env, _ []string) error {
		if *manifest == "" {
			return withHint(fmt.Errorf("urna authority create: --manifest is required"), "write the questions in a JSON file; see README.md for an example")
		}
		tmpl, err := os.ReadFile(*manifest)
		if err != nil {
			return fmt.Errorf("urna authority create: %w", err)
		}
		m, err := roles.BuildManifest(*dir, &roles.ElectionSpec{Template: tmpl, CredentialAuthority: *ca, Trustees: trustees, BoardNodes: members})
		if err != nil {
			return roleError("authority create", nodes.primary(), err)
		}
		if *out != "" {
			j, err := ballot.MarshalManifestJSON(m)
			if err != nil {
				return fmt.Errorf("urna authority create: %w", err)
			}
			if err := os.WriteFile(*out, append(j, '\n'), 0o644); err != nil {
				return fmt.Errorf("urna authority create: %w", err)
			}
		}
		res, err := onNodes("authority create", nodes, func(cl *apiclient.Client, others []*apiclient.Client) (apiclient.SubmitResult, error) {
			return roles.CreateElection(ctx, randReader, cl, *dir, m, others...)
		})
		if err != nil {
			return err
		}
		fp := m.Fingerprint()
		fmt.Fprintf(e.stdout, "posted the manifest of election %q (entry %d)\nfingerprint: %s\n", m.ElectionID, res.Seq, hex.EncodeToString(fp[:]))
		fmt.Fprintf(e.stdout, "next: the credential authority runs 'urna credentials issue', then the trustees 'urna trustee deal'\n")
		return nil
	}
}

func authorityOpen(fs *flag.FlagSet) action {
	dir, nodes := dirFlag(fs, "authority"), nodesFlag(fs)
	force := fs.Bool("force", false, "open even if some trustees have not dealt or checked their shares")
	return func(ctx context.Context, e *env, _ []string) error {
		info, err := onNodes("authority open", nodes, func(cl *apiclient.Client, others []*apiclient.Client) (*roles.OpenInfo, error) {
			return roles.Open(ctx, randReader, cl, *dir, *force, others...)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "opened voting (entry %d)\nqualified trustees: %s\nelection key: %s\n", info.Seq, textreport.List(info.Qualified), wire.EncodeB64(info.JointKey))
		for _, d := range info.Excluded {
			fmt.Fprintf(e.stdout, "excluded trustee %d: %s\n", d.Dealer, d.Reason)
		}
		return nil
	}
}

func authorityClose(fs *flag.FlagSet) action {
	dir, nodes := dirFlag(fs, "authority"), nodesFlag(fs)
	reason := fs.String("reason", "", "reason shown on the board")
	return func(ctx context.Context, e *env, _ []string) error {
		res, err := onNodes("authority close", nodes, func(cl *apiclient.Client, others []*apiclient.Client) (apiclient.SubmitResult, error) {
			return roles.Close(ctx, randReader, cl, *dir, *reason, others...)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "closed voting (entry %d)\nnext: at least threshold trustees run 'urna trustee decrypt'\n", res.Seq)
		fmt.Fprintf(e.stdout, "(with ranked, score or write-in questions, at least threshold trustees run 'urna trustee mix' first)\n")
		return nil
	}
}

func tallyFlags(fs *flag.FlagSet) action {
	dir, nodes := dirFlag(fs, "authority"), nodesFlag(fs)
	return func(ctx context.Context, e *env, _ []string) error {
		res, err := onNodes("tally", nodes, func(cl *apiclient.Client, others []*apiclient.Client) (*roles.TallyResult, error) {
			return roles.Tally(ctx, randReader, cl, *dir, others...)
		})
		if err != nil {
			return err
		}
		reportStateUnused(e.stderr, res.StateUnused)
		fmt.Fprintf(e.stdout, "posted the result (entry %d): %s counted, partial decryptions of %s combined\n",
			res.Seq, textreport.Plural(res.Counted, "ballot", "ballots"), textreport.Trustees(res.Result.Trustees))
		for _, j := range res.Rejected {
			fmt.Fprintf(e.stdout, "rejected the partial decryption of trustee %d (its proofs fail)\n", j)
		}
		printCounts(e, res.Manifest, res.Result.Counts)
		for _, mq := range res.Result.Mixed {
			fmt.Fprintf(e.stdout, "question %d (%s): %s decrypted after the shuffles; 'urna verify' counts them\n",
				mq.Question+1, mq.Kind, textreport.Plural(len(mq.Answers), "ballot", "ballots"))
		}
		return nil
	}
}

// printCounts prints the result, one table per question.
func printCounts(e *env, m *ballot.Manifest, counts [][]uint64) {
	textreport.Result(e.stdout, client.LabelCounts(m.Questions, counts))
}
