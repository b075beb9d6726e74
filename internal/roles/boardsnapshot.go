package roles

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/tally"
)

// Entry is one board entry, decoded.
type Entry struct {
	Seq   uint64
	Entry *bulletin.Entry
}

// Board is a snapshot of a board's entries with the election manifest
// decoded. It is what every flow reads before deciding what to post. The
// node is not trusted for anything that matters: signatures and proofs are
// rechecked where a decision depends on them, and the trustees verify the
// whole record before decrypting.
type Board struct {
	Manifest    *ballot.Manifest
	Fingerprint [32]byte
	Entries     []Entry
}

// FetchBoard reads every entry of the node's board. It fails with
// ErrNotReady when there is no manifest yet.
func FetchBoard(ctx context.Context, c *apiclient.Client) (*Board, error) {
	b := &Board{}
	err := c.AllEntries(ctx, 0, func(info httpapi.EntryInfo) error {
		e, err := bulletin.ParseEntry(info.Entry)
		if err != nil {
			return fmt.Errorf("roles: board entry %d: %w", info.Seq, err)
		}
		if info.Seq != uint64(len(b.Entries)) {
			return fmt.Errorf("roles: board entry %d out of order (want %d)", info.Seq, len(b.Entries))
		}
		b.Entries = append(b.Entries, Entry{Seq: info.Seq, Entry: e})
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
func (b *Board) Params() *tally.Params { return tally.ManifestParams(b.Manifest) }

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
		switch body := e.Entry.Body; e.Entry.Type {
		case bulletin.TypeDKGDeal:
			err = appendParsed(&c.Deals, body, tally.ParseDealerPost)
		case bulletin.TypeDKGComplaint:
			err = appendParsed(&c.Complaints, body, tally.ParseComplaint)
		case bulletin.TypeDKGReveal:
			err = appendParsed(&c.Reveals, body, tally.ParseReveal)
		case bulletin.TypeDKGConfirmation:
			var x *tally.Confirmation
			if x, err = tally.ParseConfirmation(body); err == nil {
				c.Confirmed[x.Trustee] = true
			}
		}
		if err != nil {
			return nil, fmt.Errorf("roles: board entry %d (%s): %w", e.Seq, e.Entry.Type, err)
		}
	}
	return c, nil
}

// appendParsed parses body and appends it to *dst.
func appendParsed[T any](dst *[]T, body []byte, parse func([]byte) (T, error)) error {
	v, err := parse(body)
	if err == nil {
		*dst = append(*dst, v)
	}
	return err
}

// JointKey returns the election key posted in the open entry.
func (b *Board) JointKey() (*group.Element, error) {
	opens := b.OfType(bulletin.TypeOpen)
	if len(opens) == 0 {
		return nil, fmt.Errorf("%w: the election is not open yet (no open entry)", ErrNotReady)
	}
	o, err := bulletin.ParseOpenBody(opens[0].Entry.Body)
	if err != nil {
		return nil, fmt.Errorf("roles: open entry: %w", err)
	}
	return o.JointKey, nil
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
	pk, err := b.JointKey()
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
// It fails with ErrNotReady before the close: there is nothing to decrypt.
func (b *Board) Partials() (map[int]*tally.PartialDecryption, error) {
	if !b.Has(bulletin.TypeClose) {
		return nil, fmt.Errorf("%w: the election is not closed yet", ErrNotReady)
	}
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
	res, err := c.SubmitOne(ctx, raw)
	if err != nil {
		return res, fmt.Errorf("roles: posting the %s entry: %w", t, err)
	}
	return res, nil
}

// signerAndBoard loads a party's signing key from dir with load, then
// reads the board.
func signerAndBoard(ctx context.Context, c *apiclient.Client, dir string, load func(string) (*schnorr.PrivateKey, error)) (*schnorr.PrivateKey, *Board, error) {
	sk, err := load(dir)
	if err != nil {
		return nil, nil, err
	}
	b, err := FetchBoard(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	return sk, b, nil
}
