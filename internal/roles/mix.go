package roles

import (
	"context"
	"errors"
	"io"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/trustee"
)

// Mix posts the trustee's shuffle of every mixed (ranked, score, write-in)
// question it has not shuffled yet (SPEC.md §11.3), after the close. Like
// Decrypt it reads the board only through observe (the whole record
// verified, V14 included, and proved current) and refuses (ErrRefused)
// otherwise; the rows it shuffles are the ones the verified record holds.
//
// A node refuses a shuffle whose named input is not the question's current
// rows with stale_input (SPEC.md V14.2): the view missed a shuffle another
// trustee posted after the node that served it had applied the record.
// Mix then reads the board once more, with consistent reads
// (apiclient.Client.Consistent), and shuffles the rows of that view; a
// second refusal is returned.
func Mix(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, others ...*apiclient.Client) (*MixResult, error) {
	mem, err := t.memory()
	if err != nil {
		return nil, err
	}
	nodes := append([]*apiclient.Client{c}, others...)
	out := &MixResult{}
	for {
		s, err := observeCurrent(ctx, rand, nodes, mem)
		if err != nil {
			return nil, refused("mix", err)
		}
		b, err := trustee.NewBoard(s.Manifest, s.Entries, t.Name, t.Secret)
		if err != nil {
			return nil, err
		}
		out.Index, out.Counted = b.Me, s.Counted
		posts, err := b.Mix(rand, s)
		if err != nil {
			if out.Reread && len(out.Seqs) > 0 && errors.Is(err, trustee.ErrExists) {
				return out, nil // what the stale view missed was all that was left
			}
			return nil, err
		}
		stale := false
		for _, p := range posts {
			res, err := postTrustee(ctx, rand, nodes[0], b, t, p)
			if err != nil && !out.Reread && apiclient.IsCode(err, api.CodeStaleInput) {
				stale = true
				break
			}
			if err != nil {
				return out, err
			}
			out.Seqs = append(out.Seqs, res.Seq)
		}
		if !stale {
			return out, nil
		}
		out.Reread = true
		nodes[0] = nodes[0].Consistent()
	}
}

// MixResult is the outcome of Mix: the trustee's index, the sequence
// numbers of its shuffles (one per mixed question), the rows shuffled, and
// whether a node's stale_input refusal made it read the board again.
type MixResult struct {
	Index   int
	Seqs    []uint64
	Counted int
	Reread  bool
}
