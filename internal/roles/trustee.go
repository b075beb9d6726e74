package roles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/trustee"
)

// dealerStream is trustee.DealerStream (the tests derive deals with it).
var dealerStream = trustee.DealerStream

func (t *Trustee) seedPath() string { return filepath.Join(t.Dir, TrusteeDealerSeed) }

// loadSeed reads the dealer seed for the election: the one in the
// directory, else the one the key file carries (saved by the web page),
// or nil if there is none. Two different seeds are an error.
func (t *Trustee) loadSeed(fp [32]byte) ([]byte, error) {
	fromKey, err := t.Seed.For(fp)
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w", filepath.Join(t.Dir, TrusteeKeyFile), err)
	}
	data, err := keyfile.Read(t.seedPath())
	if errors.Is(err, fs.ErrNotExist) {
		return fromKey, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := trustee.ParseDealerSeed(data)
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w", t.seedPath(), err)
	}
	seed, err := s.For(fp)
	if err != nil {
		return nil, fmt.Errorf("roles: %s: %w: move it away to deal for this one", t.seedPath(), err)
	}
	if fromKey != nil && !bytes.Equal(fromKey, seed) {
		return nil, fmt.Errorf("roles: %s and the dealer seed in %s differ: keep the one the board's deal was made with", t.seedPath(), TrusteeKeyFile)
	}
	return seed, nil
}

// Deal runs the trustee's first key-ceremony step (SPEC.md §8.3): it draws
// a dealer seed, saves it (0600) before posting, derives the polynomial,
// and posts the dealer post with the encrypted shares for the other trustees.
// Like every trustee step it reads the board only through followBoard:
// the verified record of c, consistent with the checkpoints of others and
// with the one the trustee remembers (SPEC.md §10.7).
func Deal(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, others ...*apiclient.Client) (apiclient.SubmitResult, error) {
	b, err := t.fetch(ctx, rand, c, others, "deal")
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	if err := b.CanDeal(); err != nil {
		return apiclient.SubmitResult{}, err
	}
	seed, err := t.loadSeed(b.Fingerprint)
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	if seed == nil {
		// A crash after saving but before posting reuses the saved seed.
		s, err := trustee.NewSeed(rand, b.Fingerprint)
		if err != nil {
			return apiclient.SubmitResult{}, err
		}
		if err := writeSecret(t.seedPath(), s.File()); err != nil {
			return apiclient.SubmitResult{}, err
		}
		seed = s.Bytes
	}
	p, err := b.Deal(t.Secret, seed)
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	return postTrustee(ctx, rand, c, b, t, p)
}

func postTrustee(ctx context.Context, rand io.Reader, c *apiclient.Client, b *trustee.Board, t *Trustee, p trustee.Post) (apiclient.SubmitResult, error) {
	raw, err := trustee.Sign(rand, b.Fingerprint, t.Secret, p)
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	return submit(ctx, c, p.Type, raw)
}

// memory opens the trustee's memory in its directory, with the
// checkpoints its key file remembers (saved by the web page).
func (t *Trustee) memory() (*Memory, error) {
	mem, err := OpenMemory(t.Dir)
	if err != nil {
		return nil, err
	}
	mem.Also(t.Memory)
	return mem, nil
}

// fetch follows the board (followBoard, the trustee's memory) and returns
// the verified board as the trustee sees it: its index in the manifest
// and the key ceremony so far.
func (t *Trustee) fetch(ctx context.Context, rand io.Reader, c *apiclient.Client, others []*apiclient.Client, what string) (*trustee.Board, error) {
	mem, err := t.memory()
	if err != nil {
		return nil, err
	}
	s, _, err := followBoardWith(ctx, rand, append([]*apiclient.Client{c}, others...), mem, what, false)
	if err != nil {
		return nil, err
	}
	return trustee.NewBoard(s.Manifest, s.Entries, t.Name, t.Secret)
}

// CheckReport is the outcome of Check.
type CheckReport struct {
	Accepted   []int // dealers whose shares decrypted and matched their commitments
	Complaints []int // dealers complained about
}

// Check runs the trustee's receiving step (SPEC.md §8.5): it decrypts its
// share from every other dealer, checks it against the dealer's
// commitments, and posts a complaint for each bad share and then its
// confirmation (trustee.Board.Check). Unless force is set it waits
// (ErrNotReady) until every trustee has dealt.
func Check(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, force bool, others ...*apiclient.Client) (*CheckReport, error) {
	b, err := t.fetch(ctx, rand, c, others, "check the shares")
	if err != nil {
		return nil, err
	}
	res, err := b.Check(t.Secret, force)
	if err != nil {
		return nil, err
	}
	for _, p := range res.Posts {
		if _, err := postTrustee(ctx, rand, c, b, t, p); err != nil {
			return nil, err
		}
	}
	return &CheckReport{Accepted: res.Accepted, Complaints: res.Complaints}, nil
}

// Answer posts a reveal for every complaint against this trustee that is
// not answered yet (SPEC.md §8.5). It returns the complainers answered.
func Answer(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, others ...*apiclient.Client) ([]int, error) {
	b, err := t.fetch(ctx, rand, c, others, "answer complaints")
	if err != nil {
		return nil, err
	}
	var seed []byte
	if len(b.Ceremony.Complaints) > 0 {
		if seed, err = t.loadSeed(b.Fingerprint); err != nil {
			return nil, err
		}
	}
	who, posts, err := b.Answer(t.Secret, seed)
	if err != nil {
		return nil, err
	}
	var out []int
	for i, p := range posts {
		if _, err := postTrustee(ctx, rand, c, b, t, p); err != nil {
			return out, err
		}
		out = append(out, who[i])
	}
	return out, nil
}

// DecryptResult is the outcome of Decrypt.
type DecryptResult struct {
	Seq     uint64
	Index   int
	Counted int            // ballots in the aggregate
	Mixed   int            // mixed questions decrypted (SPEC.md §11.4)
	Check   *VerifyOutcome // the trustee's own verification of the board
}

// Decrypt posts the trustee's partial decryption of the aggregate (SPEC.md
// §9.2), after the close. It reads the board only through observe: the
// whole election record, verified (package client, V1–V13 as far as the
// record reaches), covered by a quorum checkpoint, consistent with the
// newest checkpoint of c and of every other node, and extending the
// checkpoint the trustee remembers (MemoryFile in its directory, and its
// key file's). Unless all of that holds it refuses (ErrRefused) and posts
// nothing; a fork leaves evidence beside its keys. trustee.Board.Decrypt
// then recomputes its key share from the verified key ceremony and its
// dealer seed, and decrypts the aggregate recomputed from the verified
// record (never one a node states), posting D = x·α for every sum with
// Chaum–Pedersen proofs, which bind the partial to that aggregate
// (SPEC.md §9.2).
func Decrypt(ctx context.Context, rand io.Reader, c *apiclient.Client, t *Trustee, others ...*apiclient.Client) (*DecryptResult, error) {
	mem, err := t.memory()
	if err != nil {
		return nil, err
	}
	s, err := observeCurrent(ctx, rand, append([]*apiclient.Client{c}, others...), mem)
	if err != nil {
		var check *VerifyOutcome
		if s != nil && s.Report != nil {
			check = outcomeOf(s)
		}
		return &DecryptResult{Check: check}, refused("decrypt", err)
	}
	b, err := trustee.NewBoard(s.Manifest, s.Entries, t.Name, t.Secret)
	if err != nil {
		return nil, err
	}
	var seed []byte
	if s.Closed {
		if seed, err = t.loadSeed(b.Fingerprint); err != nil {
			return nil, err
		}
	}
	var posts []trustee.Post
	p, err := b.Decrypt(rand, s, t.Secret, seed)
	switch {
	case err == nil:
		posts = append(posts, p)
	case !errors.Is(err, trustee.ErrExists):
		return nil, err
	}
	// The decryption shares of the mixed questions whose cascade has T
	// shuffles (SPEC.md §11.4), from the same verified board.
	mixed, merr := b.MixDecrypt(rand, s, t.Secret, seed)
	if merr != nil {
		return nil, merr
	}
	if len(posts) == 0 && len(mixed) == 0 {
		return nil, err // ErrExists: nothing left to decrypt
	}
	out := &DecryptResult{Index: b.Me, Counted: s.Counted, Check: outcomeOf(s)}
	for _, p := range append(posts, mixed...) {
		res, err := postTrustee(ctx, rand, c, b, t, p)
		if err != nil {
			return out, err
		}
		out.Seq = res.Seq
		if p.Type == bulletin.TypeMixDecryption {
			out.Mixed++
		}
	}
	return out, nil
}
