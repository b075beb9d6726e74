package trustee

import (
	"crypto/sha3"
	"fmt"
	"io"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// dealerSeedDomain separates the dealer-seed stream from any other use of SHAKE256.
const dealerSeedDomain = "urna/v1/roles/trustee-dealer-seed"

// DealerStream is the deterministic randomness tally.Deal draws the
// polynomial from: SHAKE256(domain || fingerprint || index || seed).
func DealerStream(seed []byte, fp [32]byte, me int) io.Reader {
	h := sha3.NewSHAKE256()
	h.Write(wire.NewWriter(128).String(dealerSeedDomain).Fixed(fp[:]).U16(uint16(me)).Bytes(seed).Out())
	return h
}

// Ceremony is the key ceremony as posted on the board.
type Ceremony struct {
	Deals      []*tally.DealerPost
	Complaints []*tally.Complaint
	Reveals    []*tally.Reveal
	Confirmed  map[int]bool // trustees that posted a confirmation
}

// CeremonyOf decodes the key-ceremony entries among entries.
func CeremonyOf(entries []client.SeqEntry) (*Ceremony, error) {
	c := &Ceremony{Confirmed: map[int]bool{}}
	for _, e := range entries {
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
			return nil, fmt.Errorf("board entry %d (%s): %w", e.Seq, e.Entry.Type, err)
		}
	}
	return c, nil
}

func appendParsed[T any](dst *[]T, body []byte, parse func([]byte) (T, error)) error {
	v, err := parse(body)
	if err == nil {
		*dst = append(*dst, v)
	}
	return err
}

// Post is an entry body the trustee posts, before it is signed.
type Post struct {
	Type bulletin.EntryType
	Body []byte
}

// Sign builds and signs the trustee's entry of p for the election fp
// (SPEC.md §3.2) and returns its bytes.
func Sign(rand io.Reader, fp [32]byte, sec *tally.TrusteeSecret, p Post) ([]byte, error) {
	key := sec.SigningKey()
	e, err := bulletin.NewEntry(p.Type, fp, bulletin.RoleTrustee, key.Public(), p.Body)
	if err == nil {
		err = e.Sign(rand, key)
	}
	if err != nil {
		return nil, fmt.Errorf("roles: %s entry: %w", p.Type, err)
	}
	return e.Bytes(), nil
}

// Board is a verified board as one trustee sees it: the manifest, the
// trustee's index in it and the key ceremony so far. Build it only from
// verified entries (client.Verified.Entries).
type Board struct {
	Manifest    *ballot.Manifest
	Fingerprint [32]byte
	Params      *tally.Params
	Me          int // the trustee's index, 1..N
	Ceremony    *Ceremony
	credentials bool
}

// NewBoard finds the trustee whose secret is sec in the manifest m of the
// verified entries and decodes the key ceremony.
func NewBoard(m *ballot.Manifest, entries []client.SeqEntry, name string, sec *tally.TrusteeSecret) (*Board, error) {
	me := m.TrusteeIndex(sec.SigningKey().Public())
	if me == 0 {
		return nil, fmt.Errorf("roles: trustee %q is not a trustee of election %q", name, m.ElectionID)
	}
	cer, err := CeremonyOf(entries)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	b := &Board{Manifest: m, Fingerprint: m.Fingerprint(), Params: tally.ManifestParams(m), Me: me, Ceremony: cer}
	b.credentials = slices.ContainsFunc(entries, func(e client.SeqEntry) bool { return e.Entry.Type == bulletin.TypeCredentials })
	return b, nil
}

// Dealt reports whether the trustee's deal is on the board.
func (b *Board) Dealt() bool {
	return slices.ContainsFunc(b.Ceremony.Deals, func(d *tally.DealerPost) bool { return d.Dealer == b.Me })
}

// CanDeal fails unless the trustee may deal now (SPEC.md §8.3): after the
// credential list, once.
func (b *Board) CanDeal() error {
	if b.Dealt() {
		return fmt.Errorf("%w: trustee %d has already dealt", ErrExists, b.Me)
	}
	if !b.credentials {
		return fmt.Errorf("%w: the key ceremony starts after the credential list is posted", ErrNotReady)
	}
	return nil
}

// Deal returns the trustee's dealer post derived from seed (SPEC.md
// §8.3). The caller MUST have kept seed before it posts: the polynomial
// is needed again to answer complaints and to decrypt.
func (b *Board) Deal(sec *tally.TrusteeSecret, seed []byte) (Post, error) {
	if err := b.CanDeal(); err != nil {
		return Post{}, err
	}
	post, _, err := tally.Deal(DealerStream(seed, b.Fingerprint, b.Me), b.Params, b.Me, sec)
	if err != nil {
		return Post{}, fmt.Errorf("roles: %w", err)
	}
	return Post{bulletin.TypeDKGDeal, post.Bytes()}, nil
}

// DealerState re-derives the trustee's dealer polynomial from seed and
// checks it against its deal on the board.
func (b *Board) DealerState(sec *tally.TrusteeSecret, seed []byte) (*tally.DealerState, error) {
	if seed == nil {
		return nil, fmt.Errorf("roles: no dealer seed: trustee %d has not dealt with these keys", b.Me)
	}
	post, st, err := tally.Deal(DealerStream(seed, b.Fingerprint, b.Me), b.Params, b.Me, sec)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	for _, d := range b.Ceremony.Deals {
		if d.Dealer != b.Me {
			continue
		}
		if len(d.Commitments) != len(post.Commitments) {
			return nil, fmt.Errorf("roles: the deal on the board is not the one the dealer seed derives")
		}
		for k := range d.Commitments {
			if !d.Commitments[k].Equal(post.Commitments[k]) {
				return nil, fmt.Errorf("roles: the deal on the board is not the one the dealer seed derives")
			}
		}
		return st, nil
	}
	return nil, fmt.Errorf("%w: trustee %d has not dealt", ErrNotReady, b.Me)
}

// CheckResult is the outcome of Check.
type CheckResult struct {
	Accepted   []int // dealers whose shares decrypted and matched their commitments
	Complaints []int // dealers complained about
	// Posts are the complaints not on the board yet, then the confirmation.
	Posts []Post
}

// Check is the trustee's receiving step (SPEC.md §8.5): it decrypts its
// share from every other dealer, checks it against the dealer's
// commitments, and returns a complaint for each bad share and then its
// confirmation. Unless force is set it waits (ErrNotReady) until every
// trustee has dealt.
func (b *Board) Check(sec *tally.TrusteeSecret, force bool) (*CheckResult, error) {
	cer := b.Ceremony
	if cer.Confirmed[b.Me] {
		return nil, fmt.Errorf("%w: trustee %d has already checked its shares", ErrExists, b.Me)
	}
	if !force && len(cer.Deals) < b.Params.N {
		return nil, fmt.Errorf("%w: %d of %d trustees have dealt", ErrNotReady, len(cer.Deals), b.Params.N)
	}
	rep, err := tally.ReceiveShares(b.Params, b.Me, sec, cer.Deals)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	out := &CheckResult{Accepted: rep.Confirmation.Dealers}
	already := map[int]bool{}
	for _, cp := range cer.Complaints {
		if cp.Complainer == b.Me {
			already[cp.Dealer] = true
		}
	}
	for _, cp := range rep.Complaints {
		out.Complaints = append(out.Complaints, cp.Dealer)
		if !already[cp.Dealer] {
			out.Posts = append(out.Posts, Post{bulletin.TypeDKGComplaint, cp.Bytes()})
		}
	}
	out.Posts = append(out.Posts, Post{bulletin.TypeDKGConfirmation, rep.Confirmation.Bytes()})
	return out, nil
}

// Answer returns a reveal for every complaint against this trustee that
// is not answered yet (SPEC.md §8.5), and the complainers answered.
func (b *Board) Answer(sec *tally.TrusteeSecret, seed []byte) ([]int, []Post, error) {
	answered := map[int]bool{}
	for _, rv := range b.Ceremony.Reveals {
		if rv.Dealer == b.Me {
			answered[rv.Complainer] = true
		}
	}
	var todo []*tally.Complaint
	for _, cp := range b.Ceremony.Complaints {
		if cp.Dealer == b.Me && !answered[cp.Complainer] {
			answered[cp.Complainer] = true
			todo = append(todo, cp)
		}
	}
	if len(todo) == 0 {
		return nil, nil, nil
	}
	st, err := b.DealerState(sec, seed)
	if err != nil {
		return nil, nil, err
	}
	var who []int
	var posts []Post
	for _, cp := range todo {
		rv, err := st.Reveal(cp)
		if err != nil {
			return nil, nil, fmt.Errorf("roles: %w", err)
		}
		who = append(who, cp.Complainer)
		posts = append(posts, Post{bulletin.TypeDKGReveal, rv.Bytes()})
	}
	return who, posts, nil
}

// Decrypt returns the trustee's partial decryption (SPEC.md §9.2) of the
// aggregate of s, the verified board b was built from: the caller MUST
// have verified the whole board and proved it current (SPEC.md §10.7).
// It recomputes the trustee's key share from the verified key ceremony
// and its dealer seed, and decrypts the aggregate recomputed from the
// verified record (never one a node states), with Chaum–Pedersen proofs
// that bind the partial to that aggregate.
func (b *Board) Decrypt(rand io.Reader, s *client.Verified, sec *tally.TrusteeSecret, seed []byte) (Post, error) {
	if !s.Closed {
		return Post{}, fmt.Errorf("%w: the election is not closed yet", ErrNotReady)
	}
	if s.Partials[b.Me] != nil || slices.Contains(s.Invalid, b.Me) {
		return Post{}, fmt.Errorf("%w: trustee %d has already posted its partial decryption", ErrExists, b.Me)
	}
	share, err := b.keyShare(s, sec, seed)
	if err != nil {
		return Post{}, err
	}
	pd, err := tally.PartialDecrypt(rand, b.Params, share, s.Aggregate)
	if err != nil {
		return Post{}, fmt.Errorf("roles: %w", err)
	}
	return Post{bulletin.TypePartialDecryption, pd.Bytes()}, nil
}

// keyShare recomputes the trustee's key share from the verified key
// ceremony of s and its dealer seed.
func (b *Board) keyShare(s *client.Verified, sec *tally.TrusteeSecret, seed []byte) (*tally.KeyShare, error) {
	p, cer := b.Params, b.Ceremony
	qual, err := tally.Qualified(p, cer.Deals, cer.Complaints, cer.Reveals)
	if err != nil {
		return nil, fmt.Errorf("roles: key ceremony: %w", err)
	}
	key, err := tally.JointKey(p, cer.Deals, qual)
	if err != nil {
		return nil, fmt.Errorf("roles: key ceremony: %w", err)
	}
	if !key.Equal(s.JointKey) { // V7.7 passed, so this cannot happen
		return nil, fmt.Errorf("roles: refusing to decrypt: the open entry's joint key is not the key ceremony's")
	}
	st, err := b.DealerState(sec, seed)
	if err != nil {
		return nil, err
	}
	rep, err := tally.ReceiveShares(p, b.Me, sec, cer.Deals)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	share, err := st.Finish(p, rep, cer.Deals, cer.Reveals, qual)
	if err != nil {
		return nil, fmt.Errorf("roles: computing the key share: %w", err)
	}
	return share, nil
}
