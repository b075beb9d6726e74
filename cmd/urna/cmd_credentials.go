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
	roleCommand("credentials", "credential authority: issue voter credentials", `
The credential authority (CA) issues one secret credential per voter. It
writes them to --dir/credentials.txt (owner-only: one line per voter, with a
voter number) to hand out, and posts only the public credentials derived
from them. Run 'issue' after the manifest is on the board.`, []*command{
		{name: "init", summary: "create the credential authority's signing key",
			flags: keyInit("credentials", "credential authority", roles.CAKeyFile,
				"give "+roles.CAPublicFile+" to the election authority\n", roles.InitCredentialAuthority)},
		{name: "issue", summary: "generate credentials and post the public list", flags: credentialsIssue},
		{name: "add", summary: "add late voters (before the close): a signed, public entry", flags: credentialsAdd},
	})
}

func credentialsIssue(fs *flag.FlagSet) action {
	dir, nodes := dirFlag(fs, "credentials"), nodesFlag(fs)
	count := fs.Int("count", 0, "number of voters")
	wf := weightFlagsOf(fs) // cmd_credentials_weights.go
	return func(ctx context.Context, e *env, _ []string) error {
		if wf.set() {
			return wf.issueWeighted(ctx, e, nodes, *dir, *count)
		}
		if *count < 1 {
			return withHint(fmt.Errorf("urna credentials issue: --count is required"), "give the number of voters, e.g. --count 100")
		}
		iss, err := onNodes("credentials issue", nodes, func(cl *apiclient.Client, others []*apiclient.Client) (*roles.Issued, error) {
			return roles.IssueCredentials(ctx, randReader, cl, *dir, *count, others...)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "posted %s (entry %d)\nthe secret credentials are in %s: hand line N to voter N, then destroy the file\n",
			textreport.Plural(iss.Count, "public credential", "public credentials"), iss.Seq, iss.Path)
		return nil
	}
}
