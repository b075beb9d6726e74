package tally

import (
	"fmt"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// Encodings of the key-ceremony objects (SPEC.md §8.7). Trustee indices are
// u16 in 1..MaxTrustees. Decoders check structure only (canonical
// elements, ranges, order, exact length); CheckDealerPost and Qualified
// check them against the parameters.

func readIndex(r *wire.Reader, what string) int {
	v := int(r.U16(what))
	if r.Err() == nil && (v < 1 || v > MaxTrustees) {
		r.Failf("%s: index %d out of range", what, v)
	}
	return v
}

// readNextIndex reads the next index of a list that is strictly increasing
// and never names self (a dealer's recipients, a trustee's dealers).
func readNextIndex(r *wire.Reader, what string, prev *int, self int) int {
	j := readIndex(r, what)
	if r.Err() == nil && (j <= *prev || j == self) {
		r.Failf("%s %d out of order", what, j)
	}
	*prev = j
	return j
}

func malformed(err error) error { return fmt.Errorf("%w: %w", ErrMalformed, err) }

// Bytes returns the canonical encoding of p (SPEC.md §8.7):
//
//	u16 dealer || u32 T || T × C_k (32) || R (32) || z (32) ||
//	u32 count || count × (u16 recipient || enc (32) || ciphertext (48))
func (p *DealerPost) Bytes() []byte {
	w := wire.NewWriter(2 + 4 + 32*len(p.Commitments) + 64 + 4 + len(p.Shares)*(2+encSize+shareCiphertextSize))
	w.U16(uint16(p.Dealer)).Count(len(p.Commitments))
	for _, c := range p.Commitments {
		w.Element(c)
	}
	w.Element(p.Proof.R).Scalar(p.Proof.Z).Count(len(p.Shares))
	for _, s := range p.Shares {
		w.U16(uint16(s.Recipient)).Fixed(s.Enc).Fixed(s.Ciphertext)
	}
	return w.Out()
}

// ParseDealerPost decodes DealerPost.Bytes strictly: 1 ≤ T ≤ MaxTrustees
// non-identity commitments, a non-identity R, canonical z, recipients
// strictly increasing and different from the dealer, no trailing bytes.
func ParseDealerPost(b []byte) (*DealerPost, error) {
	r := wire.NewReader(b)
	p := &DealerPost{Dealer: readIndex(r, "dealer")}
	t := r.Count("commitment count", MaxTrustees)
	if r.Err() == nil && t == 0 {
		r.Failf("no commitments")
	}
	for k := 0; k < t && r.Err() == nil; k++ {
		p.Commitments = append(p.Commitments, r.NonIdentity("commitment"))
	}
	p.Proof.R = r.NonIdentity("proof R")
	p.Proof.Z = r.Scalar("proof z")
	n := r.Count("share count", MaxTrustees-1)
	prev := 0
	for k := 0; k < n && r.Err() == nil; k++ {
		j := readNextIndex(r, "recipient", &prev, p.Dealer)
		p.Shares = append(p.Shares, EncryptedShare{Recipient: j, Enc: r.Fixed("enc", encSize), Ciphertext: r.Fixed("ciphertext", shareCiphertextSize)})
	}
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return p, nil
}

// Bytes returns u16 recipient || enc (32) || ciphertext (48).
func (s *EncryptedShare) Bytes() []byte {
	return wire.NewWriter(2 + encSize + shareCiphertextSize).U16(uint16(s.Recipient)).Fixed(s.Enc).Fixed(s.Ciphertext).Out()
}

// ParseEncryptedShare decodes EncryptedShare.Bytes.
func ParseEncryptedShare(b []byte) (*EncryptedShare, error) {
	r := wire.NewReader(b)
	s := &EncryptedShare{Recipient: readIndex(r, "recipient"), Enc: r.Fixed("enc", encSize), Ciphertext: r.Fixed("ciphertext", shareCiphertextSize)}
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return s, nil
}

// Bytes returns u16 dealer || u16 complainer.
func (c *Complaint) Bytes() []byte {
	return wire.NewWriter(4).U16(uint16(c.Dealer)).U16(uint16(c.Complainer)).Out()
}

// ParseComplaint decodes Complaint.Bytes; dealer and complainer MUST differ.
func ParseComplaint(b []byte) (*Complaint, error) {
	r := wire.NewReader(b)
	c := &Complaint{Dealer: readIndex(r, "dealer"), Complainer: readIndex(r, "complainer")}
	if r.Err() == nil && c.Dealer == c.Complainer {
		r.Failf("complaint against oneself")
	}
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return c, nil
}

// Bytes returns u16 trustee || u32 count || count × u16 dealer (strictly increasing).
func (c *Confirmation) Bytes() []byte {
	w := wire.NewWriter(6 + 2*len(c.Dealers)).U16(uint16(c.Trustee)).Count(len(c.Dealers))
	for _, d := range c.Dealers {
		w.U16(uint16(d))
	}
	return w.Out()
}

// ParseConfirmation decodes Confirmation.Bytes: dealers strictly
// increasing and different from the trustee.
func ParseConfirmation(b []byte) (*Confirmation, error) {
	r := wire.NewReader(b)
	c := &Confirmation{Trustee: readIndex(r, "trustee")}
	n := r.Count("dealer count", MaxTrustees-1)
	prev := 0
	for k := 0; k < n && r.Err() == nil; k++ {
		c.Dealers = append(c.Dealers, readNextIndex(r, "dealer", &prev, c.Trustee))
	}
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return c, nil
}

// Bytes returns u16 dealer || u16 complainer || share (32).
func (rv *Reveal) Bytes() []byte {
	return wire.NewWriter(4 + group.Size).U16(uint16(rv.Dealer)).U16(uint16(rv.Complainer)).Scalar(rv.Share).Out()
}

// ParseReveal decodes Reveal.Bytes; dealer and complainer MUST differ.
func ParseReveal(b []byte) (*Reveal, error) {
	r := wire.NewReader(b)
	rv := &Reveal{Dealer: readIndex(r, "dealer"), Complainer: readIndex(r, "complainer")}
	if r.Err() == nil && rv.Dealer == rv.Complainer {
		r.Failf("reveal to oneself")
	}
	rv.Share = r.Scalar("share")
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return rv, nil
}

// KeyShareSize is the length of an encoded KeyShare.
const KeyShareSize = 32 + 3*2 + 3*group.Size

// Bytes returns the key-file encoding of k (SPEC.md §8.6):
// fingerprint (32) || u16 N || u16 T || u16 index || x (32) || X (32) || K (32).
func (k *KeyShare) Bytes() []byte {
	return wire.NewWriter(KeyShareSize).Fixed(k.Fingerprint[:]).U16(uint16(k.N)).U16(uint16(k.T)).U16(uint16(k.Index)).
		Scalar(k.share).Element(k.VerificationKey).Element(k.JointKey).Out()
}

// readSecretHeader reads what a key share and a dealer state start with:
// the election fingerprint, N, T and the holder's index (named what), with
// 1 ≤ T ≤ N ≤ MaxTrustees and 1 ≤ index ≤ N.
func readSecretHeader(r *wire.Reader, what string) (fp [32]byte, n, t, index int) {
	copy(fp[:], r.Fixed("fingerprint", 32))
	n, t, index = int(r.U16("N")), int(r.U16("T")), int(r.U16(what))
	if r.Err() == nil && (n < 1 || n > MaxTrustees || t < 1 || t > n || index < 1 || index > n) {
		r.Failf("N=%d T=%d %s=%d", n, t, what, index)
	}
	return fp, n, t, index
}

// ParseKeyShare decodes KeyShare.Bytes and checks 1 ≤ T ≤ N, 1 ≤ index ≤ N,
// X and K not the identity, and x·G == X.
func ParseKeyShare(b []byte) (*KeyShare, error) {
	r := wire.NewReader(b)
	k := &KeyShare{}
	k.Fingerprint, k.N, k.T, k.Index = readSecretHeader(r, "index")
	k.share = r.Scalar("share")
	k.VerificationKey = r.NonIdentity("verification key")
	k.JointKey = r.NonIdentity("joint key")
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	if !group.NewElement().ScalarBaseMult(k.share).Equal(k.VerificationKey) {
		return nil, fmt.Errorf("%w: key share does not match its verification key", ErrMalformed)
	}
	return k, nil
}

// Bytes returns the secret encoding of st, so a trustee can keep it between
// rounds (SPEC.md §8.3): fp (32) || u16 N || u16 T || u16 dealer || T × a_k (32).
// It MUST be stored like a key file.
func (st *DealerState) Bytes() []byte {
	w := wire.NewWriter(38 + 32*len(st.coeffs)).Fixed(st.fp[:]).U16(uint16(st.n)).U16(uint16(st.t)).U16(uint16(st.me))
	for _, a := range st.coeffs {
		w.Scalar(a)
	}
	return w.Out()
}

// ParseDealerState decodes DealerState.Bytes (1 ≤ T ≤ N, 1 ≤ dealer ≤ N, non-zero coefficients).
func ParseDealerState(b []byte) (*DealerState, error) {
	r := wire.NewReader(b)
	st := &DealerState{}
	st.fp, st.n, st.t, st.me = readSecretHeader(r, "dealer")
	for k := 0; k < st.t && r.Err() == nil; k++ {
		a := r.Scalar("coefficient")
		if a != nil && a.IsZero() {
			r.Failf("zero coefficient")
		}
		st.coeffs = append(st.coeffs, a)
	}
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return st, nil
}
