package ballot

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly/seeded"
)

func hexKey(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad test key %q", s)
	}
	return b
}

// encode is the RFC 8032 §5.1.2 encoding of a projective point.
func (a edPoint) encode() []byte {
	zi := new(big.Int).ModInverse(a.z, edP)
	x := new(big.Int).Mod(new(big.Int).Mul(a.x, zi), edP)
	y := new(big.Int).Mod(new(big.Int).Mul(a.y, zi), edP)
	be := y.FillBytes(make([]byte, 32))
	out := make([]byte, 32)
	for i := range out {
		out[i] = be[31-i]
	}
	out[31] |= byte(x.Bit(0)) << 7
	return out
}

// decodeForTest decodes a key that passes RFC 8032 §5.1.3.
func decodeForTest(t *testing.T, key []byte) edPoint {
	t.Helper()
	a, err := decodeEd25519(key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAttackNodeKeys: a manifest listing a board node or witness key whose
// "signatures" anyone can forge (the identity, a point of small order, a
// mixed-order point) or a non-canonical encoding (the x = 0 with sign bit
// edge of RFC 8032 §5.1.3, y ≥ p) is rejected with a clear error (finding 8).
type badKey struct {
	name, key string
	raw       []byte
	want      error
}

func badKeys(t *testing.T) []badKey {
	good := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	t8 := hexKey(t, "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
	mixed := decodeForTest(t, good).add(decodeForTest(t, t8)).encode()
	return []badKey{
		{name: "identity", key: "0100000000000000000000000000000000000000000000000000000000000000", want: errKeyIdentity},
		{name: "order 2 (y = −1)", key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", want: errKeySmallOrder},
		{name: "order 4 (y = 0, x even)", key: "0000000000000000000000000000000000000000000000000000000000000000", want: errKeySmallOrder},
		{name: "order 4 (y = 0, x odd)", key: "0000000000000000000000000000000000000000000000000000000000000080", want: errKeySmallOrder},
		{name: "order 8", key: "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", want: errKeySmallOrder},
		{name: "order 8 (sign)", key: "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", want: errKeySmallOrder},
		{name: "order 8 (other)", key: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", want: errKeySmallOrder},
		{name: "order 8 (other, sign)", key: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", want: errKeySmallOrder},
		{name: "identity with sign bit (x = 0, x_0 = 1)", key: "0100000000000000000000000000000000000000000000000000000000000080", want: errKeyNotCanonical},
		{name: "y = −1 with sign bit (x = 0, x_0 = 1)", key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", want: errKeyNotCanonical},
		{name: "y = p (non-canonical identity… of y = 0)", key: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", want: errKeyNotCanonical},
		{name: "y = p + 1 (non-canonical identity)", key: "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", want: errKeyNotCanonical},
		{name: "y = 2^255 − 1", key: "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", want: errKeyNotCanonical},
		{name: "not on the curve (y = 2)", key: "0200000000000000000000000000000000000000000000000000000000000000", want: errKeyNotOnCurve},
		{name: "mixed order (valid key + order-8 point)", raw: mixed, want: errKeyMixedOrder},
	}
}

func TestAttackNodeKeys(t *testing.T) {
	good := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	for _, c := range badKeys(t) {
		t.Run(c.name, func(t *testing.T) {
			key := c.raw
			if key == nil {
				key = hexKey(t, c.key)
			}
			if err := CheckEd25519Key(key); !errors.Is(err, c.want) {
				t.Fatalf("CheckEd25519Key = %v, want %v", err, c.want)
			}
			// Through the manifest: as a board node key and as a witness key.
			m := testManifestForKeys(t, good)
			m.BoardNodes[0].Key = key
			err := m.Validate()
			if !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), c.want.Error()) || !strings.Contains(err.Error(), `board node "n1" key`) {
				t.Fatalf("Validate with node key: %v", err)
			}
			m = testManifestForKeys(t, good)
			m.Version, m.WitnessQuorum = ManifestVersionWitnessed, 1
			m.Witnesses = []Witness{{Name: "witness.example/w1", Key: key}}
			if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), c.want.Error()) {
				t.Fatalf("Validate with witness key: %v", err)
			}
		})
	}
}

func testManifestForKeys(t *testing.T, node []byte) *Manifest {
	t.Helper()
	m := newTestManifest(t, seeded.Raw("keys"), "keys", []Question{{Text: "Q", Options: []string{"a", "b"}, Min: 1, Max: 1}})
	c := *m
	c.BoardNodes = []BoardNode{{ID: "n1", Key: node}}
	c.BoardQuorum = 1
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestNodeKeysAcceptRealKeys: every Ed25519 key crypto/ed25519 generates
// passes the rule (they are [s]B, of prime order).
func TestNodeKeysAcceptRealKeys(t *testing.T) {
	seed := make([]byte, 32)
	for i := range 200 {
		seed[0], seed[1] = byte(i), byte(i>>8)
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		if err := CheckEd25519Key(pub); err != nil {
			t.Fatalf("key %x: %v", pub, err)
		}
	}
}

// TestManifestWitnesses: a version-2 manifest names witnesses and a witness
// quorum, round-trips through both encodings, and version 1 stays exactly
// as before (no witness fields); each content has one encoding.
func TestManifestWitnesses(t *testing.T) {
	m := newTestManifest(t, seeded.Raw("witnessed"), "witnessed", []Question{{Text: "Q", Options: []string{"a", "b"}, Min: 1, Max: 1}})
	v1 := m.Bytes()
	w1 := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	w2 := ed25519.NewKeyFromSeed(append(make([]byte, 31), 1)).Public().(ed25519.PublicKey)
	ws := []Witness{{Name: "witness.example/w1", Key: w1}, {Name: "w2.example:8443/urna", Key: w2}}
	wm, err := m.WithWitnesses(ws, 2)
	if err != nil {
		t.Fatal(err)
	}
	if wm.Version != ManifestVersionWitnessed || !bytes.HasPrefix(wm.Bytes()[1:], v1[1:]) {
		t.Fatal("version 2 must be version 1's fields then the witnesses")
	}
	if !bytes.Equal(m.Bytes(), v1) || m.Fingerprint() == wm.Fingerprint() {
		t.Fatal("WithWitnesses changed its receiver, or the fingerprint ignores witnesses")
	}
	back, err := ParseManifest(wm.Bytes())
	if err != nil || !bytes.Equal(back.Bytes(), wm.Bytes()) || back.WitnessQuorum != 2 || len(back.Witnesses) != 2 {
		t.Fatalf("binary round trip: %v", err)
	}
	js, err := MarshalManifestJSON(wm)
	if err != nil {
		t.Fatal(err)
	}
	jback, err := ParseManifestJSON(js)
	if err != nil || !bytes.Equal(jback.Bytes(), wm.Bytes()) {
		t.Fatalf("JSON round trip: %v", err)
	}
	if js1, _ := MarshalManifestJSON(m); bytes.Contains(js1, []byte(`"witnesses"`)) || bytes.Contains(js1, []byte(`"witness_quorum"`)) {
		t.Fatal("a version-1 manifest's JSON mentions witnesses")
	}
	bad := map[string]func(c *Manifest){
		"version 1 with witnesses":  func(c *Manifest) { c.Version = ManifestVersion },
		"version 2 without":         func(c *Manifest) { c.Witnesses, c.WitnessQuorum = nil, 0 },
		"witness quorum 0":          func(c *Manifest) { c.WitnessQuorum = 0 },
		"witness quorum too large":  func(c *Manifest) { c.WitnessQuorum = 3 },
		"witness name repeated":     func(c *Manifest) { c.Witnesses[1].Name = c.Witnesses[0].Name },
		"witness name is a node id": func(c *Manifest) { c.Witnesses[0].Name = c.BoardNodes[0].ID },
		"witness name with space":   func(c *Manifest) { c.Witnesses[0].Name = "a b" },
		"witness name with plus":    func(c *Manifest) { c.Witnesses[0].Name = "a+b" },
		"witness key repeated":      func(c *Manifest) { c.Witnesses[1].Key = c.Witnesses[0].Key },
		"witness key is a node key": func(c *Manifest) { c.Witnesses[0].Key = c.BoardNodes[0].Key },
		"witness key short":         func(c *Manifest) { c.Witnesses[0].Key = c.Witnesses[0].Key[:31] },
		"version 3":                 func(c *Manifest) { c.Version = 3 },
	}
	for name, f := range bad {
		c := *wm
		c.Witnesses = append([]Witness(nil), wm.Witnesses...)
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	// Version byte 2 on version-1 bytes: the decoder wants the witness fields.
	b := append([]byte(nil), v1...)
	b[0] = ManifestVersionWitnessed
	if _, err := ParseManifest(b); err == nil {
		t.Fatal("version 2 without witness fields decoded")
	}
	// Trailing witness fields on a version-1 manifest are trailing bytes.
	b = append([]byte{ManifestVersion}, wm.Bytes()[1:]...)
	if _, err := ParseManifest(b); err == nil {
		t.Fatal("version 1 with witness fields decoded")
	}
}

// TestNodeKeyVectors pins the node-key rule for independent verifiers
// (testdata/nodekeys.json; tools/pyverify checks it). Regenerate with
// go test ./ballot -run NodeKeyVectors -update.
func TestNodeKeyVectors(t *testing.T) {
	type bad struct {
		Name  string `json:"name"`
		Key   string `json:"key"`
		Error string `json:"error"`
	}
	v := struct {
		Comment string   `json:"comment"`
		Valid   []string `json:"valid"`
		Invalid []bad    `json:"invalid"`
	}{Comment: "SPEC.md §4.1 node and witness keys: canonical encodings of Ed25519 points of prime order (RFC 8032 §5.1.3 decoding, no leniency). Regenerate: go test ./ballot -run NodeKeyVectors -update"}
	for i := range 4 {
		seed := make([]byte, 32)
		seed[0] = byte(i)
		v.Valid = append(v.Valid, hex.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)))
	}
	for _, c := range badKeys(t) {
		k := c.raw
		if k == nil {
			k = hexKey(t, c.key)
		}
		v.Invalid = append(v.Invalid, bad{Name: c.name, Key: hex.EncodeToString(k), Error: c.want.Error()})
	}
	var pinned any
	pinVectors(t, filepath.Join("testdata", "nodekeys.json"), v, &pinned)
}
