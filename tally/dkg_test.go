package tally

import (
	"bytes"
	"errors"
	"testing"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func TestDKGHonest(t *testing.T) {
	c := runCeremony(t, "honest", 4, 3)
	if len(c.qual) != 4 {
		t.Fatalf("QUAL = %v", c.qual)
	}
	// K is the image of the interpolated shares at 0 for any T of them.
	for _, set := range [][]int{{1, 2, 3}, {2, 3, 4}, {1, 2, 4}} {
		lam := Lagrange(set)
		x := group.NewScalar()
		for a, j := range set {
			x.Add(x, group.NewScalar().Mul(lam[a], c.shares[j-1].share))
		}
		if !group.NewElement().ScalarBaseMult(x).Equal(c.key) {
			t.Fatalf("set %v does not interpolate the joint key", set)
		}
	}
	for j, ks := range c.shares {
		if !ks.VerificationKey.Equal(c.vk[j]) || !ks.JointKey.Equal(c.key) {
			t.Fatalf("trustee %d key share inconsistent", j+1)
		}
		if len(c.reports[j].Complaints) != 0 || len(c.reports[j].Confirmation.Dealers) != 3 {
			t.Fatalf("trustee %d report %+v", j+1, c.reports[j])
		}
	}
}

func TestTrusteeKeyEncodings(t *testing.T) {
	rng := seeded.New("keys")
	s, err := GenerateTrustee(rng)
	if err != nil {
		t.Fatal(err)
	}
	b := s.Bytes()
	s2, err := ParseTrusteeSecret(b)
	if err != nil || !s2.Equal(s) || !bytes.Equal(s2.Public().Bytes(), s.Public().Bytes()) {
		t.Fatal("secret round trip", err)
	}
	pub, err := ParseTrusteePublic(s.Public().Bytes(), 3)
	if err != nil || pub.Index != 3 || !pub.SigningKey.Equal(s.SigningKey().Public()) {
		t.Fatal("public round trip", err)
	}
	bad := [][]byte{
		append(append([]byte{}, b...), 0), // trailing
		b[:len(b)-1],                      // short
		append([]byte{2}, b[1:]...),       // version
		append(append([]byte{1}, make([]byte, 32)...), b[33:]...),               // zero signing key
		append(append([]byte{1}, bytes.Repeat([]byte{0xff}, 32)...), b[33:]...), // unreduced scalar
	}
	for k, in := range bad {
		if _, err := ParseTrusteeSecret(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("bad secret %d accepted: %v", k, err)
		}
	}
	pb := s.Public().Bytes()
	for k, in := range [][]byte{append(append([]byte{}, pb...), 0), pb[:63], append(make([]byte, 32), pb[32:]...)} {
		if _, err := ParseTrusteePublic(in, 1); err == nil {
			t.Errorf("bad public %d accepted", k)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	c := runCeremony(t, "params", 3, 2)
	mut := []func(p *Params){
		func(p *Params) { p.T = 0 },
		func(p *Params) { p.T = 4 },
		func(p *Params) { p.N = 4 },
		func(p *Params) { p.Trustees[1].Index = 3 },
		func(p *Params) { p.Trustees[0].SigningKey = group.NewElement() },
		func(p *Params) { p.Trustees[2].ShareKey = p.Trustees[2].ShareKey[:31] },
	}
	for k, m := range mut {
		p := cloneParams(c.params)
		p.Trustees[0].ShareKey = append([]byte(nil), p.Trustees[0].ShareKey...)
		m(&p)
		if err := p.Validate(); !errors.Is(err, ErrParams) {
			t.Errorf("mutation %d accepted", k)
		}
	}
}

// mustReparse decodes the encoding b of a valid value afresh: tamperings
// change one field of such a copy.
func mustReparse[T any](b []byte, parse func([]byte) (T, error)) T {
	q, err := parse(b)
	if err != nil {
		panic(err)
	}
	return q
}

// tamperings returns every single-field modification of a dealer post.
func postTamperings(p *DealerPost) map[string]*DealerPost {
	cp := func() *DealerPost { return mustReparse(p.Bytes(), ParseDealerPost) }
	g := group.Generator()
	out := map[string]*DealerPost{}
	q := cp()
	q.Dealer = q.Dealer%3 + 1
	out["dealer index"] = q
	for k := range p.Commitments {
		q = cp()
		q.Commitments[k] = group.NewElement().Add(q.Commitments[k], g)
		out["commitment "+string(rune('0'+k))] = q
	}
	q = cp()
	q.Commitments = q.Commitments[:len(q.Commitments)-1]
	out["dropped commitment"] = q
	q = cp()
	q.Commitments = append(q.Commitments, g)
	out["extra commitment"] = q
	q = cp()
	q.Proof.R = group.NewElement().Add(q.Proof.R, g)
	out["proof R"] = q
	q = cp()
	q.Proof.Z = group.NewScalar().Add(q.Proof.Z, group.ScalarFromUint64(1))
	out["proof z"] = q
	q = cp()
	q.Shares = q.Shares[1:]
	out["dropped share"] = q
	return out
}

func TestDealerPostTampering(t *testing.T) {
	c := runCeremony(t, "tamper", 3, 2)
	post := c.posts[0]
	if err := CheckDealerPost(c.params, post); err != nil {
		t.Fatal(err)
	}
	for name, q := range postTamperings(post) {
		if err := CheckDealerPost(c.params, q); err == nil {
			t.Errorf("%s: accepted", name)
		}
		posts := []*DealerPost{q, c.posts[1], c.posts[2]}
		if q.Dealer != 1 {
			continue // would duplicate another dealer's post
		}
		dq, err := Disqualifications(c.params, posts, nil, nil)
		if err != nil || len(dq) != 1 || dq[0].Dealer != 1 {
			t.Errorf("%s: disqualifications %v %v", name, dq, err)
		}
	}
}

func TestProofOfKnowledgeBinding(t *testing.T) {
	c := runCeremony(t, "binding", 3, 2)
	post := c.posts[0]
	p2 := cloneParams(c.params)
	p2.Fingerprint[0] ^= 1
	if err := CheckDealerPost(&p2, post); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("proof accepted under another fingerprint: %v", err)
	}
	// The proof of dealer 1 does not verify for dealer 2 with the same commitments.
	q, _ := ParseDealerPost(post.Bytes())
	q.Dealer = 2
	q.Shares = c.posts[1].Shares
	if err := CheckDealerPost(c.params, q); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("proof moved to another dealer: %v", err)
	}
}

func TestShareAADBinding(t *testing.T) {
	c := runCeremony(t, "aad", 3, 2)
	fp := c.params.Fingerprint
	es := &c.posts[0].Shares[0] // dealer 1 -> trustee 2
	if es.Recipient != 2 {
		t.Fatal("layout")
	}
	if _, err := openShare(c.secrets[1], fp, 1, es); err != nil {
		t.Fatal(err)
	}
	// Trustee 3's key cannot open it, even relabelled for 3.
	relabel := *es
	relabel.Recipient = 3
	if _, err := openShare(c.secrets[2], fp, 1, &relabel); err == nil {
		t.Fatal("share for 2 opened by 3")
	}
	// Trustee 2's key, but the AAD for recipient 3, dealer 3, or another election.
	if _, err := openShare(c.secrets[1], fp, 1, &relabel); err == nil {
		t.Fatal("AAD does not bind the recipient")
	}
	if _, err := openShare(c.secrets[1], fp, 3, es); err == nil {
		t.Fatal("AAD does not bind the dealer")
	}
	fp[31] ^= 1
	if _, err := openShare(c.secrets[1], fp, 1, es); err == nil {
		t.Fatal("AAD does not bind the fingerprint")
	}
	// Every bit of enc and ciphertext matters.
	for k := 0; k < encSize+shareCiphertextSize; k++ {
		m := EncryptedShare{Recipient: 2, Enc: bytes.Clone(es.Enc), Ciphertext: bytes.Clone(es.Ciphertext)}
		if k < encSize {
			m.Enc[k] ^= 0x01
		} else {
			m.Ciphertext[k-encSize] ^= 0x80
		}
		if _, err := openShare(c.secrets[1], c.params.Fingerprint, 1, &m); err == nil {
			t.Fatalf("tampered byte %d accepted", k)
		}
	}
}

// badShare replaces dealer's share for recipient with the encryption of a wrong value.
func badShare(t testing.TB, c *ceremony, rng *seeded.Reader, dealer, recipient int) {
	t.Helper()
	for k := range c.posts[dealer-1].Shares {
		es := &c.posts[dealer-1].Shares[k]
		if es.Recipient != recipient {
			continue
		}
		wrong := evalPoly(c.states[dealer-1].coeffs, recipient)
		wrong.Add(wrong, group.ScalarFromUint64(1))
		n, err := sealShare(rng, c.params.Fingerprint, dealer, recipient, c.params.Trustees[recipient-1].ShareKey, wrong)
		if err != nil {
			t.Fatal(err)
		}
		*es = n
	}
}

func TestComplaintAnsweredByValidReveal(t *testing.T) {
	rng := seeded.New("complaint-ok")
	c := runCeremony(t, "complaint-ok", 4, 2)
	badShare(t, c, rng, 2, 4)
	rep, err := ReceiveShares(c.params, 4, c.secrets[3], c.posts)
	if err != nil || len(rep.Complaints) != 1 || *rep.Complaints[0] != (Complaint{Dealer: 2, Complainer: 4}) {
		t.Fatalf("complaints %v %v", rep.Complaints, err)
	}
	rv, err := c.states[1].Reveal(rep.Complaints[0])
	if err != nil || !CheckReveal(c.posts[1], rv) {
		t.Fatal("honest reveal rejected", err)
	}
	c.finish(t, nil, []*Reveal{rv})
	if len(c.qual) != 4 {
		t.Fatalf("dealer with valid reveal disqualified: %v", c.qual)
	}
}

func TestComplaintRules(t *testing.T) {
	rng := seeded.New("complaint-rules")
	c := runCeremony(t, "complaint-rules", 4, 2)
	badShare(t, c, rng, 2, 4)
	cp := &Complaint{Dealer: 2, Complainer: 4}
	good, _ := c.states[1].Reveal(cp)
	wrong := &Reveal{Dealer: 2, Complainer: 4, Share: group.NewScalar().Add(good.Share, group.ScalarFromUint64(1))}
	other := &Reveal{Dealer: 2, Complainer: 3, Share: evalPoly(c.states[1].coeffs, 3)}
	cases := []struct {
		name       string
		complaints []*Complaint
		reveals    []*Reveal
		qualified  bool
	}{
		{"no reveal", []*Complaint{cp}, nil, false},
		{"wrong reveal", []*Complaint{cp}, []*Reveal{wrong}, false},
		{"reveal for someone else", []*Complaint{cp}, []*Reveal{other}, false},
		{"first reveal counts", []*Complaint{cp}, []*Reveal{wrong, good}, false},
		{"valid reveal", []*Complaint{cp}, []*Reveal{good}, true},
		{"duplicate complaint", []*Complaint{cp, cp}, []*Reveal{good}, true},
		{"T complaints", []*Complaint{cp, {Dealer: 2, Complainer: 3}}, []*Reveal{good, other}, false},
		{"reveal without complaint", nil, []*Reveal{wrong}, true},
	}
	for _, tc := range cases {
		qual, err := Qualified(c.params, c.posts, tc.complaints, tc.reveals)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		in := len(qual) == 4
		if in != tc.qualified {
			t.Errorf("%s: QUAL = %v", tc.name, qual)
		}
	}
	for _, bad := range []*Complaint{{Dealer: 2, Complainer: 2}, {Dealer: 0, Complainer: 1}, {Dealer: 5, Complainer: 1}} {
		if _, err := Qualified(c.params, c.posts, []*Complaint{bad}, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("complaint %v accepted", bad)
		}
	}
	if _, err := Qualified(c.params, append(c.posts, c.posts[0]), nil, nil); !errors.Is(err, ErrMalformed) {
		t.Error("duplicate dealer post accepted")
	}
	// Finish refuses a qualified dealer whose share is missing.
	rep, _ := ReceiveShares(c.params, 4, c.secrets[3], c.posts)
	if _, err := c.states[3].Finish(c.params, rep, c.posts, nil, []int{1, 2, 3, 4}); !errors.Is(err, ErrInvalidShare) {
		t.Errorf("Finish without the share: %v", err)
	}
	if _, err := c.states[3].Finish(c.params, rep, c.posts, []*Reveal{wrong}, []int{1, 2, 3, 4}); !errors.Is(err, ErrInvalidShare) {
		t.Errorf("Finish with a wrong reveal: %v", err)
	}
	if _, err := c.states[1].Reveal(&Complaint{Dealer: 1, Complainer: 4}); err == nil {
		t.Error("reveal for another dealer's complaint")
	}
}

func TestTooFewQualified(t *testing.T) {
	c := runCeremony(t, "few", 3, 3)
	if _, err := Qualified(c.params, c.posts[:2], nil, nil); !errors.Is(err, ErrTooFewTrustees) {
		t.Fatalf("QUAL below T accepted: %v", err)
	}
	if _, err := JointKey(c.params, c.posts, []int{1, 2}); !errors.Is(err, ErrTooFewTrustees) {
		t.Fatal("JointKey below T")
	}
	if _, err := JointKey(c.params, c.posts, []int{2, 1, 3}); !errors.Is(err, ErrMalformed) {
		t.Fatal("unsorted QUAL")
	}
}

// reparsed parses b and fails t unless it parses and re-encodes to b.
func reparsed[T interface{ Bytes() []byte }](t *testing.T, b []byte, parse func([]byte) (T, error)) T {
	t.Helper()
	v, err := parse(b)
	if err != nil || !bytes.Equal(v.Bytes(), b) {
		t.Fatal("round trip:", err)
	}
	return v
}

func TestKeyShareEncoding(t *testing.T) {
	c := runCeremony(t, "keyshare", 3, 2)
	b := c.shares[1].Bytes()
	reparsed(t, b, ParseKeyShare)
	for k := range b {
		m := bytes.Clone(b)
		m[k] ^= 0x40
		if ks, err := ParseKeyShare(m); err == nil && bytes.Equal(ks.Bytes(), b) {
			t.Fatalf("byte %d ignored", k)
		} else if err == nil && k >= 38 && k < 102 { // x and X are tied by x·G == X
			t.Fatalf("tampered secret part at byte %d accepted", k)
		}
	}
	if _, err := ParseKeyShare(append(b, 0)); err == nil {
		t.Fatal("trailing byte")
	}
}

func TestDealerStateEncoding(t *testing.T) {
	c := runCeremony(t, "state", 3, 2)
	b := c.states[2].Bytes()
	st := reparsed(t, b, ParseDealerState)
	// The decoded state finishes like the original.
	ks, err := st.Finish(c.params, c.reports[2], c.posts, nil, c.qual)
	if err != nil || !ks.VerificationKey.Equal(c.vk[2]) {
		t.Fatal(err)
	}
	for _, in := range [][]byte{append(bytes.Clone(b), 0), b[:len(b)-1], append(bytes.Clone(b[:len(b)-32]), make([]byte, 32)...)} {
		if _, err := ParseDealerState(in); !errors.Is(err, ErrMalformed) {
			t.Error("bad state accepted")
		}
	}
}
