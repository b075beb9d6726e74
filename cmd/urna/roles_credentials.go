package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/wire"
)

func init() {
	roleCommand("credentials", "credential authority: issue voter credentials", `
The credential authority (CA) issues one secret credential per voter. It
writes them to --dir/credentials.txt (owner-only: one line per voter, with a
voter number) to hand out, and posts only the public credentials derived
from them. Run 'issue' after the manifest is on the board.`, []subcommand{
		{name: "init", summary: "create the credential authority's signing key", flags: credentialsInit},
		{name: "issue", summary: "generate credentials and post the public list", flags: credentialsIssue},
	})
}

func credentialsInit(fs *flag.FlagSet) func(context.Context, *env, *flag.FlagSet) error {
	dir := dirFlag(fs, "credentials", "the credential authority's files")
	return func(_ context.Context, e *env, fs *flag.FlagSet) error {
		if err := noArgs("credentials init", fs); err != nil {
			return err
		}
		pub, err := roles.InitCredentialAuthority(randReader, *dir)
		if err != nil {
			return roleError("credentials init", "", err)
		}
		fmt.Fprintf(e.stdout, "created the credential authority key in %s (keep %s secret)\npublic key: %s\ngive %s to the election authority\n",
			*dir, roles.CAKeyFile, wire.EncodeB64(pub.Bytes()), roles.CAPublicFile)
		return nil
	}
}

func credentialsIssue(fs *flag.FlagSet) func(context.Context, *env, *flag.FlagSet) error {
	dir := dirFlag(fs, "credentials", "the credential authority's files")
	node := nodeFlag(fs)
	count := fs.Int("count", 0, "number of voters")
	return func(ctx context.Context, e *env, fs *flag.FlagSet) error {
		if err := noArgs("credentials issue", fs); err != nil {
			return err
		}
		if *count < 1 {
			return withHint(fmt.Errorf("urna credentials issue: --count is required"), "give the number of voters, e.g. --count 100")
		}
		cl, err := roleClient(*node)
		if err != nil {
			return err
		}
		iss, err := roles.IssueCredentials(ctx, randReader, cl, *dir, *count)
		if err != nil {
			return roleError("credentials issue", *node, err)
		}
		fmt.Fprintf(e.stdout, "posted %d public credentials (entry %d)\nthe secret credentials are in %s: hand line N to voter N, then destroy the file\n",
			iss.Count, iss.Seq, iss.Path)
		return nil
	}
}
