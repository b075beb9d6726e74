//go:build officials || !(js && wasm)

// The officials' code: in the officials' module (main_officials.go) and
// the host's tests, never in the booth's module.

package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/trustee"
	"github.com/urna-vote/urna/internal/wire"
)

// The trustee's page (web/static/js/trustee.js). The trustee's keys and
// dealer seed live here, behind a handle: they come in once, as the key
// file the trustee chose (or are made here), and leave this module only
// as the key file the trustee saves again. Every step is decided by
// package trustee — the very code `urna trustee` runs — on a board this
// module verified (client.FollowRecord over the whole record, proved to
// reach the newest checkpoint the node showed and to extend the ones the
// key file remembers: SPEC.md §10.7), never on a node's say-so.

type trusteeSession struct {
	k    *trustee.Keys
	rand io.Reader
}

var trustees = newKeyring[trusteeSession]("trustee_no_key", "no trustee key is loaded: load your key file again")

// TrusteeKeyView is a loaded or new trustee key, as the page may see it:
// its public half and, to save, the key file with the state it carries.
type TrusteeKeyView struct {
	Handle     int      `json:"handle"`
	Name       string   `json:"name"`
	SigningKey string   `json:"signingKey"` // base64url, as in the manifest
	PublicFile string   `json:"publicFile"` // trustee.pub, for the election authority
	KeyFile    string   `json:"keyFile"`    // trustee.key, to save
	Dealt      []string `json:"dealt"`      // hex fingerprints of the elections the seed dealt for
}

func addTrustee(k *trustee.Keys, rand io.Reader) *TrusteeKeyView {
	return trusteeKeyView(trustees.add(&trusteeSession{k: k, rand: rand}), k)
}

func trusteeKeyView(h int, k *trustee.Keys) *TrusteeKeyView {
	pub := k.Public()
	v := &TrusteeKeyView{Handle: h, Name: k.Name, SigningKey: pub.SigningKey, PublicFile: string(keyfile.Marshal(pub)),
		KeyFile: string(k.KeyFile()), Dealt: []string{}}
	if k.Seed != nil {
		v.Dealt = append(v.Dealt, hex.EncodeToString(k.Seed.Election[:]))
	}
	return v
}

// trusteeNew makes a trustee's keys (SPEC.md §8.1), as `urna trustee init`.
func trusteeNew(rand io.Reader, name string) (*TrusteeKeyView, error) {
	k, err := trustee.New(rand, strings.TrimSpace(name))
	if err != nil {
		return nil, fail("trustee_name", "%w", err)
	}
	return addTrustee(k, rand), nil
}

// trusteeLoad reads the files the trustee chose: its key file (a CLI
// trustee.key, or one this page saved), and the CLI directory's
// trustee.dealer-seed and board-memory.json when it brings them.
func trusteeLoad(rand io.Reader, files []string) (*TrusteeKeyView, error) {
	var k *trustee.Keys
	var seed *trustee.Seed
	var memory map[string]string
	for _, f := range files {
		var head struct{ Kind string }
		if err := json.Unmarshal([]byte(f), &head); err != nil {
			return nil, fail("trustee_key_file", "a file chosen is not a trustee's file (not JSON)")
		}
		var err error
		switch head.Kind {
		case trustee.KindKey:
			if k != nil {
				return nil, fail("trustee_key_file", "two key files were chosen: choose one")
			}
			k, err = trustee.ParseKeyFile([]byte(f))
		case trustee.KindDealerSeed:
			seed, err = trustee.ParseDealerSeed([]byte(f))
		case trustee.KindBoardMemory:
			memory, err = trustee.ParseBoardMemory([]byte(f))
		default:
			return nil, fail("trustee_key_file", "a file chosen is a %q file, not a trustee's key file", head.Kind)
		}
		if err != nil {
			return nil, fail("trustee_key_file", "this is not a trustee's key file: %w", err)
		}
	}
	if k == nil {
		return nil, fail("trustee_key_file", "no trustee key file (trustee.key) among the files chosen")
	}
	if seed != nil {
		if k.Seed != nil && (k.Seed.Election != seed.Election || !bytes.Equal(k.Seed.Bytes, seed.Bytes)) {
			return nil, fail("trustee_key_file", "the dealer seed file and the key file's dealer seed differ")
		}
		k.Seed = seed
	}
	for fp, note := range memory {
		if _, ok := k.Memory[fp]; !ok {
			k.Memory[fp] = note
		}
	}
	return addTrustee(k, rand), nil
}

// trusteeForget drops a loaded key.
func trusteeForget(h int) { trustees.forget(h) }

// TrusteeBoardView is what the page verified of the board, as the trustee
// sees it, and what it signed on it.
type TrusteeBoardView struct {
	ElectionID  string `json:"electionId"`
	Title       string `json:"title"`
	Fingerprint string `json:"fingerprint"`
	Size        uint64 `json:"size"` // log size of the verified record
	Steps       int    `json:"steps"`
	Me          int    `json:"me"`
	Trustees    int    `json:"trustees"`
	Threshold   int    `json:"threshold"`
	Credentials bool   `json:"credentials"`
	Dealt       int    `json:"dealt"`     // trustees that dealt
	Confirmed   int    `json:"confirmed"` // trustees that checked their shares
	IDealt      bool   `json:"iDealt"`
	IChecked    bool   `json:"iChecked"`
	ToAnswer    int    `json:"toAnswer"` // complaints against this trustee not answered yet
	Open        bool   `json:"open"`
	Closed      bool   `json:"closed"`
	Counted     int    `json:"counted"`
	Decrypted   bool   `json:"decrypted"` // this trustee's partial is on the board
	Partials    int    `json:"partials"`
	HasResult   bool   `json:"hasResult"`
	// Entries are the signed entries (base64url) to post, in order.
	Entries []string `json:"entries"`
	// Accepted and Complaints are the outcome of "check".
	Accepted   []int `json:"accepted,omitempty"`
	Complaints []int `json:"complaints,omitempty"`
	Answered   []int `json:"answered,omitempty"`
	// KeyFile is the key file with its state after this call (the newest
	// checkpoint remembered, a new dealer seed), to save again.
	KeyFile string `json:"keyFile"`
	// SeedMade: "deal" drew a new dealer seed; the trustee MUST save the
	// key file before the deal is posted.
	SeedMade bool `json:"seedMade,omitempty"`
}

// trusteeAct verifies the board's record (record) with every checkpoint the
// page saw (notes: the node's newest, fetched before the record) and those
// the key file remembers, then decides and signs the step with package
// trustee: "status" signs nothing; "deal", "check" (force: before every
// trustee dealt), "answer" and "decrypt".
func trusteeAct(h int, step string, record []byte, notes []string, force bool) (*TrusteeBoardView, error) {
	t, err := trustees.get(h)
	if err != nil {
		return nil, err
	}
	k := t.k
	s, err := client.FollowRecord(bytes.NewReader(record), client.FollowOptions{Rand: t.rand})
	if err == nil {
		known := trustee.Known(k.Memory, s.Fingerprint)
		for _, n := range notes {
			if n != "" {
				known = append(known, []byte(n))
			}
		}
		for _, n := range known {
			// A note the record does not reach is a stale view (ErrStale):
			// a step acts only on the whole board (SPEC.md §10.7).
			if err = s.Extends(context.Background(), n, nil); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, trusteeFollowError(s, err)
	}
	remember(k, s)
	b, err := trustee.NewBoard(s.Manifest, s.Entries, k.Name, k.Secret)
	if err != nil {
		return nil, fail("trustee_not_ours", "%w", err)
	}
	v := boardView(s, b)
	var posts []trustee.Post
	switch step {
	case "status":
	case "deal":
		if err = b.CanDeal(); err != nil {
			break
		}
		var seed []byte
		if seed, err = k.Seed.For(b.Fingerprint); err != nil {
			err = fail("trustee_key_file", "%w: this key file dealt in another election", err)
			break
		}
		if seed == nil {
			var sd *trustee.Seed
			if sd, err = trustee.NewSeed(t.rand, b.Fingerprint); err != nil {
				break
			}
			k.Seed, seed, v.SeedMade = sd, sd.Bytes, true
		}
		var p trustee.Post
		if p, err = b.Deal(k.Secret, seed); err == nil {
			posts = append(posts, p)
		}
	case "check":
		var res *trustee.CheckResult
		if res, err = b.Check(k.Secret, force); err == nil {
			v.Accepted, v.Complaints, posts = res.Accepted, res.Complaints, res.Posts
		}
	case "answer":
		var seed []byte
		if seed, err = k.Seed.For(b.Fingerprint); err == nil {
			v.Answered, posts, err = b.Answer(k.Secret, seed)
		}
	case "decrypt":
		var seed []byte
		if seed, err = k.Seed.For(b.Fingerprint); err == nil {
			var p trustee.Post
			if p, err = b.Decrypt(t.rand, s, k.Secret, seed); err == nil {
				posts = append(posts, p)
			}
		}
	default:
		return nil, fail("usage", "unknown step %q", step)
	}
	if err != nil {
		return nil, trusteeError(err)
	}
	for _, p := range posts {
		raw, err := trustee.Sign(t.rand, b.Fingerprint, k.Secret, p)
		if err != nil {
			return nil, fail("error", "%w", err)
		}
		v.Entries = append(v.Entries, wire.EncodeB64(raw))
	}
	v.KeyFile = string(k.KeyFile())
	return v, nil
}

// remember keeps the newest checkpoint of the verified board in the key
// file's memory when it is newer than the one remembered (SPEC.md §10.7).
func remember(k *trustee.Keys, s *client.Verified) {
	board := bulletin.BoardFor(s.Manifest)
	c, err := board.Open(s.Newest)
	if err != nil {
		return
	}
	key := hex.EncodeToString(s.Fingerprint[:])
	if old, ok := k.Memory[key]; ok {
		if oc, err := board.Open([]byte(old)); err == nil && oc.Size >= c.Size {
			return
		}
	}
	k.Memory[key] = string(s.Newest)
}

func boardView(s *client.Verified, b *trustee.Board) *TrusteeBoardView {
	cer := b.Ceremony
	v := &TrusteeBoardView{ElectionID: s.Manifest.ElectionID, Title: s.Manifest.Title,
		Fingerprint: hex.EncodeToString(s.Fingerprint[:]), Size: s.Checkpoint.Size, Me: b.Me,
		Trustees: b.Params.N, Threshold: b.Params.T, Credentials: s.Credentials > 0,
		Dealt: len(cer.Deals), Confirmed: len(cer.Confirmed), IDealt: b.Dealt(), IChecked: cer.Confirmed[b.Me],
		Open: s.JointKey != nil, Closed: s.Closed, Counted: s.Counted,
		Decrypted: s.Partials[b.Me] != nil || slices.Contains(s.Invalid, b.Me),
		Partials:  len(s.Partials), HasResult: s.Result != nil, Entries: []string{}}
	answered := map[[2]int]bool{}
	for _, rv := range cer.Reveals {
		answered[[2]int{rv.Dealer, rv.Complainer}] = true
	}
	for _, cp := range cer.Complaints {
		if cp.Dealer == b.Me && !answered[[2]int{cp.Dealer, cp.Complainer}] {
			answered[[2]int{cp.Dealer, cp.Complainer}] = true
			v.ToAnswer++
		}
	}
	for _, st := range s.Report.Steps {
		if st.Ran {
			v.Steps++
		}
	}
	return v
}

// trusteeFollowError gives the page a code for a board the trustee will
// not act on (followFailure): "lagging" (read again), "stale", "fork" with
// the evidence, "refused" naming the failing step, each prefixed "trustee_".
func trusteeFollowError(s *client.Verified, err error) error {
	switch kind, fe := followFailure(s, err); kind {
	case "fork":
		// The evidence file of SPEC.md §10.8, for `urna verify --evidence`.
		return &bridgeError{Code: "trustee_fork", Err: fmt.Errorf("urna: %w; the evidence (save it as a file and check it with 'urna verify --evidence FILE'): %s", err, bytes.TrimSpace(fe.Evidence.Marshal()))}
	case "stale", "lagging":
		return &bridgeError{Code: "trustee_" + kind, Err: fmt.Errorf("urna: %w", err)}
	case "not_verified":
		return &bridgeError{Code: "trustee_refused", Err: fmt.Errorf("urna: %w", err)}
	}
	return fail("malformed", "the election record could not be read: %w", err)
}

func trusteeError(err error) error {
	var be *bridgeError
	switch {
	case errors.As(err, &be):
		return err
	case errors.Is(err, trustee.ErrNotReady):
		return &bridgeError{Code: "trustee_not_ready", Err: err}
	case errors.Is(err, trustee.ErrExists):
		return &bridgeError{Code: "trustee_exists", Err: err}
	}
	return &bridgeError{Code: "error", Err: err}
}
