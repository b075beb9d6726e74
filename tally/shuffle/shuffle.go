package shuffle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/wire"
)

// Limits enforced by every function and decoder of this package.
const (
	MaxRows  = wire.MaxList // N, the number of rows of one shuffle
	MaxWidth = 1024         // w, the number of ciphertexts in a row
)

// Row is one ballot's ciphertexts for one shuffle: w ElGamal ciphertexts
// under the same key.
type Row []*ballot.Ciphertext

// AppendBytes appends row(r) = α_1 || β_1 || ... || α_w || β_w to b
// (SPEC.md §13.3): the row as one transcript item, as the shuffle's
// statement and the name of a shuffle's input (§11.3) hash it.
func (r Row) AppendBytes(b []byte) []byte {
	for _, ct := range r {
		b = ct.Alpha.AppendBytes(b)
		b = ct.Beta.AppendBytes(b)
	}
	return b
}

// Witness is the mixer's secret: the permutation and the re-encryption
// randomness. It MUST NOT be published or kept after the proof is made:
// whoever holds it links every output row to its input row.
type Witness struct {
	perm []int             // output i is input perm[i]
	r    [][]*group.Scalar // r[i][k] re-encrypts component k of output i
}

var (
	// ErrInvalidProof is returned by VerifyVarTime for every proof that does
	// not verify (SPEC.md §13, steps S6–S8); it says no more.
	ErrInvalidProof = errors.New("shuffle: invalid proof")
)

// checkRows validates the shape of a row list: at most MaxRows rows, all of
// width w (1 ≤ w ≤ MaxWidth), no nil component. With no rows, w is the width
// the caller declared.
func checkRows(what string, rows []Row, w int) error {
	if len(rows) > MaxRows {
		return fmt.Errorf("shuffle: %d %s rows, more than %d", len(rows), what, MaxRows)
	}
	if w < 1 || w > MaxWidth {
		return fmt.Errorf("shuffle: width %d outside 1..%d", w, MaxWidth)
	}
	for i, row := range rows {
		if len(row) != w {
			return fmt.Errorf("shuffle: %s row %d has width %d, want %d", what, i+1, len(row), w)
		}
		for k, c := range row {
			if c == nil || c.Alpha == nil || c.Beta == nil {
				return fmt.Errorf("shuffle: %s row %d ciphertext %d is missing", what, i+1, k+1)
			}
		}
	}
	return nil
}

// checkKey rejects a missing or identity key: under the identity, a
// re-encryption would leave β unchanged and link rows.
func checkKey(key *group.Element) error {
	if key == nil || key.IsIdentity() {
		return errors.New("shuffle: the public key is missing or the identity")
	}
	return nil
}

// Shuffle permutes rows with a fresh uniformly random permutation and
// re-encrypts every component under key with fresh randomness, all read from
// rand (crypto/rand.Reader in production). It is GenShuffle of Haenni et al.
// (SPEC.md §13.1); w is the width of every row (needed when
// rows is empty). The witness is the input of Prove.
func Shuffle(rand io.Reader, key *group.Element, rows []Row, w int) ([]Row, *Witness, error) {
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	if err := checkRows("input", rows, w); err != nil {
		return nil, nil, err
	}
	perm, err := randomPermutation(rand, len(rows))
	if err != nil {
		return nil, nil, err
	}
	// Draw every scalar first, in a fixed order, then compute in parallel.
	wit := &Witness{perm: perm, r: make([][]*group.Scalar, len(rows))}
	for i := range wit.r {
		wit.r[i] = make([]*group.Scalar, w)
		for k := range wit.r[i] {
			if wit.r[i][k], err = group.RandomScalar(rand); err != nil {
				return nil, nil, fmt.Errorf("shuffle: %w", err)
			}
		}
	}
	out := make([]Row, len(rows))
	// Every r·K uses one precomputed table of K (a third of ScalarMult's
	// cost, same constant-time lookups), worth it from a few rows on.
	kt := group.NewFixedBase(key)
	forChunks(len(rows), chunks(len(rows)), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = make(Row, w)
			for k, c := range rows[perm[i]] {
				out[i][k] = reEncrypt(kt, c, wit.r[i][k])
			}
		}
	})
	return out, wit, nil
}

var zero = group.NewScalar()

// reEncrypt returns (α + r·G, β + r·K) in constant time, kt being K's table.
func reEncrypt(kt *group.FixedBase, c *ballot.Ciphertext, r *group.Scalar) *ballot.Ciphertext {
	a := group.NewElement().ScalarBaseMult(r)
	b := kt.MulAddBase(r, zero)
	return &ballot.Ciphertext{Alpha: a.Add(a, c.Alpha), Beta: b.Add(b, c.Beta)}
}

// randomPermutation draws a uniform permutation of 0..n-1 by Fisher–Yates
// (GenPermutation of Haenni et al.), with unbiased indices from rand.
func randomPermutation(rand io.Reader, n int) ([]int, error) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var buf [8]byte
	for i := n - 1; i > 0; i-- {
		bound := uint64(i + 1)
		// Reject the top 2^64 mod bound values so that v mod bound is uniform.
		limit := -((-bound) % bound) // 2^64 - (2^64 mod bound), as a uint64 (0 when bound divides 2^64)
		for {
			if _, err := io.ReadFull(rand, buf[:]); err != nil {
				return nil, fmt.Errorf("shuffle: reading randomness: %w", err)
			}
			v := binary.BigEndian.Uint64(buf[:])
			if limit == 0 || v < limit {
				j := int(v % bound)
				p[i], p[j] = p[j], p[i]
				break
			}
		}
	}
	return p, nil
}
