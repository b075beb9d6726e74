package ballot

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/transcript"
	"github.com/urna-vote/urna/internal/wire"
)

// CredentialAlphabet is the base-32 alphabet of credential strings
// (Crockford's: digits and upper-case letters without I, L, O, U).
const CredentialAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

const (
	credentialData  = 24                 // 24 symbols × 5 bits = 120 bits of entropy
	credentialChars = credentialData + 1 // plus one check symbol
)

// Credential is a voter's secret credential string (SPEC.md §5.1). It MUST
// NOT be logged; String redacts it and Text reveals it. Credentials cannot be
// compared with ==.
type Credential struct {
	_    [0]func()
	norm string // 25 symbols of CredentialAlphabet, no separators
}

// gfMulX multiplies an element of GF(32) = GF(2)[x]/(x^5+x^2+1) by x.
// Branch-free: c holds symbols of a secret credential.
func gfMulX(c byte) byte {
	c <<= 1
	return c ^ (0x25 & -(c >> 5 & 1))
}

// symbolOf returns the character of symbol v (0..31), reading the whole
// alphabet so that the memory access does not depend on v (a secret).
func symbolOf(v byte) byte {
	var c byte
	for k := 0; k < len(CredentialAlphabet); k++ {
		c |= CredentialAlphabet[k] & byte(-subtle.ConstantTimeByteEq(byte(k), v))
	}
	return c
}

// valueOf returns the value of the upper-case character c and 1 if c is in
// the alphabet, else (0, 0), in time independent of c.
func valueOf(c byte) (byte, int) {
	var v byte
	found := 0
	for k := 0; k < len(CredentialAlphabet); k++ {
		eq := subtle.ConstantTimeByteEq(CredentialAlphabet[k], c)
		v |= byte(k) & byte(-eq)
		found |= eq
	}
	return v, found
}

// credentialCheck returns the Horner sum Σ v_i·x^(n-1-i) over GF(32).
func credentialCheck(vals []byte) byte {
	var c byte
	for _, v := range vals {
		c = gfMulX(c) ^ v
	}
	return c
}

// GenerateCredential draws a new credential from rand (SPEC.md §5.1): 15
// bytes read as 24 big-endian 5-bit symbols, then a check symbol.
func GenerateCredential(rand io.Reader) (Credential, error) {
	var buf [15]byte
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return Credential{}, fmt.Errorf("ballot: reading randomness: %w", err)
	}
	vals := make([]byte, 0, credentialChars)
	var acc uint32
	bits := 0
	for _, b := range buf {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			vals = append(vals, byte(acc>>bits)&31)
		}
	}
	vals = append(vals, gfMulX(credentialCheck(vals)))
	var sb strings.Builder
	for _, v := range vals {
		sb.WriteByte(symbolOf(v))
	}
	return Credential{norm: sb.String()}, nil
}

// ParseCredential reads a credential typed by a voter (SPEC.md §5.1). It
// skips separators (white space and dashes of any kind, the en dash
// included), reads full-width forms as ASCII, lower case as upper case, and
// the look-alikes O as 0, I and L as 1. Any other character is a
// *SymbolError naming it, a count of symbols other than 25 a *LengthError
// (both wrap ErrInvalidCredential), and a wrong check symbol is
// ErrCredentialChecksum. For a valid credential the time taken depends on
// where the separators and wide characters are, not on the symbols; an
// invalid one may take another path (the error says where the typo is
// anyway).
func ParseCredential(s string) (Credential, error) {
	if len(s) > 8*credentialChars {
		return Credential{}, fmt.Errorf("%w: too long", ErrInvalidCredential)
	}
	vals, err := readSymbols(s, ErrInvalidCredential)
	if err != nil {
		return Credential{}, err
	}
	if len(vals) != credentialChars {
		return Credential{}, &LengthError{Got: len(vals), Want: credentialChars, what: ErrInvalidCredential}
	}
	if credentialCheck(vals) != 0 {
		return Credential{}, ErrCredentialChecksum
	}
	var sb strings.Builder
	for _, v := range vals {
		sb.WriteByte(symbolOf(v))
	}
	return Credential{norm: sb.String()}, nil
}

// A SymbolError is a typed credential or tracker with a character that is
// neither a symbol of CredentialAlphabet, nor a look-alike of one, nor a
// separator. It wraps ErrInvalidCredential or ErrInvalidTracker.
type SymbolError struct {
	Char rune // the character as typed
	Pos  int  // which character it is, from 1, separators included
	what error
}

func (e *SymbolError) Error() string {
	hint := ""
	switch e.Char {
	case 'U', 'u':
		hint = " (U is never used: is it a V?)"
	}
	return fmt.Sprintf("%v: character %d, %q, is not used%s", e.what, e.Pos, e.Char, hint)
}

func (e *SymbolError) Unwrap() error { return e.what }

// A LengthError is a typed credential or tracker with too few or too many
// symbols. It wraps ErrInvalidCredential or ErrInvalidTracker.
type LengthError struct {
	Got, Want int // symbols, separators not counted
	what      error
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("%v: %d symbols, want %d", e.what, e.Got, e.Want)
}

func (e *LengthError) Unwrap() error { return e.what }

// readSymbols returns the values of the symbols of s as typed (see
// ParseCredential); a character that is no symbol, look-alike or separator
// is a *SymbolError wrapping what. The symbols of a credential are secret:
// an ASCII character takes the same path whatever its value.
func readSymbols(s string, what error) ([]byte, error) {
	vals := make([]byte, 0, credentialChars)
	pos := 0
	for i := 0; i < len(s); {
		r, size, sep := nextChar(s, i)
		i += size
		pos++
		if sep {
			continue
		}
		c := foldSymbol(byte(r))
		v, ok := valueOf(c)
		if ok == 0 || r >= utf8.RuneSelf {
			return nil, &SymbolError{Char: r, Pos: pos, what: what}
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// nextChar returns the character of s at byte i, read from full-width to
// ASCII (what East Asian input methods type), its width in bytes, and
// whether it is a separator: white space or a dash of any kind (the hyphen,
// en and em dashes, the minus sign). An ASCII character takes the same path
// whatever its value.
func nextChar(s string, i int) (r rune, size int, sep bool) {
	if c := s[i]; c < utf8.RuneSelf {
		sp := subtle.ConstantTimeByteEq(c, ' ') | subtle.ConstantTimeByteEq(c, '-') | subtle.ConstantTimeByteEq(c, '\t') |
			subtle.ConstantTimeByteEq(c, '\n') | subtle.ConstantTimeByteEq(c, '\r')
		return rune(c), 1, sp == 1
	}
	r, size = utf8.DecodeRuneInString(s[i:])
	if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
		r -= 0xFEE0
		return r, size, r == '-'
	}
	return r, size, unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '\u2212'
}

// foldSymbol maps an ASCII character as typed to the alphabet character it
// unambiguously stands for (Crockford's decoding): a–z to upper case, O to
// 0, I and L to 1. Branch-free: c is a symbol of a secret credential.
func foldSymbol(c byte) byte {
	lower := subtle.ConstantTimeLessOrEq('a', int(c)) & subtle.ConstantTimeLessOrEq(int(c), 'z')
	c -= byte(lower) * ('a' - 'A')
	c = byte(subtle.ConstantTimeSelect(subtle.ConstantTimeByteEq(c, 'O'), '0', int(c)))
	one := subtle.ConstantTimeByteEq(c, 'I') | subtle.ConstantTimeByteEq(c, 'L')
	return byte(subtle.ConstantTimeSelect(one, '1', int(c)))
}

// Text returns the credential in its canonical display form: five groups of
// five symbols separated by dashes. It reveals the secret.
func (c Credential) Text() string {
	if len(c.norm) != credentialChars {
		return ""
	}
	var parts []string
	for i := 0; i < credentialChars; i += 5 {
		parts = append(parts, c.norm[i:i+5])
	}
	return strings.Join(parts, "-")
}

// String redacts the credential, so that printing it by mistake leaks nothing.
func (c Credential) String() string { return "ballot.Credential(REDACTED)" }

// GoString redacts the credential.
func (c Credential) GoString() string { return c.String() }

// Key derives the credential's signing key for the election electionID
// (SPEC.md §5.2): sk = H("credential-key"; normalized credential, election id).
func (c Credential) Key(electionID string) (*CredentialKey, error) {
	if len(c.norm) != credentialChars {
		return nil, fmt.Errorf("%w: empty credential", ErrInvalidCredential)
	}
	if !ValidElectionID(electionID) {
		return nil, fmt.Errorf("%w: bad election id", ErrInvalidCredential)
	}
	sk := transcript.New(transcript.CredentialDerive).String(c.norm).String(electionID).Challenge()
	priv, err := schnorr.NewPrivateKey(sk)
	if err != nil {
		return nil, fmt.Errorf("ballot: %w", err)
	}
	return &CredentialKey{sk: priv, pub: priv.Public()}, nil
}

// CredentialKey is the signing key derived from a credential. It signs the
// board envelope of the voter's ballots. It MUST NOT be logged.
type CredentialKey struct {
	sk  *schnorr.PrivateKey
	pub *group.Element
}

// NewCredentialKey wraps an existing Schnorr key as a credential key (for
// tests and tools that hold raw keys).
func NewCredentialKey(sk *schnorr.PrivateKey) *CredentialKey {
	return &CredentialKey{sk: sk, pub: sk.Public()}
}

// Public returns the public credential sk·G.
func (k *CredentialKey) Public() *group.Element { return k.pub.Clone() }

// PrivateKey returns the Schnorr key, for signing board entries.
func (k *CredentialKey) PrivateKey() *schnorr.PrivateKey { return k.sk }

// Sign signs msg with the credential key (SPEC.md §3.2).
func (k *CredentialKey) Sign(rand io.Reader, msg []byte) (*schnorr.Signature, error) {
	return k.sk.Sign(rand, msg)
}

// MaxCredentials bounds the length of a credential list, and the number
// of credentials an election registers in all (SPEC.md §5.3, §3.9).
const MaxCredentials = wire.MaxList

// MaxWeight is the largest weight of a public credential (SPEC.md §5.3):
// weights are 1..MaxWeight. The roll parser (internal/roll) takes the same
// bound from here.
const MaxWeight = 1000

// MaxTotalWeight bounds the sum of the weights of an election's
// credentials, hence every count of its result (SPEC.md §9.3).
const MaxTotalWeight = MaxCredentials * MaxWeight

// Encodings of a credential list (SPEC.md §5.3). Version 1 is the
// unweighted list of protocol 1.2, byte for byte: it carries no version
// byte, and its first byte is always 0 (the count is at most 2^20).
const (
	CredentialListUnweighted = 1
	CredentialListWeighted   = 2
)

// RollFingerprintSize is the size of the public roll fingerprint a
// weighted list carries (SPEC.md §5.3).
const RollFingerprintSize = 32

// CredentialList is the public credential list posted by the credential
// authority (SPEC.md §5.3): distinct non-identity elements, sorted by their
// encodings, each with a weight. A version-1 list gives every credential
// weight 1; a version-2 (weighted) list carries a weight in 1..MaxWeight per
// credential and the public roll fingerprint. The same encoding is the body
// of a late-credentials entry (§3.2). Lists from NewCredentialList,
// NewWeightedCredentialList or ParseCredentialList are valid and MUST NOT
// be modified.
type CredentialList struct {
	Credentials []*group.Element
	// Weights[i] is the weight of Credentials[i]; nil for a version-1 list
	// (every weight 1).
	Weights []uint32
	// Roll is the public roll fingerprint of a version-2 list (zero for
	// version 1). Urna carries it; it is computed from the voter roll
	// outside the protocol and compared with it there.
	Roll [RollFingerprintSize]byte
	enc  [][]byte // Credentials[i].Bytes(), sorted
}

// NewCredentialList sorts and checks the public credentials of an
// unweighted (version 1) list (SPEC.md V6.2).
func NewCredentialList(creds []*group.Element) (*CredentialList, error) {
	return newCredentialList(creds, nil, [RollFingerprintSize]byte{})
}

// NewWeightedCredentialList sorts and checks a weighted (version 2) list:
// weights[i] (1..MaxWeight) is the weight of creds[i], roll the public roll
// fingerprint (SPEC.md §5.3).
func NewWeightedCredentialList(roll [RollFingerprintSize]byte, creds []*group.Element, weights []uint32) (*CredentialList, error) {
	if len(weights) != len(creds) {
		return nil, fmt.Errorf("%w: %d weights for %d credentials", ErrInvalidCredentialList, len(weights), len(creds))
	}
	if weights == nil {
		weights = []uint32{} // a weighted list, even if empty (then refused below)
	}
	return newCredentialList(creds, weights, roll)
}

func newCredentialList(creds []*group.Element, weights []uint32, roll [RollFingerprintSize]byte) (*CredentialList, error) {
	type item struct {
		b []byte
		e *group.Element
		w uint32
	}
	ps := make([]item, len(creds))
	for i, c := range creds {
		if c == nil || c.IsIdentity() {
			return nil, fmt.Errorf("%w: credential %d is missing or the identity", ErrInvalidCredentialList, i)
		}
		ps[i] = item{c.Bytes(), c.Clone(), 1}
		if weights != nil {
			if !ValidWeight(weights[i]) {
				return nil, fmt.Errorf("%w: credential %d has weight %d, want 1..%d", ErrInvalidCredentialList, i, weights[i], MaxWeight)
			}
			ps[i].w = weights[i]
		}
	}
	sort.Slice(ps, func(i, j int) bool { return bytes.Compare(ps[i].b, ps[j].b) < 0 })
	l := &CredentialList{Roll: roll}
	if weights != nil {
		l.Weights = make([]uint32, 0, len(ps))
	}
	for i, p := range ps {
		if i > 0 && bytes.Equal(ps[i-1].b, p.b) {
			return nil, fmt.Errorf("%w: credential repeated", ErrInvalidCredentialList)
		}
		l.Credentials = append(l.Credentials, p.e)
		l.enc = append(l.enc, p.b)
		if weights != nil {
			l.Weights = append(l.Weights, p.w)
		}
	}
	if len(l.Credentials) == 0 || len(l.Credentials) > MaxCredentials {
		return nil, fmt.Errorf("%w: %d credentials, want 1..%d", ErrInvalidCredentialList, len(l.Credentials), MaxCredentials)
	}
	return l, nil
}

// ValidWeight reports whether w is a valid credential weight, 1..MaxWeight.
func ValidWeight(w uint32) bool { return w >= 1 && w <= MaxWeight }

// Version returns CredentialListUnweighted or CredentialListWeighted.
func (l *CredentialList) Version() int {
	if l.Weights != nil {
		return CredentialListWeighted
	}
	return CredentialListUnweighted
}

// Bytes returns the canonical encoding (SPEC.md §5.3): version 1 is
// u32 count || sorted elements; version 2 is
// u8 2 || [32] roll || u32 count || sorted (element || u32 weight).
func (l *CredentialList) Bytes() []byte {
	if l.Weights == nil {
		w := wire.NewWriter(4 + group.Size*len(l.Credentials)).Count(len(l.Credentials))
		for i, c := range l.Credentials {
			w.Fixed(l.encoding(i, c))
		}
		return w.Out()
	}
	w := wire.NewWriter(1 + RollFingerprintSize + 4 + (group.Size+4)*len(l.Credentials))
	w.U8(CredentialListWeighted).Fixed(l.Roll[:]).Count(len(l.Credentials))
	for i, c := range l.Credentials {
		w.Fixed(l.encoding(i, c)).U32(l.Weights[i])
	}
	return w.Out()
}

func (l *CredentialList) encoding(i int, c *group.Element) []byte {
	if i < len(l.enc) {
		return l.enc[i]
	}
	return c.Bytes()
}

// ParseCredentialList decodes a canonical credential list of either
// version (SPEC.md V6.1–V6.2): 1..2^20 canonical non-identity elements in
// strictly increasing byte order, each with a weight in 1..MaxWeight in a
// version-2 list. The first byte says the version: 0 (the high byte of a
// version-1 count) or 2.
func ParseCredentialList(b []byte) (*CredentialList, error) {
	return parseCredentialList(b, true)
}

// PeekCredentialList reads a credential list as ParseCredentialList does
// (version, count, sizes, strict order, weights, no trailing bytes) but
// does not decode its elements: it returns each credential's 32 bytes
// (slices of b), not checked to be a canonical non-identity element, and
// the weights (nil in version 1). Variable-time on public data. For a list
// whose strict decoding was already checked (a board node applying an
// entry its proposer pre-checked, where decoding 2²⁰ elements on every
// replica costs seconds of CPU and ~100 bytes per credential).
func PeekCredentialList(b []byte) (creds [][]byte, weights []uint32, err error) {
	l, err := parseCredentialList(b, false)
	if err != nil {
		return nil, nil, err
	}
	return l.enc, l.Weights, nil
}

func parseCredentialList(b []byte, decode bool) (*CredentialList, error) {
	r := wire.NewReader(b)
	weighted := len(b) > 0 && b[0] == CredentialListWeighted
	l := &CredentialList{}
	item := group.Size
	if weighted {
		r.U8("version")
		copy(l.Roll[:], r.Fixed("roll fingerprint", RollFingerprintSize))
		item += 4
		l.Weights = []uint32{}
	} else if len(b) > 0 && b[0] != 0 {
		return nil, fmt.Errorf("%w: unknown encoding (first byte %d; version 1 starts with 0, version 2 with 2)", ErrInvalidCredentialList, b[0])
	}
	n := r.Count("credentials", MaxCredentials)
	if r.Err() == nil && r.Remaining() != n*item {
		r.Failf("credential list: %d bytes for %d credentials", r.Remaining(), n)
	}
	for i := 0; i < n && r.Err() == nil; i++ {
		off := len(b) - r.Remaining()
		var e *group.Element
		if decode {
			if e = r.NonIdentity("credential"); e == nil {
				break
			}
		} else if r.Fixed("credential", group.Size) == nil {
			break
		}
		enc := b[off : off+group.Size : off+group.Size]
		if i > 0 && bytes.Compare(l.enc[i-1], enc) >= 0 {
			return nil, fmt.Errorf("%w: credentials not strictly sorted at %d", ErrInvalidCredentialList, i)
		}
		if weighted {
			w := r.U32("weight")
			if r.Err() == nil && !ValidWeight(w) {
				return nil, fmt.Errorf("%w: credential %d has weight %d, want 1..%d", ErrInvalidCredentialList, i, w, MaxWeight)
			}
			l.Weights = append(l.Weights, w)
		}
		if decode {
			l.Credentials = append(l.Credentials, e)
			l.enc = append(l.enc, slices.Clone(enc))
		} else {
			l.enc = append(l.enc, enc)
		}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("ballot: credential list: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidCredentialList)
	}
	return l, nil
}

// Weight returns the weight of the i-th credential (1 in a version-1 list).
func (l *CredentialList) Weight(i int) uint32 {
	if l.Weights == nil {
		return 1
	}
	return l.Weights[i]
}

// TotalWeight returns the sum of the list's weights.
func (l *CredentialList) TotalWeight() uint64 {
	if l.Weights == nil {
		return uint64(len(l.Credentials))
	}
	var t uint64
	for _, w := range l.Weights {
		t += uint64(w)
	}
	return t
}

// Len returns the number of credentials.
func (l *CredentialList) Len() int { return len(l.Credentials) }

// Contains reports whether pk is in the list (SPEC.md V8.4). Variable time (public data).
func (l *CredentialList) Contains(pk *group.Element) bool {
	return l.containsBytes(pk.Bytes())
}

func (l *CredentialList) containsBytes(b []byte) bool {
	if len(l.enc) != len(l.Credentials) {
		l.enc = make([][]byte, len(l.Credentials))
		for i, c := range l.Credentials {
			l.enc[i] = c.Bytes()
		}
	}
	_, found := slices.BinarySearchFunc(l.enc, b, bytes.Compare)
	return found
}
