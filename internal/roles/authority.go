package roles

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/authority"
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
	j, err := authority.DecodeTemplate(spec.Template)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	if own := wire.EncodeB64(sk.Public().Bytes()); j.Authority != "" && j.Authority != own {
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
	m, err := authority.Complete(j, sk.Public())
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
	sk, err := LoadAuthority(dir)
	if err != nil {
		return nil, err
	}
	s, _, err := followBoard(ctx, rand, append([]*apiclient.Client{c}, others...), dir, "open", false)
	if err != nil {
		return nil, err
	}
	op, err := authority.Open(s, force)
	if err != nil {
		return nil, wrapAuthority(err)
	}
	res, err := post(ctx, rand, c, s.Fingerprint, bulletin.TypeOpen, bulletin.RoleAuthority, sk, op.Body.Bytes())
	if err != nil {
		return nil, err
	}
	qual := make([]int, len(op.Body.Qualified))
	for i, q := range op.Body.Qualified {
		qual[i] = int(q)
	}
	return &OpenInfo{Seq: res.Seq, Qualified: qual, JointKey: op.Body.JointKey.Bytes(), Excluded: op.Excluded}, nil
}

// wrapAuthority prefixes an error of package authority that is not one
// of its sentinels (which already read "roles: ...").
func wrapAuthority(err error) error {
	if errors.Is(err, ErrNotReady) || errors.Is(err, ErrExists) {
		return err
	}
	return fmt.Errorf("roles: %w", err)
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
	// StateUnused says why the authority's saved state was not used and
	// the whole record was verified instead; empty otherwise.
	StateUnused string
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
	res, err := authority.Result(s)
	if err != nil {
		return nil, wrapAuthority(err)
	}
	sub, err := post(ctx, rand, c, s.Fingerprint, bulletin.TypeResult, bulletin.RoleAuthority, sk, res.Bytes())
	if err != nil {
		return nil, err
	}
	return &TallyResult{Seq: sub.Seq, Result: res, Counted: s.Counted, Rejected: s.Invalid, Manifest: s.Manifest,
		StateUnused: outcomeOf(s).StateUnused}, nil
}
