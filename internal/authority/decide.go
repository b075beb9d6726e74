package authority

import (
	"fmt"
	"slices"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/trustee"
	"github.com/urna-vote/urna/tally"
)

// Qualified recomputes QUAL, the joint key and the verification keys from
// the key ceremony c (SPEC.md V7).
func Qualified(p *tally.Params, c *trustee.Ceremony) (qual []int, key *group.Element, vks []*group.Element, err error) {
	qual, err = tally.Qualified(p, c.Deals, c.Complaints, c.Reveals)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("key ceremony: %w", err)
	}
	key, err = tally.JointKey(p, c.Deals, qual)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("key ceremony: %w", err)
	}
	vks, err = tally.VerificationKeys(p, c.Deals, qual)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("key ceremony: %w", err)
	}
	return qual, key, vks, nil
}

// ready fails with ErrNotReady, naming who the ceremony c waits for,
// unless every trustee of the manifest (names) dealt and checked its
// shares and every complaint is answered.
func ready(c *trustee.Ceremony, p *tally.Params, names []string) error {
	dealt := map[int]bool{}
	for _, d := range c.Deals {
		dealt[d.Dealer] = true
	}
	for i := 1; i <= p.N; i++ {
		if !dealt[i] {
			return fmt.Errorf("%w: trustee %d (%s) has not dealt", ErrNotReady, i, names[i-1])
		}
	}
	for i := 1; i <= p.N; i++ {
		if !c.Confirmed[i] {
			return fmt.Errorf("%w: trustee %d (%s) has not checked its shares", ErrNotReady, i, names[i-1])
		}
	}
	for _, cp := range c.Complaints {
		if !slices.ContainsFunc(c.Reveals, func(r *tally.Reveal) bool { return r.Dealer == cp.Dealer && r.Complainer == cp.Complainer }) {
			return fmt.Errorf("%w: trustee %d has not answered the complaint of trustee %d", ErrNotReady, cp.Dealer, cp.Complainer)
		}
	}
	return nil
}

// Opening is the open entry the authority signs, and what it decided.
type Opening struct {
	Body     *bulletin.OpenBody
	Excluded []tally.Disqualification
}

// Open decides the open entry (SPEC.md §8.6) from the verified board s:
// the credential list MUST be posted and, unless force, the ceremony
// complete (Ready); QUAL and the joint key are recomputed from the
// ceremony's entries, never taken from a node.
func Open(s *client.Verified, force bool) (*Opening, error) {
	if !slices.ContainsFunc(s.Entries, func(e client.SeqEntry) bool { return e.Entry.Type == bulletin.TypeCredentials }) {
		return nil, fmt.Errorf("%w: the credential list is not posted yet", ErrNotReady)
	}
	cer, err := trustee.CeremonyOf(s.Entries)
	if err != nil {
		return nil, err
	}
	p := tally.ManifestParams(s.Manifest)
	if !force {
		names := make([]string, len(s.Manifest.Trustees))
		for i, t := range s.Manifest.Trustees {
			names[i] = t.Name
		}
		if err := ready(cer, p, names); err != nil {
			return nil, err
		}
	}
	qual, key, _, err := Qualified(p, cer)
	if err != nil {
		return nil, err
	}
	dq, _ := tally.Disqualifications(p, cer.Deals, cer.Complaints, cer.Reveals)
	body := &bulletin.OpenBody{JointKey: key}
	for _, i := range qual {
		body.Qualified = append(body.Qualified, uint16(i))
	}
	return &Opening{Body: body, Excluded: dq}, nil
}

// Result combines the valid partial decryptions of the verified board s
// into the result (SPEC.md §9.3–§9.4): the aggregate, the verification
// keys and the partial decryptions are those s recomputed from the record.
func Result(s *client.Verified) (*tally.Result, error) {
	if !s.Closed {
		return nil, fmt.Errorf("%w: the election is not closed yet", ErrNotReady)
	}
	if s.Result != nil {
		return nil, fmt.Errorf("%w: the board already holds the result", ErrExists)
	}
	p := tally.ManifestParams(s.Manifest)
	if len(s.Partials) < p.T {
		return nil, fmt.Errorf("%w: %d valid partial decryptions on the board, %d needed", ErrNotReady, len(s.Partials), p.T)
	}
	res, _, err := tally.Combine(p, s.VerificationKeys, s.Aggregate, s.Partials, s.MaxCount)
	if err != nil {
		return nil, fmt.Errorf("combining partial decryptions: %w", err)
	}
	// The mixed questions (SPEC.md §11.5): each cascade's last rows,
	// decrypted with its valid decryption shares, all from the verified
	// record (V14, V15).
	for _, c := range s.Cascades {
		if c.Position != len(c.Shufflers) {
			return nil, fmt.Errorf("question %d: a shuffle on the board failed V14; the cascade cannot be decrypted", c.Question+1)
		}
		if len(c.Shufflers) < p.T || len(c.Decryptions) < p.T {
			return nil, fmt.Errorf("%w: question %d has %d valid shuffles and %d valid decryptions, %d of each needed", ErrNotReady, c.Question+1, len(c.Shufflers), len(c.Decryptions), p.T)
		}
		a, err := tally.DecryptMixed(s.Manifest, p, c.Question, c.Rows, c.Decryptions)
		if err != nil {
			return nil, fmt.Errorf("decrypting question %d: %w", c.Question+1, err)
		}
		res.Mixed = append(res.Mixed, *a)
	}
	return res, nil
}
