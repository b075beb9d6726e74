package roles

import (
	"context"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/authority"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/trustee"
	"github.com/urna-vote/urna/tally"
)

// Entry is one board entry, decoded.
type Entry struct {
	Seq   uint64
	Entry *bulletin.Entry
}

// Board is the board's entries other than ballots, with the election
// manifest decoded: what every flow reads before deciding what to post.
// The flows build it only from a verified record (followBoard, observe:
// SPEC.md §10.7), never from a node's /entries pages.
type Board struct {
	Manifest    *ballot.Manifest
	Fingerprint [32]byte
	Entries     []Entry
}

// OfType returns the entries of type t, in board order.
func (b *Board) OfType(t bulletin.EntryType) []Entry {
	var out []Entry
	for _, e := range b.Entries {
		if e.Entry.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// Has reports whether the board holds an entry of type t.
func (b *Board) Has(t bulletin.EntryType) bool { return len(b.OfType(t)) > 0 }

// Params returns the key-ceremony and tally parameters of the manifest.
func (b *Board) Params() *tally.Params { return tally.ManifestParams(b.Manifest) }

// Ceremony is the key ceremony as posted on the board.
type Ceremony = trustee.Ceremony

// Ceremony decodes the key-ceremony entries.
func (b *Board) Ceremony() (*Ceremony, error) {
	c, err := trustee.CeremonyOf(b.seqEntries())
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return c, nil
}

func (b *Board) seqEntries() []client.SeqEntry {
	out := make([]client.SeqEntry, len(b.Entries))
	for i, e := range b.Entries {
		out[i] = client.SeqEntry(e)
	}
	return out
}

// Qualified recomputes QUAL, the joint key and the verification keys from
// the key-ceremony entries (SPEC.md V7).
func (b *Board) Qualified() (qual []int, key *group.Element, vks []*group.Element, err error) {
	c, err := b.Ceremony()
	if err != nil {
		return nil, nil, nil, err
	}
	qual, key, vks, err = authority.Qualified(b.Params(), c)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("roles: %w", err)
	}
	return qual, key, vks, nil
}

// signEntry builds the entry of type t for the election fp, signed by key
// in role (SPEC.md §3.2), and returns its bytes.
func signEntry(rand io.Reader, fp [32]byte, t bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) ([]byte, error) {
	e, err := bulletin.NewEntry(t, fp, role, key.Public(), body)
	if err == nil {
		err = e.Sign(rand, key)
	}
	if err != nil {
		return nil, fmt.Errorf("roles: %s entry: %w", t, err)
	}
	return e.Bytes(), nil
}

// post signs and submits one entry and returns its position on the board.
func post(ctx context.Context, rand io.Reader, c *apiclient.Client, fp [32]byte, t bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) (apiclient.SubmitResult, error) {
	raw, err := signEntry(rand, fp, t, role, key, body)
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	return submit(ctx, c, t, raw)
}

// submit posts the signed entry raw of type t.
func submit(ctx context.Context, c *apiclient.Client, t bulletin.EntryType, raw []byte) (apiclient.SubmitResult, error) {
	res, err := c.SubmitOne(ctx, raw)
	if err != nil {
		return res, fmt.Errorf("roles: posting the %s entry: %w", t, err)
	}
	return res, nil
}

// followBoard reads the board as a party about to sign (SPEC.md §10.7):
// observe over nodes (the first reads the record, every one's checkpoint
// is compared) with the party's memory in dir, and the Board of the
// verified entries. Nothing of a node's /entries or status is acted on.
// An empty board is ErrNotReady; a record that does not verify, a stale
// view or a fork is ErrRefused to do what (a fork leaves evidence in dir).
// Unless lagging is allowed (a step that does not depend on the newest
// entries, like close), the record MUST reach every checkpoint shown
// (observeCurrent).
func followBoard(ctx context.Context, rand io.Reader, nodes []*apiclient.Client, dir, what string, lagging bool) (*client.Verified, *Board, error) {
	mem, err := OpenMemory(dir)
	if err != nil {
		return nil, nil, err
	}
	return followBoardWith(ctx, rand, nodes, mem, what, lagging)
}

// followBoardWith is followBoard with the party's memory open.
func followBoardWith(ctx context.Context, rand io.Reader, nodes []*apiclient.Client, mem *Memory, what string, lagging bool) (*client.Verified, *Board, error) {
	if empty, err := boardEmpty(ctx, nodes[0]); err != nil || empty {
		if err == nil {
			err = fmt.Errorf("%w: the board has no manifest yet", ErrNotReady)
		}
		return nil, nil, err
	}
	s, err := follow(ctx, rand, nodes, mem, [32]byte{}, !lagging)
	if err != nil {
		return s, nil, refused(what, err)
	}
	return s, verifiedBoard(s), nil
}

// boardEmpty reports whether c's board holds no entry yet. The node's
// status is informative only: it tells an empty board (nothing to verify,
// only the manifest to post) from one to follow. A node lying that its
// board is empty gains nothing: the board refuses a second manifest.
func boardEmpty(ctx context.Context, c *apiclient.Client) (bool, error) {
	st, err := c.Election(ctx)
	// An id that names no election of a board that runs several is as
	// empty as a board without a manifest (SPEC.md §3.14.6).
	if apiclient.IsCode(err, "not_found") || apiclient.IsCode(err, "unknown_election") {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return st.Counts.Entries == 0, nil
}

// signerAndBoard loads a party's signing key from dir with load, then
// follows the board with followBoard (the party's memory is in dir).
func signerAndBoard(ctx context.Context, rand io.Reader, nodes []*apiclient.Client, dir, what string, lagging bool, load func(string) (*schnorr.PrivateKey, error)) (*schnorr.PrivateKey, *Board, error) {
	sk, err := load(dir)
	if err != nil {
		return nil, nil, err
	}
	_, b, err := followBoard(ctx, rand, nodes, dir, what, lagging)
	if err != nil {
		return nil, nil, err
	}
	return sk, b, nil
}
