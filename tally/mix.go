package tally

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/tally/shuffle"
)

// MaxMixPositions bounds the position of a shuffle in a question's cascade:
// one shuffle per trustee (SPEC.md §11.2).
const MaxMixPositions = MaxTrustees

// MixContext returns the context of the shuffle at position (1-based) in
// question q's cascade, made by trustee (SPEC.md §11.1): the transcript
// encoding (§2.3) of the items "urna/v1/mix-context", the fingerprint, u64
// q, u64 trustee, u64 position. It binds the proof to the election, the
// question, the mixer and its place, so a proof replayed anywhere else
// does not verify.
func MixContext(fingerprint [32]byte, q, trustee, position int) []byte {
	return transcript.New(transcript.MixContext).Bytes(transcript.MixContext.Tag()).Bytes(fingerprint[:]).
		Uint64(uint64(q)).Uint64(uint64(trustee)).Uint64(uint64(position)).Encoding()
}

// MixInputDigest names the rows a shuffle of question q takes (SPEC.md
// §11.3): Digest("mix-input"; fingerprint, u64 q, u64 N, u64 w, row_1,
// ..., row_N), each row α_1 || β_1 || ... || α_w || β_w as one item. A
// shuffle carries the name of the rows it shuffled, so that a board whose
// cascade moved on since the mixer read it tells a stale input (V14.2)
// from a false proof (V14.3).
func MixInputDigest(fingerprint [32]byte, q, width int, rows []shuffle.Row) [32]byte {
	t := transcript.New(transcript.MixInput).Bytes(fingerprint[:]).Uint64(uint64(q)).Uint64(uint64(len(rows))).Uint64(uint64(width))
	buf := make([]byte, 0, ballot.CiphertextSize*width)
	for _, r := range rows {
		buf = r.AppendBytes(buf[:0])
		t.Bytes(buf)
	}
	return t.Digest()
}

// MixShuffle is the body of a shuffle entry (SPEC.md §11.3): trustee
// Trustee's shuffle at Position of question Question's cascade, the name
// of the rows it shuffled (MixInputDigest), its output rows and the proof
// (SPEC.md §13).
type MixShuffle struct {
	Question, Trustee, Position int
	Input                       [32]byte
	Width                       int
	Outputs                     []shuffle.Row
	Proof                       *shuffle.Proof
}

// Mix makes trustee's shuffle at position of question q: the inputs
// shuffled and re-encrypted under key with a fresh permutation and a
// proof, all randomness from rand (crypto/rand.Reader in production). The
// witness is dropped on return.
func Mix(rand io.Reader, fingerprint [32]byte, key *group.Element, q, trustee, position, width int, inputs []shuffle.Row) (*MixShuffle, error) {
	if err := checkMixIndexes(q, trustee, position); err != nil {
		return nil, err
	}
	out, wit, err := shuffle.Shuffle(rand, key, inputs, width)
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	st := &shuffle.Statement{Context: MixContext(fingerprint, q, trustee, position), Key: key, Width: width, Inputs: inputs, Outputs: out}
	pf, err := shuffle.Prove(rand, st, wit)
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	return &MixShuffle{Question: q, Trustee: trustee, Position: position, Input: MixInputDigest(fingerprint, q, width, inputs),
		Width: width, Outputs: out, Proof: pf}, nil
}

// StaleInputError is V14.2's refusal of a shuffle whose input name is not
// the digest of the cascade's current rows: the mixer shuffled other rows
// (most often the rows of a view that missed the previous shuffle). It
// wraps ErrStaleInput.
type StaleInputError struct {
	Question       int
	Named, Current [32]byte
}

func (e *StaleInputError) Error() string {
	return fmt.Sprintf("tally: stale input: shuffled rows %x, the board's current input for question %d is %x", e.Named[:], e.Question, e.Current[:])
}

func (e *StaleInputError) Unwrap() error { return ErrStaleInput }

// CheckMixInput is V14.2's input check: ms names the digest of inputs, the
// current rows of its question (SPEC.md §11.3). It returns a
// *StaleInputError otherwise.
func CheckMixInput(fingerprint [32]byte, inputs []shuffle.Row, ms *MixShuffle) error {
	if cur := MixInputDigest(fingerprint, ms.Question, ms.Width, inputs); cur != ms.Input {
		return &StaleInputError{Question: ms.Question, Named: ms.Input, Current: cur}
	}
	return nil
}

// VerifyMix checks ms against its inputs (SPEC.md V14.2, V14.3): ms names
// them (CheckMixInput, else a *StaleInputError, before any proof work) and
// the proof verifies under the context of ms's question, trustee and
// position. It returns ErrInvalidProof, or ErrMalformed when the shapes
// disagree. Variable time: public data only.
func VerifyMix(rand io.Reader, fingerprint [32]byte, key *group.Element, inputs []shuffle.Row, ms *MixShuffle) error {
	if err := CheckMixInput(fingerprint, inputs, ms); err != nil {
		return err
	}
	if len(inputs) != len(ms.Outputs) {
		return fmt.Errorf("%w: the shuffle has %d rows, its input %d", ErrMalformed, len(ms.Outputs), len(inputs))
	}
	st := &shuffle.Statement{Context: MixContext(fingerprint, ms.Question, ms.Trustee, ms.Position), Key: key, Width: ms.Width, Inputs: inputs, Outputs: ms.Outputs}
	err := shuffle.VerifyVarTime(rand, st, ms.Proof)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, shuffle.ErrInvalidProof):
		return ErrInvalidProof
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

func checkMixIndexes(q, trustee, position int) error {
	if q < 0 || q > 0xffff || trustee < 1 || trustee > MaxTrustees || position < 1 || position > MaxMixPositions {
		return fmt.Errorf("%w: question %d, trustee %d, position %d", ErrMalformed, q, trustee, position)
	}
	return nil
}

// rowsSize is the encoded size of n rows of width w.
func rowsSize(n, w int) int { return n * w * ballot.CiphertextSize }

func writeRows(wr *wire.Writer, rows []shuffle.Row) {
	for _, r := range rows {
		for _, c := range r {
			wr.Element(c.Alpha).Element(c.Beta)
		}
	}
}

func readRows(r *wire.Reader, n, w int) []shuffle.Row {
	rows := make([]shuffle.Row, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		row := make(shuffle.Row, w)
		for k := range row {
			row[k] = &ballot.Ciphertext{Alpha: r.Element("alpha"), Beta: r.Element("beta")}
		}
		rows = append(rows, row)
	}
	return rows
}

// Bytes returns the canonical encoding of ms (SPEC.md §11.3):
//
//	u16 question || u16 trustee || u16 position || input (32 bytes) ||
//	u32 N || u32 w || N × w × (α || β) || proof (§13.5, the rest of the body)
func (ms *MixShuffle) Bytes() []byte {
	pf := ms.Proof.Bytes()
	n := len(ms.Outputs)
	w := wire.NewWriter(mixShuffleHeader + rowsSize(n, ms.Width) + len(pf))
	w.U16(uint16(ms.Question)).U16(uint16(ms.Trustee)).U16(uint16(ms.Position)).Fixed(ms.Input[:]).Count(n).Count(ms.Width)
	writeRows(w, ms.Outputs)
	return w.Fixed(pf).Out()
}

// mixShuffleHeader is the size of a shuffle body before its rows.
const mixShuffleHeader = 6 + 32 + 8

// ParseMixShuffle decodes MixShuffle.Bytes strictly: trustee and position
// in 1..1000, N ≤ 2²⁰, 1 ≤ w ≤ 1024, the lengths checked before
// allocating, canonical elements, and a proof for exactly N rows of width w.
// The input name is any 32 bytes; whether it names the cascade's current
// rows is V14.2.
func ParseMixShuffle(b []byte) (*MixShuffle, error) {
	r := wire.NewReader(b)
	ms := &MixShuffle{Question: int(r.U16("question"))}
	ms.Trustee = readIndex(r, "trustee")
	ms.Position = readIndex(r, "position")
	copy(ms.Input[:], r.Fixed("input", 32))
	n := r.Count("rows", shuffle.MaxRows)
	ms.Width = r.Count("width", shuffle.MaxWidth)
	if r.Err() == nil && ms.Width < 1 {
		r.Failf("width 0")
	}
	if r.Err() == nil && r.Remaining() != rowsSize(n, ms.Width)+shuffle.ProofSize(n, ms.Width) {
		r.Failf("%d bytes follow the header, want %d for %d rows of width %d", r.Remaining(), rowsSize(n, ms.Width)+shuffle.ProofSize(n, ms.Width), n, ms.Width)
	}
	if r.Err() != nil {
		return nil, malformed(r.Err())
	}
	ms.Outputs = readRows(r, n, ms.Width)
	pfBytes := r.Fixed("proof", shuffle.ProofSize(n, ms.Width))
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	pf, err := shuffle.ParseProof(pfBytes)
	if err != nil {
		return nil, malformed(err)
	}
	ms.Proof = pf
	return ms, nil
}

// MixDecryption is the body of a mix-decryption entry (SPEC.md §11.4):
// trustee Trustee's decryption shares D_ik = x_j·α_ik of every ciphertext
// of the last shuffle's rows of question Question, with one batched
// Chaum–Pedersen proof (C, S).
type MixDecryption struct {
	Question, Trustee int
	Width             int
	Shares            [][]*group.Element // N × w
	C, S              *group.Scalar
}

// mixSeed is Digest("mix-decryption-seed"; fingerprint, u64 q, u64 j, X_j,
// u64 N, u64 w, every α_ik, every D_ik) in row-major order (SPEC.md §11.4).
func mixSeed(fingerprint [32]byte, q, j int, X *group.Element, rows []shuffle.Row, w int, shares [][]*group.Element) []byte {
	t := transcript.New(transcript.MixDecryptionSeed).Bytes(fingerprint[:]).Uint64(uint64(q)).Uint64(uint64(j)).Element(X).
		Uint64(uint64(len(rows))).Uint64(uint64(w))
	buf := make([]byte, 0, 2*group.Size*w)
	for i, r := range rows {
		buf = buf[:0]
		for k, c := range r {
			buf = c.Alpha.AppendBytes(buf)
			buf = shares[i][k].AppendBytes(buf)
		}
		t.Bytes(buf)
	}
	d := t.Digest()
	return d[:]
}

// mixCombination returns A = Σ z_ik·α_ik and D = Σ z_ik·D_ik with
// z_ik = Challenge("mix-decryption-coeff"; seed, u64 i, u64 k) (1-based).
func mixCombination(seed []byte, rows []shuffle.Row, shares [][]*group.Element) (A, D *group.Element) {
	if len(rows) == 0 {
		return group.NewElement(), group.NewElement()
	}
	w := len(rows[0])
	zs := make([]*group.Scalar, len(rows)*w)
	as, ds := make([]*group.Element, len(zs)), make([]*group.Element, len(zs))
	inParallel(len(rows), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for k, c := range rows[i] {
				zs[i*w+k] = transcript.New(transcript.MixDecryptionCoeff).Bytes(seed).Uint64(uint64(i + 1)).Uint64(uint64(k + 1)).Challenge()
				as[i*w+k], ds[i*w+k] = c.Alpha, shares[i][k]
			}
		}
	})
	return group.VarTimeMultiScalarMult(zs, as), group.VarTimeMultiScalarMult(zs, ds)
}

// inParallel runs f over [0, n) cut into one range per available CPU
// (SPEC.md §11.4's shares and coefficients are independent per row).
func inParallel(n int, f func(lo, hi int)) {
	k := min(runtime.GOMAXPROCS(0), max(1, n/64))
	if k <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for c := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(c*n/k, (c+1)*n/k)
		}()
	}
	wg.Wait()
}

func mixChallenge(seed []byte, A, D, T1, T2 *group.Element) *group.Scalar {
	return transcript.New(transcript.MixDecryptionProof).Bytes(seed).Elements(A, D, T1, T2).Challenge()
}

// DecryptMix computes trustee share.Index's decryption shares of rows (the
// last shuffle's output of question q) and the batched Chaum–Pedersen
// proof that every share uses the trustee's key share (SPEC.md §11.4). The
// nonce comes from rand.
func DecryptMix(rand io.Reader, params *Params, share *KeyShare, q, width int, rows []shuffle.Row) (*MixDecryption, error) {
	if share.Fingerprint != params.Fingerprint || !params.inRange(share.Index) {
		return nil, fmt.Errorf("%w: key share is for other parameters", ErrParams)
	}
	if err := checkMixRows(rows, width); err != nil {
		return nil, err
	}
	md := &MixDecryption{Question: q, Trustee: share.Index, Width: width, Shares: make([][]*group.Element, len(rows))}
	inParallel(len(rows), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			md.Shares[i] = make([]*group.Element, width)
			for k, c := range rows[i] {
				md.Shares[i][k] = group.NewElement().ScalarMult(share.share, c.Alpha)
			}
		}
	})
	X := share.VerificationKey
	seed := mixSeed(params.Fingerprint, q, share.Index, X, rows, width, md.Shares)
	A, D := mixCombination(seed, rows, md.Shares)
	r, err := group.RandomNonZeroScalar(rand)
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	T1, T2 := group.NewElement().ScalarBaseMult(r), group.NewElement().ScalarMult(r, A)
	md.C = mixChallenge(seed, A, D, T1, T2)
	md.S = group.NewScalar().Add(r, group.NewScalar().Mul(md.C, share.share))
	return md, nil
}

func checkMixRows(rows []shuffle.Row, width int) error {
	if width < 1 || width > shuffle.MaxWidth || len(rows) > shuffle.MaxRows {
		return fmt.Errorf("%w: %d rows of width %d", ErrMalformed, len(rows), width)
	}
	for i, r := range rows {
		if len(r) != width {
			return fmt.Errorf("%w: row %d has width %d, want %d", ErrMalformed, i+1, len(r), width)
		}
	}
	return nil
}

// VerifyMixDecryption checks md against rows (the last shuffle's output of
// its question) and X, the trustee's verification key (SPEC.md V15.2):
// with the seed and A, D recomputed, T1 = S·G − C·X and T2 = S·A − C·D,
// C MUST equal the challenge of (seed, A, D, T1, T2). Variable time: public
// data only.
func VerifyMixDecryption(fingerprint [32]byte, X *group.Element, rows []shuffle.Row, md *MixDecryption) error {
	if md.Width < 1 || len(md.Shares) != len(rows) {
		return fmt.Errorf("%w: %d decryption rows for %d rows", ErrMalformed, len(md.Shares), len(rows))
	}
	if err := checkMixRows(rows, md.Width); err != nil {
		return err
	}
	seed := mixSeed(fingerprint, md.Question, md.Trustee, X, rows, md.Width, md.Shares)
	A, D := mixCombination(seed, rows, md.Shares)
	negC := group.NewScalar().Neg(md.C)
	T1 := group.VarTimeMultiScalarMult([]*group.Scalar{md.S, negC}, []*group.Element{group.Generator(), X})
	T2 := group.VarTimeMultiScalarMult([]*group.Scalar{md.S, negC}, []*group.Element{A, D})
	if !mixChallenge(seed, A, D, T1, T2).Equal(md.C) {
		return ErrInvalidProof
	}
	return nil
}

// Bytes returns the canonical encoding of md (SPEC.md §11.4):
//
//	u16 question || u16 trustee || u32 N || u32 w || N × w × D_ik || C || S
func (md *MixDecryption) Bytes() []byte {
	n := len(md.Shares)
	w := wire.NewWriter(12 + (n*md.Width+2)*group.Size)
	w.U16(uint16(md.Question)).U16(uint16(md.Trustee)).Count(n).Count(md.Width)
	for _, r := range md.Shares {
		for _, d := range r {
			w.Element(d)
		}
	}
	return w.Scalar(md.C).Scalar(md.S).Out()
}

// ParseMixDecryption decodes MixDecryption.Bytes strictly.
func ParseMixDecryption(b []byte) (*MixDecryption, error) {
	r := wire.NewReader(b)
	md := &MixDecryption{Question: int(r.U16("question"))}
	md.Trustee = readIndex(r, "trustee")
	n := r.Count("rows", shuffle.MaxRows)
	md.Width = r.Count("width", shuffle.MaxWidth)
	if r.Err() == nil && md.Width < 1 {
		r.Failf("width 0")
	}
	if r.Err() == nil && r.Remaining() != (n*md.Width+2)*group.Size {
		r.Failf("%d bytes follow the header, want %d", r.Remaining(), (n*md.Width+2)*group.Size)
	}
	if r.Err() != nil {
		return nil, malformed(r.Err())
	}
	md.Shares = make([][]*group.Element, n)
	for i := range md.Shares {
		md.Shares[i] = make([]*group.Element, md.Width)
		for k := range md.Shares[i] {
			md.Shares[i][k] = r.Element("share")
		}
	}
	md.C, md.S = r.Scalar("c"), r.Scalar("s")
	if err := r.Done(); err != nil {
		return nil, malformed(err)
	}
	return md, nil
}

// CombineMix decrypts rows with the valid decryptions of the T smallest
// trustee indexes among decs (each MUST have passed VerifyMixDecryption):
// M_ik = β_ik − Σ_j λ_j·D_jik (SPEC.md V16.1). It returns the plaintexts
// and the trustees used.
func CombineMix(params *Params, rows []shuffle.Row, decs map[int]*MixDecryption) ([][]*group.Element, []int, error) {
	var set []int
	for j := 1; j <= params.N && len(set) < params.T; j++ {
		if _, ok := decs[j]; ok {
			set = append(set, j)
		}
	}
	if len(set) < params.T {
		return nil, nil, fmt.Errorf("%w: %d valid mix decryptions, T = %d", ErrTooFewTrustees, len(set), params.T)
	}
	lambda := Lagrange(set)
	out := make([][]*group.Element, len(rows))
	for i, r := range rows {
		out[i] = make([]*group.Element, len(r))
		for k, c := range r {
			sc := make([]*group.Scalar, 0, len(set))
			pts := make([]*group.Element, 0, len(set))
			for a, j := range set {
				if i >= len(decs[j].Shares) || k >= len(decs[j].Shares[i]) {
					return nil, nil, fmt.Errorf("%w: trustee %d's decryption has another shape", ErrMalformed, j)
				}
				sc, pts = append(sc, lambda[a]), append(pts, decs[j].Shares[i][k])
			}
			out[i][k] = group.NewElement().Sub(c.Beta, group.VarTimeMultiScalarMult(sc, pts))
		}
	}
	return out, set, nil
}

// MixInput returns the first input of mixed question q's cascade (SPEC.md
// §11.1): the K.5 row of every counted ballot, in board order (V10).
func MixInput(m *ballot.Manifest, q int, counted []*ballot.Ballot) ([]shuffle.Row, error) {
	rows := make([]shuffle.Row, len(counted))
	for i, b := range counted {
		var err error
		if rows[i], err = b.MixRow(m, q); err != nil {
			return nil, fmt.Errorf("tally: counted ballot %d: %w", i+1, err)
		}
	}
	return rows, nil
}
