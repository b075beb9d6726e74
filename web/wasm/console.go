//go:build officials || !(js && wasm)

// The officials' code: in the officials' module (main_officials.go) and
// the host's tests, never in the booth's module.

package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/authority"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/wire"
)

// The election authority's console (web/static/js/console.js). Its
// signing key lives here, behind a handle: it comes in once, as the key
// file the official chose (or is made here and handed out once, to be
// saved), and nothing but its public half and signed entries leaves this
// module afterwards. Every entry is decided by package authority — the
// very code `urna authority` runs — on a board this module verified
// (client.FollowRecord, SPEC.md §10.7), never on a node's say-so.

// console is one loaded authority key.
type console struct {
	sk   *schnorr.PrivateKey
	rand io.Reader
}

var consoles = newKeyring[console]("no_key", "no authority key is loaded: load your key file again")

// KeyView is a loaded or new authority key, as the page may see it.
type KeyView struct {
	Handle int    `json:"handle"`
	Public string `json:"public"` // base64url, as in the manifest
	// KeyFile and PublicFile are set only for a key made here: the
	// files for the official to save (the key file once; it is not kept
	// by the page).
	KeyFile    string `json:"keyFile,omitempty"`
	PublicFile string `json:"publicFile,omitempty"`
}

// consoleNewKey makes a new authority key, the same files as
// `urna authority init` writes.
func consoleNewKey(rand io.Reader) (*KeyView, error) {
	sk, err := schnorr.GenerateKey(rand)
	if err != nil {
		return nil, fail("error", "making a key: %w", err)
	}
	pub := wire.EncodeB64(sk.Public().Bytes())
	return &KeyView{Handle: consoles.add(&console{sk: sk, rand: rand}), Public: pub,
		KeyFile:    string(keyfile.Marshal(authority.NewKeyFile(sk, authority.KindAuthorityKey))),
		PublicFile: string(keyfile.Marshal(&authority.PublicFile{Kind: authority.KindAuthorityPublic, Public: pub}))}, nil
}

// consoleLoadKey reads an authority key file (authority.key).
func consoleLoadKey(rand io.Reader, file string) (*KeyView, error) {
	sk, err := authority.ParseKeyFile([]byte(file), authority.KindAuthorityKey)
	if err != nil {
		return nil, fail("bad_key_file", "this is not an authority key file: %w", err)
	}
	return &KeyView{Handle: consoles.add(&console{sk: sk, rand: rand}), Public: wire.EncodeB64(sk.Public().Bytes())}, nil
}

// consoleForget drops a loaded key.
func consoleForget(h int) { consoles.forget(h) }

// consoleTrustee reads a trustee's public file (trustee.pub) into the
// manifest's trustee entry.
func consoleTrustee(file string) (*ballot.TrusteeJSON, error) {
	t, err := authority.ParseTrusteePublic([]byte(file))
	if err != nil {
		return nil, fail("bad_public_file", "this is not a trustee's public file: %w", err)
	}
	return &ballot.TrusteeJSON{Name: t.Name, SigningKey: wire.EncodeB64(t.SigningKey.Bytes()), ShareKey: wire.EncodeB64(t.ShareKey)}, nil
}

// consoleCAKey reads the credential authority's public key: its public
// file (credential-authority.pub) or the key itself, base64url.
func consoleCAKey(text string) (string, error) {
	text = strings.TrimSpace(text)
	var k *group.Element
	var err error
	if strings.HasPrefix(text, "{") {
		k, err = authority.ParsePublicFile([]byte(text), authority.KindCAPublic)
	} else {
		var raw []byte
		if raw, err = wire.DecodeB64(text); err == nil {
			k, err = group.DecodeNonIdentity(raw)
		}
	}
	if err != nil {
		return "", fail("bad_public_file", "this is not the credential authority's public key: %w", err)
	}
	return wire.EncodeB64(k.Bytes()), nil
}

// ManifestDraft is a completed manifest ready to sign.
type ManifestDraft struct {
	Manifest    string        `json:"manifest"` // base64url canonical bytes
	Fingerprint string        `json:"fingerprint"`
	JSON        string        `json:"json"` // the completed authoring form, to keep
	View        *ManifestView `json:"view"`
}

// consoleManifest completes and validates the authoring JSON with the
// loaded key (authority.Complete, as `urna authority create` does).
func consoleManifest(h int, authoring string) (*ManifestDraft, error) {
	c, err := consoles.get(h)
	if err != nil {
		return nil, err
	}
	j, err := authority.DecodeTemplate([]byte(authoring))
	if err != nil {
		return nil, fail("bad_manifest", "%w", err)
	}
	m, err := authority.Complete(j, c.sk.Public())
	if err != nil {
		return nil, fail("bad_manifest", "%w", err)
	}
	mj, err := ballot.MarshalManifestJSON(m)
	if err != nil {
		return nil, fail("bad_manifest", "%w", err)
	}
	mb64 := wire.EncodeB64(m.Bytes())
	v, err := parseManifest(mb64)
	if err != nil {
		return nil, err
	}
	return &ManifestDraft{Manifest: mb64, Fingerprint: v.Fingerprint, JSON: string(mj), View: v}, nil
}

// consoleSignManifest signs the manifest entry (SPEC.md §4), the first of
// an empty board. The page calls it only when the node says the board is
// empty; a node lying so gains nothing, as the board refuses a second
// manifest (the rule `urna authority create` follows).
func consoleSignManifest(h int, manifestB64 string) (string, error) {
	c, err := consoles.get(h)
	if err != nil {
		return "", err
	}
	e, err := loadElection(manifestB64)
	if err != nil {
		return "", err
	}
	if !e.m.Authority.Equal(c.sk.Public()) {
		return "", fail("bad_manifest", "the manifest names another authority key than the one loaded")
	}
	return c.sign(e.fp, bulletin.TypeManifest, e.m.Bytes())
}

func (c *console) sign(fp [32]byte, t bulletin.EntryType, body []byte) (string, error) {
	en, err := bulletin.NewEntry(t, fp, bulletin.RoleAuthority, c.sk.Public(), body)
	if err == nil {
		err = en.Sign(c.rand, c.sk)
	}
	if err != nil {
		return "", fail("error", "%s entry: %w", t, err)
	}
	return wire.EncodeB64(en.Bytes()), nil
}

// BoardView is what the console verified of the board, and the entry it
// signed on it.
type BoardView struct {
	ElectionID  string `json:"electionId"`
	Fingerprint string `json:"fingerprint"`
	Size        uint64 `json:"size"`   // log size the verified checkpoint covers
	Newest      string `json:"newest"` // the newest checkpoint note, to remember
	Credentials int    `json:"credentials"`
	Open        bool   `json:"open"`
	Closed      bool   `json:"closed"`
	Counted     int    `json:"counted"`
	Partials    []int  `json:"partials"` // trustees whose partial decryption verifies
	Invalid     []int  `json:"invalid"`  // and those whose does not
	HasResult   bool   `json:"hasResult"`
	Steps       int    `json:"steps"` // verification steps that ran
	// Entry is the signed entry (base64url), when an action was asked.
	Entry     string     `json:"entry,omitempty"`
	Qualified []int      `json:"qualified,omitempty"`
	Excluded  []string   `json:"excluded,omitempty"`
	Counts    [][]uint64 `json:"counts,omitempty"`
}

// consoleAct verifies the board's record against the checkpoints the
// page knows (the node's newest, fetched before the record, and those it
// remembers: known, a JSON array of notes), then decides and signs the
// action with package authority: "check" signs nothing, "open", "close"
// (with reason) and "result". fingerprint (hex), if set, pins the
// election the page works on.
func consoleAct(h int, action string, record []byte, known []string, fingerprint, reason string) (*BoardView, error) {
	c, err := consoles.get(h)
	if err != nil {
		return nil, err
	}
	var opts client.FollowOptions
	opts.Rand = c.rand
	for _, n := range known {
		if n != "" {
			opts.Known = append(opts.Known, []byte(n))
		}
	}
	if fingerprint != "" {
		fp, err := hex.DecodeString(fingerprint)
		if err != nil || len(fp) != 32 {
			return nil, fail("usage", "fingerprint is not 64 hex digits")
		}
		opts.Fingerprint = [32]byte(fp)
	}
	s, err := client.FollowRecord(bytes.NewReader(record), opts)
	if err != nil {
		return nil, followError(s, err)
	}
	if !s.Manifest.Authority.Equal(c.sk.Public()) {
		return nil, fail("not_ours", "the board's election %q names another authority key than the one loaded", s.Manifest.ElectionID)
	}
	v := &BoardView{ElectionID: s.Manifest.ElectionID, Fingerprint: hex.EncodeToString(s.Fingerprint[:]),
		Size: s.Checkpoint.Size, Newest: string(s.Newest), Credentials: s.Credentials, Open: s.JointKey != nil,
		Closed: s.Closed, Counted: s.Counted, Partials: []int{}, Invalid: s.Invalid, HasResult: s.Result != nil}
	for j := range s.Partials {
		v.Partials = append(v.Partials, j)
	}
	slices.Sort(v.Partials)
	for _, st := range s.Report.Steps {
		if st.Ran {
			v.Steps++
		}
	}
	var t bulletin.EntryType
	var body []byte
	switch action {
	case "check":
		return v, nil
	case "open":
		op, err := authority.Open(s, false)
		if err != nil {
			return nil, authorityError(err)
		}
		for _, q := range op.Body.Qualified {
			v.Qualified = append(v.Qualified, int(q))
		}
		for _, d := range op.Excluded {
			v.Excluded = append(v.Excluded, fmt.Sprintf("trustee %d: %s", d.Dealer, d.Reason))
		}
		t, body = bulletin.TypeOpen, op.Body.Bytes()
	case "close":
		if !v.Open {
			return nil, fail("not_ready", "voting has not opened yet")
		}
		if v.Closed {
			return nil, fail("exists", "voting is already closed")
		}
		if reason == "" {
			reason = "voting closed by the election authority"
		}
		t, body = bulletin.TypeClose, (&bulletin.CloseBody{Reason: reason}).Bytes()
	case "result":
		res, err := authority.Result(s)
		if err != nil {
			return nil, authorityError(err)
		}
		v.Counts = res.Counts
		t, body = bulletin.TypeResult, res.Bytes()
	default:
		return nil, fail("usage", "unknown action %q", action)
	}
	if v.Entry, err = c.sign(s.Fingerprint, t, body); err != nil {
		return nil, err
	}
	return v, nil
}

// followError gives the page a code for a board the console will not act
// on (followFailure): "lagging" when the record is to be read again (no
// quorum checkpoint covers it yet, or a checkpoint shown is newer), "fork"
// with the evidence, "not_verified" naming the failing step.
func followError(s *client.Verified, err error) error {
	switch kind, fe := followFailure(s, err); kind {
	case "fork":
		ev, _ := json.Marshal(fe.Evidence)
		return &bridgeError{Code: "fork", Err: fmt.Errorf("urna: the board showed two histories; evidence: %s: %w", ev, err)}
	case "stale", "lagging":
		return &bridgeError{Code: "lagging", Err: fmt.Errorf("urna: %w", err)}
	case "not_verified":
		return &bridgeError{Code: "not_verified", Err: fmt.Errorf("urna: %w", err)}
	}
	return fail("malformed", "the election record could not be read: %w", err)
}

func authorityError(err error) error {
	switch {
	case errors.Is(err, authority.ErrNotReady):
		return &bridgeError{Code: "not_ready", Err: err}
	case errors.Is(err, authority.ErrExists):
		return &bridgeError{Code: "exists", Err: err}
	}
	return &bridgeError{Code: "error", Err: err}
}
