package apiclient

import (
	"context"
	"encoding/hex"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/urna-vote/urna/bulletin"
)

// The methods below make a *Client a client.Source: the board as every
// party reads it (SPEC.md §10.7). Nothing they return is verified here.

// CheckpointNote returns the node's newest signed checkpoint note.
func (c *Client) CheckpointNote(ctx context.Context) ([]byte, error) {
	cp, err := c.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	return []byte(cp.Note), nil
}

// Consistency returns the node's consistency proof from log size from to
// log size to, decoded.
func (c *Client) Consistency(ctx context.Context, from, to uint64) (*bulletin.ConsistencyProof, error) {
	ci, err := c.ConsistencyProof(ctx, from, to)
	if err != nil {
		return nil, err
	}
	if ci.From != from || ci.To != to {
		return nil, fmt.Errorf("apiclient: asked for the consistency proof %d → %d, got %d → %d", from, to, ci.From, ci.To)
	}
	p := &bulletin.ConsistencyProof{OldSize: from, NewSize: to}
	for _, h := range ci.Proof {
		hb, err := hex.DecodeString(h)
		if err != nil || len(hb) != len(tlog.Hash{}) {
			return nil, fmt.Errorf("apiclient: the node's consistency proof %d → %d is malformed", from, to)
		}
		p.Hashes = append(p.Hashes, tlog.Hash(hb))
	}
	return p, nil
}
