package roles

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally"
)

// ElectionSpec is what the election authority needs to build a manifest:
// the authoring JSON (ballot.ManifestJSON, SPEC.md §4.4) in which any key
// may be left empty, and the public files that fill them in.
type ElectionSpec struct {
	// Template is the authoring form of the manifest. Empty "authority",
	// "credential_authority", "trustees" or "board_nodes" are filled from
	// the fields below; a zero version means 1, a zero board quorum a
	// majority of the board nodes.
	Template []byte
	// CredentialAuthority is the path of the credential authority's public
	// file (credential-authority.pub), used when the template has no key.
	CredentialAuthority string
	// Trustees are the paths of the trustees' public files (trustee.pub), in
	// manifest order, used when the template lists no trustees.
	Trustees []string
	// BoardNodes fill "board_nodes" when the template lists none.
	BoardNodes []ballot.BoardNode
}

// BuildManifest fills the template of spec with the authority's own public
// key and the parties' public keys, and validates it (SPEC.md §4.1). A key
// already in the template MUST agree with the file that would fill it.
func BuildManifest(dir string, spec *ElectionSpec) (*ballot.Manifest, error) {
	sk, err := LoadAuthority(dir)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(spec.Template))
	dec.DisallowUnknownFields()
	var j ballot.ManifestJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("roles: manifest template: %w", err)
	}
	if j.Version == 0 {
		j.Version = ballot.ManifestVersion
	}
	own := wire.EncodeB64(sk.Public().Bytes())
	switch j.Authority {
	case "":
		j.Authority = own
	case own:
	default:
		return nil, fmt.Errorf("roles: manifest template names another authority key than %s", AuthorityKeyFile)
	}
	if spec.CredentialAuthority != "" {
		ca, err := LoadPublicKey(spec.CredentialAuthority, kindCAPublic)
		if err != nil {
			return nil, err
		}
		enc := wire.EncodeB64(ca.Bytes())
		if j.CredentialAuthority != "" && j.CredentialAuthority != enc {
			return nil, fmt.Errorf("roles: manifest template names another credential authority than %s", spec.CredentialAuthority)
		}
		j.CredentialAuthority = enc
	}
	if j.CredentialAuthority == "" {
		return nil, fmt.Errorf("roles: no credential authority key: give the credential authority's public file")
	}
	if len(spec.Trustees) > 0 {
		if len(j.Trustees) > 0 {
			return nil, fmt.Errorf("roles: the manifest template lists trustees and trustee files were given too")
		}
		for _, path := range spec.Trustees {
			t, err := LoadTrusteePublic(path)
			if err != nil {
				return nil, err
			}
			j.Trustees = append(j.Trustees, ballot.TrusteeJSON{Name: t.Name, SigningKey: wire.EncodeB64(t.SigningKey.Bytes()), ShareKey: wire.EncodeB64(t.ShareKey)})
		}
	}
	if len(spec.BoardNodes) > 0 {
		if len(j.BoardNodes) > 0 {
			return nil, fmt.Errorf("roles: the manifest template lists board nodes and board nodes were given too")
		}
		for _, n := range spec.BoardNodes {
			j.BoardNodes = append(j.BoardNodes, ballot.BoardNodeJSON{ID: n.ID, Key: wire.EncodeB64(n.Key)})
		}
	}
	if j.BoardQuorum == 0 {
		j.BoardQuorum = uint32(len(j.BoardNodes)/2 + 1)
	}
	m, err := j.Manifest()
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return m, nil
}

// CreateElection posts the manifest m, signed with the authority's key in
// dir (SPEC.md §4, the first entry of the board). Posting the same manifest
// again is harmless: it returns the existing entry's position. A board
// that already holds entries is read only through followBoard (verified,
// remembered in dir), never from its /entries pages.
func CreateElection(ctx context.Context, rand io.Reader, c *apiclient.Client, dir string, m *ballot.Manifest, others ...*apiclient.Client) (apiclient.SubmitResult, error) {
	sk, err := LoadAuthority(dir)
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	if !sk.Public().Equal(m.Authority) {
		return apiclient.SubmitResult{}, fmt.Errorf("roles: the manifest names another authority key than %s", AuthorityKeyFile)
	}
	empty, err := boardEmpty(ctx, c)
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	if !empty {
		_, b, err := followBoard(ctx, rand, append([]*apiclient.Client{c}, others...), dir, "create the election", false)
		switch {
		case err != nil:
			return apiclient.SubmitResult{}, err
		case b.Fingerprint == m.Fingerprint():
			return apiclient.SubmitResult{Seq: 0, ID: fmt.Sprintf("%x", b.Entries[0].Entry.ID())}, nil
		default:
			return apiclient.SubmitResult{}, fmt.Errorf("%w: the board already holds election %q", ErrExists, b.Manifest.ElectionID)
		}
	}
	res, err := post(ctx, rand, c, m.Fingerprint(), bulletin.TypeManifest, bulletin.RoleAuthority, sk, m.Bytes())
	return res, err
}

// OpenInfo describes an open entry.
type OpenInfo struct {
	Seq       uint64
	Qualified []int
	JointKey  []byte // canonical encoding of the election key
	Excluded  []tally.Disqualification
}

// Open recomputes QUAL and the joint election key from the key-ceremony
// entries (SPEC.md §8.6, V7) and posts the open entry. Unless force is
// set, it waits for nobody: it fails with ErrNotReady when a trustee has
// not dealt, not checked its shares, or a complaint is unanswered. The key
// ceremony is read only through followBoard (the verified record of c,
// consistent with others' checkpoints and the one remembered in dir), so
// a node hiding a dealer's post or a complaint makes it refuse
// (ErrRefused) or wait, never state another QUAL.
func Open(ctx context.Context, rand io.Reader, c *apiclient.Client, dir string, force bool, others ...*apiclient.Client) (*OpenInfo, error) {
	sk, b, err := signerAndBoard(ctx, rand, append([]*apiclient.Client{c}, others...), dir, "open", false, LoadAuthority)
	if err != nil {
		return nil, err
	}
	if !b.Has(bulletin.TypeCredentials) {
		return nil, fmt.Errorf("%w: the credential list is not posted yet", ErrNotReady)
	}
	cer, err := b.Ceremony()
	if err != nil {
		return nil, err
	}
	if !force {
		p := b.Params()
		dealt := map[int]bool{}
		for _, d := range cer.Deals {
			dealt[d.Dealer] = true
		}
		for i := 1; i <= p.N; i++ {
			if !dealt[i] {
				return nil, fmt.Errorf("%w: trustee %d (%s) has not dealt", ErrNotReady, i, b.Manifest.Trustees[i-1].Name)
			}
		}
		for i := 1; i <= p.N; i++ {
			if !cer.Confirmed[i] {
				return nil, fmt.Errorf("%w: trustee %d (%s) has not checked its shares", ErrNotReady, i, b.Manifest.Trustees[i-1].Name)
			}
		}
		for _, cp := range cer.Complaints {
			if !slices.ContainsFunc(cer.Reveals, func(r *tally.Reveal) bool { return r.Dealer == cp.Dealer && r.Complainer == cp.Complainer }) {
				return nil, fmt.Errorf("%w: trustee %d has not answered the complaint of trustee %d", ErrNotReady, cp.Dealer, cp.Complainer)
			}
		}
	}
	qual, key, _, err := b.Qualified()
	if err != nil {
		return nil, err
	}
	dq, _ := tally.Disqualifications(b.Params(), cer.Deals, cer.Complaints, cer.Reveals)
	body := &bulletin.OpenBody{JointKey: key}
	for _, i := range qual {
		body.Qualified = append(body.Qualified, uint16(i))
	}
	res, err := post(ctx, rand, c, b.Fingerprint, bulletin.TypeOpen, bulletin.RoleAuthority, sk, body.Bytes())
	if err != nil {
		return nil, err
	}
	return &OpenInfo{Seq: res.Seq, Qualified: qual, JointKey: key.Bytes(), Excluded: dq}, nil
}

// Close posts the close entry with a reason for people (SPEC.md §3.5),
// after following the board (followBoard): the checkpoint it remembers in
// dir then covers every ballot it saw before the close, which Tally later
// proves the record extends.
func Close(ctx context.Context, rand io.Reader, c *apiclient.Client, dir, reason string, others ...*apiclient.Client) (apiclient.SubmitResult, error) {
	sk, b, err := signerAndBoard(ctx, rand, append([]*apiclient.Client{c}, others...), dir, "close", true, LoadAuthority)
	if err != nil {
		return apiclient.SubmitResult{}, err
	}
	if reason == "" {
		reason = "voting closed by the election authority"
	}
	res, err := post(ctx, rand, c, b.Fingerprint, bulletin.TypeClose, bulletin.RoleAuthority, sk, (&bulletin.CloseBody{Reason: reason}).Bytes())
	return res, err
}

// TallyResult is the posted result with the texts of the manifest.
type TallyResult struct {
	Seq      uint64
	Result   *tally.Result
	Counted  int   // ballots counted
	Rejected []int // trustees whose partial decryption failed verification
	Manifest *ballot.Manifest
}

// Tally combines the partial decryptions and posts the result (SPEC.md
// §9.3–§9.4). It reads the board only through observe (see Decrypt; its
// memory is in dir): the aggregate, the verification keys and the valid
// partial decryptions are the ones recomputed from the verified record, so
// a node that shows a forged view makes it refuse (ErrRefused) instead of
// signing a result.
func Tally(ctx context.Context, rand io.Reader, c *apiclient.Client, dir string, others ...*apiclient.Client) (*TallyResult, error) {
	sk, err := LoadAuthority(dir)
	if err != nil {
		return nil, err
	}
	mem, err := OpenMemory(dir)
	if err != nil {
		return nil, err
	}
	s, err := observeCurrent(ctx, rand, append([]*apiclient.Client{c}, others...), mem)
	if err != nil {
		return nil, refused("tally", err)
	}
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
		return nil, fmt.Errorf("roles: combining partial decryptions: %w", err)
	}
	sub, err := post(ctx, rand, c, s.Fingerprint, bulletin.TypeResult, bulletin.RoleAuthority, sk, res.Bytes())
	if err != nil {
		return nil, err
	}
	return &TallyResult{Seq: sub.Seq, Result: res, Counted: s.Counted, Rejected: s.Invalid, Manifest: s.Manifest}, nil
}
