package roles

import (
	"context"
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// dealerSeedDomain separates the dealer-seed stream from any other use of SHAKE256.
const dealerSeedDomain = "urna/v1/roles/trustee-dealer-seed"

// dealerStream is the deterministic randomness tally.Deal draws the
// polynomial from: SHAKE256(domain || fingerprint || index || seed).
func dealerStream(seed []byte, fp [32]byte, me int) io.Reader {
	h := sha3.NewSHAKE256()
	h.Write(wire.NewWriter(128).String(dealerSeedDomain).Fixed(fp[:]).U16(uint16(me)).Bytes(seed).Out())
	return h
}

// index returns the trustee's position (1..N) in the board's manifest.
func (t *Trustee) index(b *Board) (int, error) {
	me := b.Manifest.TrusteeIndex(t.Secret.SigningKey().Public())
	if me == 0 {
		return 0, fmt.Errorf("roles: trustee %q (%s) is not a trustee of election %q", t.Name, filepath.Join(t.Dir, TrusteeKeyFile), b.Manifest.ElectionID)
	}
	return me, nil
}

func (t *Trustee) seedPath() string { return filepath.Join(t.Dir, TrusteeDealerSeed) }

// loadSeed reads the dealer seed for the election, or returns nil if there is none.
func (t *Trustee) loadSeed(fp [32]byte) ([]byte, error) {
	var f dealerSeedFile
	err := readFile(t.seedPath(), kindDealerSeed, true, &f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if f.Election != hex.EncodeToString(fp[:]) {
		return nil, fmt.Errorf("roles: %s belongs to another election (%.16s…): move it away to deal for this one", t.seedPath(), f.Election)
	}
	seed, err := wire.DecodeB64(f.Seed)
	if err != nil || len(seed) != dealerSeedSize {
		return nil, fmt.Errorf("roles: %s: bad seed", t.seedPath())
	}
	return seed, nil
}

// dealerState re-derives the trustee's dealer polynomial from its seed and
// checks it against the deal on the board.
func (t *Trustee) dealerState(b *Board, me int, cer *Ceremony) (*tally.DealerState, error) {
	seed, err := t.loadSeed(b.Fingerprint)
	if err != nil {
		return nil, err
	}
	if seed == nil {
		return nil, fmt.Errorf("roles: no dealer seed in %s: this trustee has not dealt from this directory", t.Dir)
	}
	post, st, err := tally.Deal(dealerStream(seed, b.Fingerprint, me), b.Params(), me, t.Secret)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	for _, d := range cer.Deals {
		if d.Dealer != me {
			continue
		}
		if len(d.Commitments) != len(post.Commitments) {
			return nil, fmt.Errorf("roles: the deal on the board is not the one %s derives", t.seedPath())
		}
		for k := range d.Commitments {
			if !d.Commitments[k].Equal(post.Commitments[k]) {
				return nil, fmt.Errorf("roles: the deal on the board is not the one %s derives", t.seedPath())
			}
		}
		return st, nil
	}
	return nil, fmt.Errorf("%w: trustee %d has not dealt", ErrNotReady, me)
}

// Deal runs the trustee's first key-ceremony step (SPEC.md §8.3): it draws
// a dealer seed, saves it (0600) before posting, derives the polynomial,
// and posts the dealer post with the encrypted shares for the other trustees.
// Like every trustee step it reads the board only through followBoard:
// the verified record of c, consistent with the checkpoints of others and
// with the one the trustee remembers (SPEC.md §10.7).
func Deal(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, others ...*apiclient.Client) (apiclient.SubmitResult, error) {
	b, me, cer, err := t.fetch(ctx, rand, c, others, "deal")
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	for _, d := range cer.Deals {
		if d.Dealer == me {
			return apiclient.SubmitResult{}, fmt.Errorf("%w: trustee %d has already dealt", ErrExists, me)
		}
	}
	if !b.Has(bulletin.TypeCredentials) {
		return apiclient.SubmitResult{}, fmt.Errorf("%w: the key ceremony starts after the credential list is posted", ErrNotReady)
	}
	seed, err := t.loadSeed(b.Fingerprint)
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	if seed == nil {
		// A crash after saving but before posting reuses the saved seed.
		seed = make([]byte, dealerSeedSize)
		if _, err := io.ReadFull(rand, seed); err != nil {
			return apiclient.SubmitResult{}, fmt.Errorf("roles: reading randomness: %w", err)
		}
		f := &dealerSeedFile{Kind: kindDealerSeed, Election: hex.EncodeToString(b.Fingerprint[:]), Seed: wire.EncodeB64(seed)}
		if err := writeSecret(t.seedPath(), marshalFile(f)); err != nil {
			return apiclient.SubmitResult{}, err
		}
	}
	post, _, err := tally.Deal(dealerStream(seed, b.Fingerprint, me), b.Params(), me, t.Secret)
	if err != nil {
		return apiclient.SubmitResult{}, fmt.Errorf("roles: %w", err)
	}
	return postTrustee(ctx, rand, c, b, t, bulletin.TypeDKGDeal, post.Bytes())
}

func postTrustee(ctx context.Context, rand io.Reader, c *apiclient.Client, b *Board, t *Trustee, typ bulletin.EntryType, body []byte) (apiclient.SubmitResult, error) {
	return post(ctx, rand, c, b.Fingerprint, typ, bulletin.RoleTrustee, t.Secret.SigningKey(), body)
}

// fetch follows the board (followBoard, the trustee's memory in its
// directory) and returns the verified board, the trustee's index in its
// manifest and the key ceremony so far.
func (t *Trustee) fetch(ctx context.Context, rand io.Reader, c *apiclient.Client, others []*apiclient.Client, what string) (*Board, int, *Ceremony, error) {
	_, b, err := followBoard(ctx, rand, append([]*apiclient.Client{c}, others...), t.Dir, what, false)
	if err != nil {
		return nil, 0, nil, err
	}
	me, err := t.index(b)
	if err != nil {
		return nil, 0, nil, err
	}
	cer, err := b.Ceremony()
	if err != nil {
		return nil, 0, nil, err
	}
	return b, me, cer, nil
}

// CheckReport is the outcome of Check.
type CheckReport struct {
	Accepted   []int // dealers whose shares decrypted and matched their commitments
	Complaints []int // dealers complained about
}

// Check runs the trustee's receiving step (SPEC.md §8.5): it decrypts its
// share from every other dealer, checks it against the dealer's
// commitments, and posts a complaint for each bad share and then its
// confirmation. Unless force is set it waits (ErrNotReady) until every
// trustee has dealt.
func Check(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, force bool, others ...*apiclient.Client) (*CheckReport, error) {
	b, me, cer, err := t.fetch(ctx, rand, c, others, "check the shares")
	if err != nil {
		return nil, err
	}
	if cer.Confirmed[me] {
		return nil, fmt.Errorf("%w: trustee %d has already checked its shares", ErrExists, me)
	}
	p := b.Params()
	if !force && len(cer.Deals) < p.N {
		return nil, fmt.Errorf("%w: %d of %d trustees have dealt", ErrNotReady, len(cer.Deals), p.N)
	}
	rep, err := tally.ReceiveShares(p, me, t.Secret, cer.Deals)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	out := &CheckReport{Accepted: rep.Confirmation.Dealers}
	already := map[int]bool{}
	for _, cp := range cer.Complaints {
		if cp.Complainer == me {
			already[cp.Dealer] = true
		}
	}
	for _, cp := range rep.Complaints {
		out.Complaints = append(out.Complaints, cp.Dealer)
		if already[cp.Dealer] {
			continue
		}
		if _, err := postTrustee(ctx, rand, c, b, t, bulletin.TypeDKGComplaint, cp.Bytes()); err != nil {
			return nil, err
		}
	}
	if _, err := postTrustee(ctx, rand, c, b, t, bulletin.TypeDKGConfirmation, rep.Confirmation.Bytes()); err != nil {
		return nil, err
	}
	return out, nil
}

// Answer posts a reveal for every complaint against this trustee that is
// not answered yet (SPEC.md §8.5). It returns the complainers answered.
func Answer(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, others ...*apiclient.Client) ([]int, error) {
	b, me, cer, err := t.fetch(ctx, rand, c, others, "answer complaints")
	if err != nil {
		return nil, err
	}
	answered := map[int]bool{}
	for _, rv := range cer.Reveals {
		if rv.Dealer == me {
			answered[rv.Complainer] = true
		}
	}
	var todo []*tally.Complaint
	for _, cp := range cer.Complaints {
		if cp.Dealer == me && !answered[cp.Complainer] {
			answered[cp.Complainer] = true
			todo = append(todo, cp)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	st, err := t.dealerState(b, me, cer)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, cp := range todo {
		rv, err := st.Reveal(cp)
		if err != nil {
			return out, fmt.Errorf("roles: %w", err)
		}
		if _, err := postTrustee(ctx, rand, c, b, t, bulletin.TypeDKGReveal, rv.Bytes()); err != nil {
			return out, err
		}
		out = append(out, cp.Complainer)
	}
	return out, nil
}

// DecryptResult is the outcome of Decrypt.
type DecryptResult struct {
	Seq     uint64
	Index   int
	Counted int            // ballots in the aggregate
	Check   *VerifyOutcome // the trustee's own verification of the board
}

// Decrypt posts the trustee's partial decryption of the aggregate (SPEC.md
// §9.2), after the close. It reads the board only through observe: the
// whole election record, verified (package client, V1–V13 as far as the
// record reaches), covered by a quorum checkpoint, consistent with the
// newest checkpoint of c and of every other node, and extending the
// checkpoint the trustee remembers (MemoryFile in its directory). Unless
// all of that holds it refuses (ErrRefused) and posts nothing; a fork
// leaves evidence beside its keys. It then recomputes its key share from
// the verified key ceremony and its dealer seed, and decrypts the
// aggregate recomputed from the verified record (never one a node states),
// posting D = x·α for every sum with Chaum–Pedersen proofs, which bind the
// partial to that aggregate (SPEC.md §9.2).
func Decrypt(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, others ...*apiclient.Client) (*DecryptResult, error) {
	mem, err := OpenMemory(t.Dir)
	if err != nil {
		return nil, err
	}
	s, err := observeCurrent(ctx, rand, append([]*apiclient.Client{c}, others...), mem)
	if err != nil {
		var check *VerifyOutcome
		if s != nil && s.Report != nil {
			check = outcomeOf(s.Report)
		}
		return &DecryptResult{Check: check}, refused("decrypt", err)
	}
	b := verifiedBoard(s)
	me, err := t.index(b)
	if err != nil {
		return nil, err
	}
	if !s.Closed {
		return nil, fmt.Errorf("%w: the election is not closed yet", ErrNotReady)
	}
	if s.Partials[me] != nil || slices.Contains(s.Invalid, me) {
		return nil, fmt.Errorf("%w: trustee %d has already posted its partial decryption", ErrExists, me)
	}
	cer, err := b.Ceremony()
	if err != nil {
		return nil, err
	}
	qual, key, _, err := b.Qualified()
	if err != nil {
		return nil, err
	}
	if !key.Equal(s.JointKey) { // V7.7 passed, so this cannot happen
		return nil, fmt.Errorf("%w to decrypt: the open entry's joint key is not the key ceremony's", ErrRefused)
	}
	st, err := t.dealerState(b, me, cer)
	if err != nil {
		return nil, err
	}
	p := b.Params()
	rep, err := tally.ReceiveShares(p, me, t.Secret, cer.Deals)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	share, err := st.Finish(p, rep, cer.Deals, cer.Reveals, qual)
	if err != nil {
		return nil, fmt.Errorf("roles: computing the key share: %w", err)
	}
	pd, err := tally.PartialDecrypt(rand, p, share, s.Aggregate)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	res, err := postTrustee(ctx, rand, c, b, t, bulletin.TypePartialDecryption, pd.Bytes())
	if err != nil {
		return nil, err
	}
	return &DecryptResult{Seq: res.Seq, Index: me, Counted: s.Counted, Check: outcomeOf(s.Report)}, nil
}
