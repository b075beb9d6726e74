package tally

import (
	"fmt"
	"io"
	"slices"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
)

const (
	// shareCiphertextSize is the HPKE ciphertext of a 32-byte scalar: 32 + 16-byte tag.
	shareCiphertextSize = group.Size + 16
	// encSize is the length of the HPKE encapsulated key (X25519 public key).
	encSize = ShareKeySize
)

// DLogProof is a Schnorr proof of knowledge of a dealer's constant term
// a_i0 = log_G C_i0 (SPEC.md §8.3). It carries its commitment R so it
// can be batched.
type DLogProof struct {
	R *group.Element
	Z *group.Scalar
}

// EncryptedShare is the HPKE encryption of s_ij = f_i(j) for recipient j (SPEC.md §8.4).
type EncryptedShare struct {
	Recipient  int
	Enc        []byte // HPKE encapsulated key, 32 bytes
	Ciphertext []byte // ChaCha20-Poly1305 ciphertext and tag, 48 bytes
}

// DealerPost is dealer i's board post in the key ceremony (SPEC.md §8.3):
// Feldman commitments C_ik = a_ik·G for k = 0..T-1, a proof of knowledge of
// a_i0, and the encrypted shares for every other trustee, by increasing index.
type DealerPost struct {
	Dealer      int
	Commitments []*group.Element
	Proof       DLogProof
	Shares      []EncryptedShare
}

// DealerState is dealer i's secret state between its post and Finish. It
// holds the polynomial and MUST NOT be logged or persisted unencrypted.
type DealerState struct {
	fp     [32]byte
	n, t   int
	me     int
	coeffs []*group.Scalar
}

// Complaint is trustee Complainer's accusation that Dealer's share for it
// does not decrypt or does not match Dealer's commitments (SPEC.md §8.5).
type Complaint struct{ Dealer, Complainer int }

// Confirmation lists the dealers whose shares trustee Trustee accepted
// (SPEC.md §8.5). It marks the end of the trustee's receiving step; V7
// relies on complaints only.
type Confirmation struct {
	Trustee int
	Dealers []int
}

// Reveal is Dealer's answer to a complaint: the share f_Dealer(Complainer)
// in the clear (SPEC.md §8.5). Anyone checks it against the commitments.
type Reveal struct {
	Dealer, Complainer int
	Share              *group.Scalar
}

// ReceiverReport is the outcome of ReceiveShares: the posts to publish and
// the accepted shares, kept secret for Finish.
type ReceiverReport struct {
	Confirmation *Confirmation
	Complaints   []*Complaint
	shares       map[int]*group.Scalar
}

// KeyShare is trustee Index's share of the joint decryption key (SPEC.md
// §8.6): Share = x_j, VerificationKey = X_j = x_j·G, JointKey = K. It MUST NOT
// be logged or compared with ==.
type KeyShare struct {
	Fingerprint     [32]byte
	N, T, Index     int
	share           *group.Scalar
	VerificationKey *group.Element
	JointKey        *group.Element
}

// Disqualification says why a dealer is not in QUAL (the V7 report).
type Disqualification struct {
	Dealer int
	Reason string
}

// evalPoly returns f(x) for the coefficients a_0..a_{T-1} (Horner; constant time).
func evalPoly(coeffs []*group.Scalar, x int) *group.Scalar {
	xs := group.ScalarFromUint64(uint64(x))
	acc := group.NewScalar()
	for k := len(coeffs) - 1; k >= 0; k-- {
		acc.Mul(acc, xs)
		acc.Add(acc, coeffs[k])
	}
	return acc
}

// VarTimeEvalCommitments returns Σ_k j^k·C_k, the public image f(j)·G of
// the committed polynomial at j (SPEC.md §8.3). Variable time: public inputs only.
func VarTimeEvalCommitments(commits []*group.Element, j int) *group.Element {
	sc := make([]*group.Scalar, len(commits))
	pow := group.ScalarFromUint64(1)
	js := group.ScalarFromUint64(uint64(j))
	for k := range commits {
		sc[k] = pow.Clone()
		pow.Mul(pow, js)
	}
	return group.VarTimeMultiScalarMult(sc, commits)
}

// dlogChallenge is the transcript of SPEC.md §8.3 (label dlog-proof).
func dlogChallenge(p *Params, dealer int, commits []*group.Element, r *group.Element) *group.Scalar {
	t := transcript.New(transcript.DLogProof).Bytes(p.Fingerprint[:]).
		Uint64(uint64(p.N)).Uint64(uint64(p.T)).Uint64(uint64(dealer))
	t.Elements(commits...)
	return t.Element(r).Challenge()
}

// shareAAD is the HPKE additional data binding a share to (fingerprint, i, j) (SPEC.md §8.4).
func shareAAD(fp [32]byte, dealer, recipient int) []byte {
	return transcript.New(transcript.ShareEncryptionAD).Bytes(fp[:]).
		Uint64(uint64(dealer)).Uint64(uint64(recipient)).Encoding()
}

// shareInfo is the HPKE info string: the full label tag.
func shareInfo() []byte { return transcript.ShareEncryptionAD.Tag() }

func sealShare(rand io.Reader, fp [32]byte, dealer, recipient int, shareKey []byte, s *group.Scalar) (EncryptedShare, error) {
	pk, err := parseShareKey(shareKey)
	if err != nil {
		return EncryptedShare{}, fmt.Errorf("%w: share key of trustee %d", ErrParams, recipient)
	}
	snd, err := shareSuite.NewSender(pk, shareInfo())
	if err != nil {
		return EncryptedShare{}, fmt.Errorf("tally: %w", err)
	}
	enc, sealer, err := snd.Setup(rand)
	if err != nil {
		return EncryptedShare{}, fmt.Errorf("tally: hpke setup: %w", err)
	}
	ct, err := sealer.Seal(s.Bytes(), shareAAD(fp, dealer, recipient))
	if err != nil {
		return EncryptedShare{}, fmt.Errorf("tally: hpke seal: %w", err)
	}
	return EncryptedShare{Recipient: recipient, Enc: enc, Ciphertext: ct}, nil
}

// openShare decrypts es as recipient `recipient` of dealer `dealer`.
func openShare(secret *TrusteeSecret, fp [32]byte, dealer int, es *EncryptedShare) (*group.Scalar, error) {
	rcv, err := shareSuite.NewReceiver(secret.kemSK, shareInfo())
	if err != nil {
		return nil, ErrInvalidShare
	}
	op, err := rcv.Setup(es.Enc)
	if err != nil {
		return nil, ErrInvalidShare
	}
	pt, err := op.Open(es.Ciphertext, shareAAD(fp, dealer, es.Recipient))
	if err != nil {
		return nil, ErrInvalidShare
	}
	s, err := group.DecodeScalar(pt)
	if err != nil {
		return nil, ErrInvalidShare
	}
	return s, nil
}

// Deal runs dealer me's first step of the key ceremony (SPEC.md §8.3): it
// draws f_me of degree T-1 from rand, commits to it, proves knowledge of
// f_me(0) and encrypts f_me(j) to every other trustee j. The caller posts
// the DealerPost and keeps the DealerState secret.
func Deal(rand io.Reader, params *Params, me int, secret *TrusteeSecret) (*DealerPost, *DealerState, error) {
	if err := params.Validate(); err != nil {
		return nil, nil, err
	}
	if !params.inRange(me) {
		return nil, nil, fmt.Errorf("%w: dealer index %d", ErrParams, me)
	}
	if !params.Trustees[me-1].SigningKey.Equal(secret.sign.Public()) {
		return nil, nil, fmt.Errorf("%w: secret does not match trustee %d", ErrParams, me)
	}
	coeffs := make([]*group.Scalar, params.T)
	commits := make([]*group.Element, params.T)
	for k := range coeffs {
		a, err := group.RandomNonZeroScalar(rand)
		if err != nil {
			return nil, nil, fmt.Errorf("tally: %w", err)
		}
		coeffs[k] = a
		commits[k] = group.NewElement().ScalarBaseMult(a)
	}
	w, err := group.RandomNonZeroScalar(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("tally: %w", err)
	}
	R := group.NewElement().ScalarBaseMult(w)
	c := dlogChallenge(params, me, commits, R)
	z := group.NewScalar().Mul(c, coeffs[0])
	z.Add(z, w)
	post := &DealerPost{Dealer: me, Commitments: commits, Proof: DLogProof{R: R, Z: z}}
	for _, tr := range params.Trustees {
		if tr.Index == me {
			continue
		}
		es, err := sealShare(rand, params.Fingerprint, me, tr.Index, tr.ShareKey, evalPoly(coeffs, tr.Index))
		if err != nil {
			return nil, nil, err
		}
		post.Shares = append(post.Shares, es)
	}
	st := &DealerState{fp: params.Fingerprint, n: params.N, t: params.T, me: me, coeffs: coeffs}
	return post, st, nil
}

func cloneParams(p *Params) Params {
	q := *p
	q.Trustees = slices.Clone(p.Trustees)
	return q
}

// Reveal answers complaint c against this dealer with the share f_me(c.Complainer)
// (SPEC.md §8.5). Revealing is safe: the complainer is entitled to that share.
func (st *DealerState) Reveal(c *Complaint) (*Reveal, error) {
	if c.Dealer != st.me || c.Complainer < 1 || c.Complainer > st.n || c.Complainer == st.me {
		return nil, fmt.Errorf("%w: complaint (%d, %d) is not for dealer %d", ErrMalformed, c.Dealer, c.Complainer, st.me)
	}
	return &Reveal{Dealer: st.me, Complainer: c.Complainer, Share: evalPoly(st.coeffs, c.Complainer)}, nil
}

// CheckDealerPost checks a dealer post against params (SPEC.md V7.1–V7.3):
// index, exactly T commitments, one encrypted share for every other
// trustee, and the proof of knowledge. A failed proof returns ErrInvalidProof.
func CheckDealerPost(params *Params, post *DealerPost) error {
	_, err := checkDealerPost(params, post)
	return err
}

func checkDealerPost(params *Params, post *DealerPost) (reason string, err error) {
	if !params.inRange(post.Dealer) {
		return "dealer index out of range", fmt.Errorf("%w: dealer %d", ErrMalformed, post.Dealer)
	}
	if len(post.Commitments) != params.T {
		return "wrong number of commitments", fmt.Errorf("%w: %d commitments, T=%d", ErrMalformed, len(post.Commitments), params.T)
	}
	if len(post.Shares) != params.N-1 {
		return "wrong number of encrypted shares", fmt.Errorf("%w: %d shares, N-1=%d", ErrMalformed, len(post.Shares), params.N-1)
	}
	want := 1
	for _, es := range post.Shares {
		if want == post.Dealer {
			want++
		}
		if es.Recipient != want || len(es.Enc) != encSize || len(es.Ciphertext) != shareCiphertextSize {
			return "encrypted shares out of order", fmt.Errorf("%w: encrypted share for %d", ErrMalformed, es.Recipient)
		}
		want++
	}
	for _, c := range post.Commitments {
		if c == nil || c.IsIdentity() {
			return "identity commitment", fmt.Errorf("%w: identity commitment", ErrMalformed)
		}
	}
	if post.Proof.R == nil || post.Proof.Z == nil || post.Proof.R.IsIdentity() {
		return "malformed proof of knowledge", ErrInvalidProof
	}
	c := dlogChallenge(params, post.Dealer, post.Commitments, post.Proof.R)
	// z·G − c·C_i0 == R
	lhs := group.VarTimeMultiScalarMult(
		[]*group.Scalar{post.Proof.Z, group.NewScalar().Neg(c)},
		[]*group.Element{group.Generator(), post.Commitments[0]})
	if !lhs.Equal(post.Proof.R) {
		return "invalid proof of knowledge", ErrInvalidProof
	}
	return "", nil
}

// CheckReveal reports whether rv's share matches its dealer's commitments:
// Share·G == Σ_k Complainer^k·C_k (SPEC.md V7.5).
func CheckReveal(post *DealerPost, rv *Reveal) bool {
	if post.Dealer != rv.Dealer || rv.Share == nil {
		return false
	}
	return group.NewElement().ScalarBaseMult(rv.Share).Equal(VarTimeEvalCommitments(post.Commitments, rv.Complainer))
}

// ReceiveShares runs trustee me's receiving step (SPEC.md §8.5): for every
// other dealer whose post passes CheckDealerPost it decrypts the share for
// me and checks s·G == Σ_k me^k·C_k. Accepted dealers go into the
// Confirmation, the others get a Complaint. Dealers whose posts fail
// CheckDealerPost are disqualified publicly and need neither.
func ReceiveShares(params *Params, me int, secret *TrusteeSecret, posts []*DealerPost) (*ReceiverReport, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if !params.inRange(me) || params.Trustees[me-1].SigningKey == nil ||
		!params.Trustees[me-1].SigningKey.Equal(secret.sign.Public()) {
		return nil, fmt.Errorf("%w: secret does not match trustee %d", ErrParams, me)
	}
	byDealer, err := indexPosts(params, posts)
	if err != nil {
		return nil, err
	}
	rep := &ReceiverReport{Confirmation: &Confirmation{Trustee: me}, shares: map[int]*group.Scalar{}}
	for i := 1; i <= params.N; i++ {
		post := byDealer[i]
		if i == me || post == nil || CheckDealerPost(params, post) != nil {
			continue
		}
		// Shares skip the dealer itself (checked by CheckDealerPost).
		k := me - 1
		if me > i {
			k--
		}
		es := &post.Shares[k]
		s, err := openShare(secret, params.Fingerprint, i, es)
		if err == nil && !group.NewElement().ScalarBaseMult(s).Equal(VarTimeEvalCommitments(post.Commitments, me)) {
			err = ErrInvalidShare
		}
		if err != nil {
			rep.Complaints = append(rep.Complaints, &Complaint{Dealer: i, Complainer: me})
			continue
		}
		rep.shares[i] = s
		rep.Confirmation.Dealers = append(rep.Confirmation.Dealers, i)
	}
	return rep, nil
}

// indexPosts maps dealer index to post, rejecting out-of-range and duplicate dealers.
func indexPosts(params *Params, posts []*DealerPost) (map[int]*DealerPost, error) {
	m := make(map[int]*DealerPost, len(posts))
	for _, p := range posts {
		if p == nil || !params.inRange(p.Dealer) {
			return nil, fmt.Errorf("%w: dealer post index", ErrMalformed)
		}
		if m[p.Dealer] != nil {
			return nil, fmt.Errorf("%w: two posts from dealer %d", ErrMalformed, p.Dealer)
		}
		m[p.Dealer] = p
	}
	return m, nil
}

// Disqualifications applies the qualification rules of SPEC.md V7.4–V7.6 to
// the board's posts and returns, by increasing dealer index, every dealer
// not in QUAL and why. Duplicate complaints count once; for each
// (dealer, complainer) only the first reveal counts.
func Disqualifications(params *Params, posts []*DealerPost, complaints []*Complaint, reveals []*Reveal) ([]Disqualification, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	byDealer, err := indexPosts(params, posts)
	if err != nil {
		return nil, err
	}
	accused := map[int][]int{} // dealer -> complainers, in order
	seen := map[[2]int]bool{}
	for _, c := range complaints {
		if c == nil || !params.inRange(c.Dealer) || !params.inRange(c.Complainer) || c.Dealer == c.Complainer {
			return nil, fmt.Errorf("%w: complaint index", ErrMalformed)
		}
		k := [2]int{c.Dealer, c.Complainer}
		if !seen[k] {
			seen[k] = true
			accused[c.Dealer] = append(accused[c.Dealer], c.Complainer)
		}
	}
	answer := map[[2]int]*Reveal{}
	for _, rv := range reveals {
		if rv == nil || !params.inRange(rv.Dealer) || !params.inRange(rv.Complainer) || rv.Dealer == rv.Complainer || rv.Share == nil {
			return nil, fmt.Errorf("%w: reveal index", ErrMalformed)
		}
		k := [2]int{rv.Dealer, rv.Complainer}
		if answer[k] == nil {
			answer[k] = rv
		}
	}
	var out []Disqualification
	for i := 1; i <= params.N; i++ {
		post := byDealer[i]
		reason := ""
		switch {
		case post == nil:
			reason = "no dealer post"
		default:
			reason, _ = checkDealerPost(params, post)
		}
		if reason == "" && len(accused[i]) >= params.T {
			reason = fmt.Sprintf("%d complaints, T=%d", len(accused[i]), params.T)
		}
		if reason == "" {
			for _, j := range accused[i] {
				rv := answer[[2]int{i, j}]
				if rv == nil {
					reason = fmt.Sprintf("complaint by trustee %d not answered", j)
					break
				}
				if !CheckReveal(post, rv) {
					reason = fmt.Sprintf("revealed share for trustee %d does not match the commitments", j)
					break
				}
			}
		}
		if reason != "" {
			out = append(out, Disqualification{Dealer: i, Reason: reason})
		}
	}
	return out, nil
}

// Qualified returns QUAL, the increasing indices of the dealers that pass
// SPEC.md V7.4–V7.6, and ErrTooFewTrustees if |QUAL| < T.
func Qualified(params *Params, posts []*DealerPost, complaints []*Complaint, reveals []*Reveal) ([]int, error) {
	dq, err := Disqualifications(params, posts, complaints, reveals)
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for _, d := range dq {
		out[d.Dealer] = true
	}
	var qual []int
	for i := 1; i <= params.N; i++ {
		if !out[i] {
			qual = append(qual, i)
		}
	}
	if len(qual) < params.T {
		return nil, fmt.Errorf("%w: |QUAL| = %d, T = %d", ErrTooFewTrustees, len(qual), params.T)
	}
	return qual, nil
}

// qualPosts returns the posts of the dealers in qual, checking qual is
// increasing, in range, of size at least T, and that every post is present.
func qualPosts(params *Params, posts []*DealerPost, qual []int) ([]*DealerPost, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if len(qual) < params.T {
		return nil, fmt.Errorf("%w: |QUAL| = %d, T = %d", ErrTooFewTrustees, len(qual), params.T)
	}
	byDealer, err := indexPosts(params, posts)
	if err != nil {
		return nil, err
	}
	out := make([]*DealerPost, len(qual))
	for k, i := range qual {
		if !params.inRange(i) || (k > 0 && i <= qual[k-1]) || byDealer[i] == nil {
			return nil, fmt.Errorf("%w: QUAL", ErrMalformed)
		}
		if len(byDealer[i].Commitments) != params.T {
			return nil, fmt.Errorf("%w: dealer %d commitments", ErrMalformed, i)
		}
		out[k] = byDealer[i]
	}
	return out, nil
}

// JointKey returns the election public key K = Σ_{i∈QUAL} C_i0 (SPEC.md V7.7).
func JointKey(params *Params, posts []*DealerPost, qual []int) (*group.Element, error) {
	qp, err := qualPosts(params, posts, qual)
	if err != nil {
		return nil, err
	}
	k := group.NewElement()
	for _, p := range qp {
		k.Add(k, p.Commitments[0])
	}
	if k.IsIdentity() {
		return nil, fmt.Errorf("%w: joint key is the identity", ErrMalformed)
	}
	return k, nil
}

// VerificationKeys returns X_1..X_N (at positions 0..N-1), where
// X_j = Σ_{i∈QUAL} Σ_k j^k·C_ik is trustee j's public verification key
// (SPEC.md V7.8). Variable time; public inputs only.
func VerificationKeys(params *Params, posts []*DealerPost, qual []int) ([]*group.Element, error) {
	qp, err := qualPosts(params, posts, qual)
	if err != nil {
		return nil, err
	}
	// A_k = Σ_{i∈QUAL} C_ik, then X_j = Σ_k j^k·A_k.
	sum := make([]*group.Element, params.T)
	for k := range sum {
		sum[k] = group.NewElement()
		for _, p := range qp {
			sum[k].Add(sum[k], p.Commitments[k])
		}
	}
	out := make([]*group.Element, params.N)
	for j := 1; j <= params.N; j++ {
		out[j-1] = VarTimeEvalCommitments(sum, j)
	}
	return out, nil
}

// Finish computes trustee me's key share x_me = Σ_{i∈QUAL} s_i,me (SPEC.md
// §8.6), taking its own share from st, the others from report, and, for
// dealers it complained about, from their valid reveals. It checks
// x_me·G == X_me and returns the KeyShare. Finish works for a trustee that
// was itself disqualified as a dealer: it still holds a share of K.
func (st *DealerState) Finish(params *Params, report *ReceiverReport, posts []*DealerPost, reveals []*Reveal, qual []int) (*KeyShare, error) {
	if params.Fingerprint != st.fp || params.N != st.n || params.T != st.t {
		return nil, fmt.Errorf("%w: parameters differ from Deal's", ErrParams)
	}
	qp, err := qualPosts(params, posts, qual)
	if err != nil {
		return nil, err
	}
	x := group.NewScalar()
	for _, p := range qp {
		var s *group.Scalar
		switch {
		case p.Dealer == st.me:
			s = evalPoly(st.coeffs, st.me)
		case report.shares[p.Dealer] != nil:
			s = report.shares[p.Dealer]
		default:
			for _, rv := range reveals {
				if rv != nil && rv.Dealer == p.Dealer && rv.Complainer == st.me {
					if CheckReveal(p, rv) {
						s = rv.Share
					}
					break
				}
			}
		}
		if s == nil {
			return nil, fmt.Errorf("%w: no valid share from qualified dealer %d", ErrInvalidShare, p.Dealer)
		}
		x.Add(x, s)
	}
	vks, err := VerificationKeys(params, posts, qual)
	if err != nil {
		return nil, err
	}
	K, err := JointKey(params, posts, qual)
	if err != nil {
		return nil, err
	}
	X := vks[st.me-1]
	if !group.NewElement().ScalarBaseMult(x).Equal(X) {
		return nil, fmt.Errorf("%w: key share does not match the verification key", ErrInvalidShare)
	}
	return &KeyShare{Fingerprint: params.Fingerprint, N: params.N, T: params.T, Index: st.me, share: x, VerificationKey: X, JointKey: K}, nil
}
