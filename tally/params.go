package tally

import (
	"fmt"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
)

// MaxTrustees bounds N. Trustee indices are encoded as u16.
const MaxTrustees = 1000

// TrusteePublic is one trustee's public keys as the manifest lists them
// (SPEC.md §8.1). Index is the trustee's position in the manifest plus one,
// which is also its Shamir x-coordinate.
type TrusteePublic struct {
	Index      int
	SigningKey *group.Element // Schnorr key signing the trustee's board entries
	ShareKey   []byte         // HPKE X25519 public key receiving DKG shares, 32 bytes
}

// Params are the election parameters the key ceremony and the tally depend
// on, taken from the manifest (SPEC.md §8.2).
type Params struct {
	Fingerprint [32]byte // election fingerprint (SPEC.md §2.3)
	N, T        int      // number of trustees and threshold, 1 ≤ T ≤ N
	Trustees    []TrusteePublic
}

// ManifestParams returns the parameters m fixes (SPEC.md §8.2): its
// fingerprint, n = the number of trustees, T = its threshold, and trustee i
// = the manifest's i-th trustee (1-based, its Shamir x-coordinate) with its
// signing and share keys. It is the only place the parameters are derived
// from a manifest. The result is not validated: a manifest that passed
// ballot's checks gives valid parameters, anything else MUST be checked
// with Validate.
func ManifestParams(m *ballot.Manifest) *Params {
	p := &Params{Fingerprint: m.Fingerprint(), N: len(m.Trustees), T: int(m.Threshold)}
	for i, t := range m.Trustees {
		p.Trustees = append(p.Trustees, TrusteePublic{Index: i + 1, SigningKey: t.SigningKey, ShareKey: t.ShareKey})
	}
	return p
}

// Validate checks p: 1 ≤ T ≤ N ≤ MaxTrustees, exactly N trustees with
// indices 1..N in order, non-identity signing keys and valid X25519 share keys.
func (p *Params) Validate() error {
	if p == nil {
		return fmt.Errorf("%w: nil", ErrParams)
	}
	if p.N < 1 || p.N > MaxTrustees || p.T < 1 || p.T > p.N {
		return fmt.Errorf("%w: N=%d T=%d", ErrParams, p.N, p.T)
	}
	if len(p.Trustees) != p.N {
		return fmt.Errorf("%w: %d trustees listed, N=%d", ErrParams, len(p.Trustees), p.N)
	}
	for k, tr := range p.Trustees {
		if tr.Index != k+1 {
			return fmt.Errorf("%w: trustee at position %d has index %d", ErrParams, k, tr.Index)
		}
		if tr.SigningKey == nil || tr.SigningKey.IsIdentity() {
			return fmt.Errorf("%w: trustee %d signing key", ErrParams, tr.Index)
		}
		if _, err := parseShareKey(tr.ShareKey); err != nil {
			return fmt.Errorf("%w: trustee %d share key", ErrParams, tr.Index)
		}
	}
	return nil
}

// inRange reports whether i is a trustee index of p.
func (p *Params) inRange(i int) bool { return i >= 1 && i <= p.N }
