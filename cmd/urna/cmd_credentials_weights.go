package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/textreport"
)

// weightFlags are the weighted-election flags of `urna credentials issue`
// and `urna credentials add` (SPEC.md §5.3): a weights file and the public
// roll fingerprint. credentialsIssue calls weightFlagsOf and, when the
// weights are set, hands the issue over to issueWeighted.
type weightFlags struct {
	weights *string
	roll    *string
}

func weightFlagsOf(fs *flag.FlagSet) *weightFlags {
	return &weightFlags{
		weights: fs.String("weights", "", fmt.Sprintf("`file` of voter weights, one per line (line N: voter N's weight, 1..%d): a weighted election", ballot.MaxWeight)),
		roll:    fs.String("roll-fingerprint", "", "public roll `fingerprint` (64 hex digits) published with a weighted list; default all zero (no roll)"),
	}
}

func (w *weightFlags) set() bool { return *w.weights != "" }

// load reads the weights file and the roll fingerprint.
func (w *weightFlags) load() ([]uint32, [32]byte, error) {
	var roll [32]byte
	if *w.roll != "" {
		var err error
		if roll, err = roles.ParseRollFingerprint(*w.roll); err != nil {
			return nil, roll, withHint(err, "give the fingerprint the roll tool printed, e.g. --roll-fingerprint 3fa2…")
		}
	}
	data, err := os.ReadFile(*w.weights)
	if err != nil {
		return nil, roll, fmt.Errorf("urna credentials: %w", err)
	}
	ws, err := roles.ParseWeights(data)
	if err != nil {
		return nil, roll, fmt.Errorf("%w (file %s)", err, *w.weights)
	}
	return ws, roll, nil
}

// issueWeighted is `urna credentials issue --weights FILE`.
func (w *weightFlags) issueWeighted(ctx context.Context, e *env, nodes *nodeList, dir string, count int) error {
	ws, roll, err := w.load()
	if err != nil {
		return err
	}
	if count != 0 && count != len(ws) {
		return withHint(fmt.Errorf("urna credentials issue: --count %d but %s holds %d weights", count, *w.weights, len(ws)), "leave out --count: the weights file gives the number of voters")
	}
	iss, err := onNodes("credentials issue", nodes, func(cl *apiclient.Client, others []*apiclient.Client) (*roles.Issued, error) {
		return roles.IssueWeightedCredentials(ctx, randReader, cl, dir, ws, roll, others...)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "posted %s with their weights, %d in all (entry %d)\nthe secret credentials are in %s: hand line N to voter N, then destroy the file\n",
		textreport.Plural(iss.Count, "public credential", "public credentials"), sumWeights(ws), iss.Seq, iss.Path)
	return nil
}

// credentialsAdd is `urna credentials add`: late voters, before the close.
func credentialsAdd(fs *flag.FlagSet) action {
	dir, nodes := dirFlag(fs, "credentials"), nodesFlag(fs)
	wf := weightFlagsOf(fs)
	count := fs.Int("count", 0, "number of late voters of weight 1 (instead of --weights)")
	return func(ctx context.Context, e *env, _ []string) error {
		var ws []uint32
		var roll [32]byte
		switch {
		case wf.set() && *count != 0:
			return withHint(fmt.Errorf("urna credentials add: give --weights or --count, not both"), "--weights FILE gives one weight per late voter")
		case wf.set():
			var err error
			if ws, roll, err = wf.load(); err != nil {
				return err
			}
		case *count >= 1 && *count <= roles.MaxIssue:
			ws = make([]uint32, *count)
			for i := range ws {
				ws[i] = 1
			}
			if *wf.roll != "" {
				var err error
				if roll, err = roles.ParseRollFingerprint(*wf.roll); err != nil {
					return err
				}
			}
		default:
			return withHint(fmt.Errorf("urna credentials add: --weights or --count is required"), "e.g. --count 1 for one late voter of weight 1")
		}
		iss, err := onNodes("credentials add", nodes, func(cl *apiclient.Client, others []*apiclient.Client) (*roles.Issued, error) {
			return roles.AddLateCredentials(ctx, randReader, cl, *dir, ws, roll, others...)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "posted %s for late voters, weighing %d in all (entry %d)\nthe secret credentials are in %s: hand line N to late voter N, then destroy the file\n",
			textreport.Plural(iss.Count, "public credential", "public credentials"), sumWeights(ws), iss.Seq, iss.Path)
		return nil
	}
}

func sumWeights(ws []uint32) uint64 {
	var t uint64
	for _, w := range ws {
		t += uint64(w)
	}
	return t
}
