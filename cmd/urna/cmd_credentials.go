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
The credential authority (CA) issues one secret credential per voter and
posts only the public credentials derived from them. Run 'issue' after the
manifest is on the board.

With --count N it writes the credentials to --dir/credentials.txt
(owner-only: one line per voter, with a voter number) to hand out.

With --roll FILE (a CSV voter roll: voter_id,name,contact[,weight]) it
issues one credential per voter, makes each voter's letter (a PDF with the
credential, the election fingerprint, the booth URL and a QR code that
opens the booth with the credential filled in), e-mails it where --smtp is
given and the voter has an address, writes the others to --letters, and
then destroys its copy of the credentials.`, []*command{
		{name: "init", summary: "create the credential authority's signing key",
			flags: keyInit("credentials", "credential authority", roles.CAKeyFile,
				"give "+roles.CAPublicFile+" to the election authority\n", roles.InitCredentialAuthority)},
		{name: "issue", summary: "generate credentials and post the public list (and make the voters' letters from a roll)", flags: credentialsIssue},
		{name: "add", summary: "add late voters (before the close): a signed, public entry", flags: credentialsAdd},
	})
}

func credentialsIssue(fs *flag.FlagSet) action {
	dir, nodes := dirFlag(fs, "credentials"), nodesFlag(fs)
	count := fs.Int("count", 0, "number of voters (without a roll)")
	wf := weightFlagsOf(fs) // cmd_credentials_weights.go
	lf := letterFlags(fs)
	return func(ctx context.Context, e *env, _ []string) error {
		if *lf.roll != "" {
			if *count != 0 || wf.set() {
				return usagef("give one of --roll, --weights and --count")
			}
			return issueFromRoll(ctx, e, *dir, nodes, lf)
		}
		if lf.any() {
			return withHint(fmt.Errorf("urna credentials issue: letter and e-mail flags need --roll"), "give the voter roll with --roll FILE")
		}
		if wf.set() {
			return wf.issueWeighted(ctx, e, nodes, *dir, *count)
		}
		if *count < 1 {
			return withHint(fmt.Errorf("urna credentials issue: --count or --roll is required"), "give the voter roll, e.g. --roll roll.csv, or the number of voters, e.g. --count 100")
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
