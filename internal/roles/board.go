package roles

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/tally"
)

// Entry is one board entry, decoded.
type Entry struct {
	Seq   uint64
	Raw   []byte
	Entry *bulletin.Entry
}

// Board is a snapshot of a board's entries with the election manifest
// decoded. It is what every flow reads before deciding what to post. The
// node is not trusted for anything that matters: signatures and proofs are
// rechecked where a decision depends on them, and the trustees verify the
// whole record before decrypting.
type Board struct {
	Client      *apiclient.Client
	Manifest    *ballot.Manifest
	Fingerprint [32]byte
	Entries     []Entry
}

// FetchBoard reads every entry of the node's board. It fails with
// ErrNotReady when there is no manifest yet.
func FetchBoard(ctx context.Context, c *apiclient.Client) (*Board, error) {
	b := &Board{Client: c}
	err := c.AllEntries(ctx, 0, func(info api.Entry) error {
		e, err := bulletin.ParseEntry(info.Entry)
		if err != nil {
			return fmt.Errorf("roles: board entry %d: %w", info.Seq, err)
		}
		if info.Seq != uint64(len(b.Entries)) {
			return fmt.Errorf("roles: board entry %d out of order (want %d)", info.Seq, len(b.Entries))
		}
		b.Entries = append(b.Entries, Entry{Seq: info.Seq, Raw: info.Entry, Entry: e})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(b.Entries) == 0 {
		return nil, fmt.Errorf("%w: the board has no manifest yet", ErrNotReady)
	}
	first := b.Entries[0].Entry
	if first.Type != bulletin.TypeManifest {
		return nil, fmt.Errorf("roles: board entry 0 is a %s, not the manifest", first.Type)
	}
	m, err := ballot.ParseManifest(first.Body)
	if err != nil {
		return nil, fmt.Errorf("roles: board manifest: %w", err)
	}
	if err := first.VerifySignature(); err != nil || !first.Author.Equal(m.Authority) {
		return nil, errors.New("roles: board manifest is not signed by the authority it names")
	}
	b.Manifest, b.Fingerprint = m, m.Fingerprint()
	return b, nil
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
func (b *Board) Params() *tally.Params { return ParamsOf(b.Manifest) }

// ParamsOf returns the tally parameters of a manifest (SPEC.md §8.2).
func ParamsOf(m *ballot.Manifest) *tally.Params {
	p := &tally.Params{Fingerprint: m.Fingerprint(), N: len(m.Trustees), T: int(m.Threshold)}
	for i, t := range m.Trustees {
		p.Trustees = append(p.Trustees, tally.TrusteePublic{Index: i + 1, SigningKey: t.SigningKey, ShareKey: t.ShareKey})
	}
	return p
}

// Ceremony is the key ceremony as posted on the board.
type Ceremony struct {
	Deals      []*tally.DealerPost
	Complaints []*tally.Complaint
	Reveals    []*tally.Reveal
	Confirmed  map[int]bool // trustees that posted a confirmation
}

// Ceremony decodes the key-ceremony entries.
func (b *Board) Ceremony() (*Ceremony, error) {
	c := &Ceremony{Confirmed: map[int]bool{}}
	for _, e := range b.Entries {
		var err error
		switch e.Entry.Type {
		case bulletin.TypeDKGDeal:
			var p *tally.DealerPost
			if p, err = tally.ParseDealerPost(e.Entry.Body); err == nil {
				c.Deals = append(c.Deals, p)
			}
		case bulletin.TypeDKGComplaint:
			var x *tally.Complaint
			if x, err = tally.ParseComplaint(e.Entry.Body); err == nil {
				c.Complaints = append(c.Complaints, x)
			}
		case bulletin.TypeDKGReveal:
			var x *tally.Reveal
			if x, err = tally.ParseReveal(e.Entry.Body); err == nil {
				c.Reveals = append(c.Reveals, x)
			}
		case bulletin.TypeDKGConfirmation:
			var x *tally.Confirmation
			if x, err = tally.ParseConfirmation(e.Entry.Body); err == nil {
				c.Confirmed[x.Trustee] = true
			}
		}
		if err != nil {
			return nil, fmt.Errorf("roles: board entry %d (%s): %w", e.Seq, e.Entry.Type, err)
		}
	}
	return c, nil
}

// JointKey returns the election key posted in the open entry.
func (b *Board) JointKey() (*group.Element, *bulletin.OpenBody, error) {
	opens := b.OfType(bulletin.TypeOpen)
	if len(opens) == 0 {
		return nil, nil, fmt.Errorf("%w: the election is not open yet (no open entry)", ErrNotReady)
	}
	o, err := bulletin.ParseOpenBody(opens[0].Entry.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("roles: open entry: %w", err)
	}
	return o.JointKey, o, nil
}

// Qualified recomputes QUAL, the joint key and the verification keys from
// the key-ceremony entries (SPEC.md V7).
func (b *Board) Qualified() (qual []int, key *group.Element, vks []*group.Element, err error) {
	c, err := b.Ceremony()
	if err != nil {
		return nil, nil, nil, err
	}
	p := b.Params()
	qual, err = tally.Qualified(p, c.Deals, c.Complaints, c.Reveals)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("roles: key ceremony: %w", err)
	}
	key, err = tally.JointKey(p, c.Deals, qual)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("roles: key ceremony: %w", err)
	}
	vks, err = tally.VerificationKeys(p, c.Deals, qual)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("roles: key ceremony: %w", err)
	}
	return qual, key, vks, nil
}

// Aggregate applies the counting rule to the board's ballots (SPEC.md V8–V11):
// it verifies every cast ballot (proofs and envelope signature, batched)
// and every audited ballot, selects the last valid ballot per credential,
// and sums the counted ballots' ciphertexts. It returns the aggregate and
// the number of counted ballots.
func (b *Board) Aggregate(rand io.Reader) ([][]*ballot.Ciphertext, int, error) {
	pk, _, err := b.JointKey()
	if err != nil {
		return nil, 0, err
	}
	m := b.Manifest
	var (
		entries []ballot.CountEntry
		cts     [][][]*ballot.Ciphertext // per entry (nil for audited)
		cast    []*ballot.Ballot
		castAt  []int // index in entries
		envs    []*bulletin.Entry
	)
	for _, e := range b.Entries {
		switch e.Entry.Type {
		case bulletin.TypeBallot:
			bl, err := ballot.ParseBallot(e.Entry.Body)
			if err != nil {
				entries = append(entries, ballot.CountEntry{Valid: false})
				cts = append(cts, nil)
				continue
			}
			cast = append(cast, bl)
			castAt = append(castAt, len(entries))
			envs = append(envs, e.Entry)
			ce := ballot.CastEntry(bl, bl.Credential().Equal(e.Entry.Author))
			entries = append(entries, ce)
			cts = append(cts, bl.Ciphertexts())
		case bulletin.TypeAuditedBallot:
			a, err := ballot.ParseAuditedBallot(e.Entry.Body)
			valid := err == nil && e.Entry.VerifySignature() == nil &&
				a.Ballot.Credential().Equal(e.Entry.Author) && ballot.VerifyOpening(m, pk, a.Ballot, a.Opening) == nil
			if err != nil {
				entries = append(entries, ballot.CountEntry{Valid: false})
			} else {
				entries = append(entries, ballot.AuditEntry(a, valid))
			}
			cts = append(cts, nil)
		}
	}
	bad, err := ballot.VerifyBatch(rand, m, pk, cast, func(v *batch.Verifier, idx int) {
		envs[idx].AddToBatch(v, idx)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("roles: verifying ballots: %w", err)
	}
	for _, i := range bad {
		entries[castAt[i]].Valid = false
	}
	var counted [][][]*ballot.Ciphertext
	for _, i := range ballot.CountedIndexes(entries) {
		counted = append(counted, cts[i])
	}
	opts := make([]int, len(m.Questions))
	for q, mq := range m.Questions {
		opts[q] = len(mq.Options)
	}
	agg, err := tally.Aggregate(opts, counted)
	if err != nil {
		return nil, 0, fmt.Errorf("roles: aggregate: %w", err)
	}
	return agg, len(counted), nil
}

// Partials returns the partial decryptions on the board by trustee index.
func (b *Board) Partials() (map[int]*tally.PartialDecryption, error) {
	out := map[int]*tally.PartialDecryption{}
	for _, e := range b.OfType(bulletin.TypePartialDecryption) {
		pd, err := tally.ParsePartialDecryption(e.Entry.Body)
		if err != nil {
			return nil, fmt.Errorf("roles: board entry %d: %w", e.Seq, err)
		}
		if _, dup := out[pd.Trustee]; !dup {
			out[pd.Trustee] = pd
		}
	}
	return out, nil
}

// post signs and submits one entry and returns its position on the board.
func post(ctx context.Context, rand io.Reader, c *apiclient.Client, fp [32]byte, t bulletin.EntryType, role bulletin.Role, key *schnorr.PrivateKey, body []byte) (apiclient.SubmitResult, []byte, error) {
	e, err := bulletin.NewEntry(t, fp, role, key.Public(), body)
	if err != nil {
		return apiclient.SubmitResult{}, nil, fmt.Errorf("roles: %s entry: %w", t, err)
	}
	if err := e.Sign(rand, key); err != nil {
		return apiclient.SubmitResult{}, nil, fmt.Errorf("roles: %s entry: %w", t, err)
	}
	raw := e.Bytes()
	res, err := c.SubmitOne(ctx, raw)
	if err != nil {
		return res, raw, fmt.Errorf("roles: posting the %s entry: %w", t, err)
	}
	return res, raw, nil
}
