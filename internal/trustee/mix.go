package trustee

import (
	"fmt"
	"io"
	"slices"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/tally"
)

// Mix returns the trustee's shuffles (SPEC.md §11.3) of every mixed
// question of s it has not shuffled yet and whose decryption has not
// started, each of the cascade's current rows as the verified record holds
// them (never rows a node states). The caller MUST have verified the whole
// board and proved it current (SPEC.md §10.7). Randomness (the permutation,
// the re-encryptions, the proof) comes from rand, crypto/rand.Reader in
// production; the permutation is dropped on return.
func (b *Board) Mix(rand io.Reader, s *client.Verified) ([]Post, error) {
	if !s.Closed {
		return nil, fmt.Errorf("%w: the election is not closed yet", ErrNotReady)
	}
	if s.Cascades == nil {
		return nil, fmt.Errorf("%w: election %q has no ranked, score or write-in question to mix", ErrExists, b.Manifest.ElectionID)
	}
	var posts []Post
	for _, c := range s.Cascades {
		if slices.Contains(c.Shufflers, b.Me) || len(c.Decryptions) > 0 || c.Position != len(c.Shufflers) {
			// done, too late, or a cascade with an invalid shuffle: the
			// verifier reported it and nothing sound can follow it
			continue
		}
		ms, err := tally.Mix(rand, b.Fingerprint, s.JointKey, c.Question, b.Me, c.Position+1, c.Width, c.Rows)
		if err != nil {
			return nil, fmt.Errorf("roles: question %d: %w", c.Question+1, err)
		}
		posts = append(posts, Post{bulletin.TypeShuffle, ms.Bytes()})
	}
	if posts == nil {
		return nil, fmt.Errorf("%w: trustee %d has shuffled every mixed question it can", ErrExists, b.Me)
	}
	return posts, nil
}

// MixDecrypt returns the trustee's decryption shares (SPEC.md §11.4) of
// the last rows of every mixed question of s with at least T valid
// shuffles that it has not decrypted yet, from its key share recomputed as
// for Decrypt.
func (b *Board) MixDecrypt(rand io.Reader, s *client.Verified, sec *tally.TrusteeSecret, seed []byte) ([]Post, error) {
	if !s.Closed {
		return nil, fmt.Errorf("%w: the election is not closed yet", ErrNotReady)
	}
	var ready []*client.MixCascade
	for _, c := range s.Cascades {
		if c.Decryptions[b.Me] == nil && len(c.Shufflers) >= b.Params.T && c.Position == len(c.Shufflers) {
			ready = append(ready, c)
		}
	}
	if len(ready) == 0 {
		return nil, nil
	}
	share, err := b.keyShare(s, sec, seed)
	if err != nil {
		return nil, err
	}
	var posts []Post
	for _, c := range ready {
		md, err := tally.DecryptMix(rand, b.Params, share, c.Question, c.Width, c.Rows)
		if err != nil {
			return nil, fmt.Errorf("roles: question %d: %w", c.Question+1, err)
		}
		posts = append(posts, Post{bulletin.TypeMixDecryption, md.Bytes()})
	}
	return posts, nil
}
