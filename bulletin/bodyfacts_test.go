package bulletin

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly/seeded"
	"github.com/urna-vote/urna/tally"
)

// TestStandardBodiesElection runs a small real election (manifest, credential
// list, DKG, ballots, audit, partial decryptions, result) through the rules
// with StandardBodies, writes the record and verifies it (V1–V3, V5).
func TestStandardBodiesElection(t *testing.T) {
	rng := seeded.Raw("real election")
	auth, ca := mustKey(t, rng), mustKey(t, rng)
	var secrets []*tally.TrusteeSecret
	var mts []ballot.Trustee
	for i := 0; i < 3; i++ {
		s, err := tally.GenerateTrustee(rng)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, s)
		p := s.Public()
		mts = append(mts, ballot.Trustee{Name: string(rune('a' + i)), SigningKey: p.SigningKey, ShareKey: p.ShareKey})
	}
	var nodeKeys []ed25519.PrivateKey
	var mns []ballot.BoardNode
	for _, id := range []string{"n1", "n2", "n3"} {
		seed := make([]byte, 32)
		rng.Read(seed)
		k := ed25519.NewKeyFromSeed(seed)
		nodeKeys = append(nodeKeys, k)
		mns = append(mns, ballot.BoardNode{ID: id, Key: k.Public().(ed25519.PublicKey)})
	}
	qs := []ballot.Question{{Text: "Pick one", Options: []string{"yes", "no"}, Min: 1, Max: 1}}
	m, err := ballot.NewManifest("real-2026", "Real", qs, auth.Public(), ca.Public(), mts, 2, mns, 2)
	if err != nil {
		t.Fatal(err)
	}
	fp := m.Fingerprint()
	params := tally.ManifestParams(m)
	var creds []*ballot.CredentialKey
	var pubs []*group.Element
	for i := 0; i < 3; i++ {
		c, err := ballot.GenerateCredential(rng)
		if err != nil {
			t.Fatal(err)
		}
		k, err := c.Key(m.ElectionID)
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, k)
		pubs = append(pubs, k.Public())
	}
	cl, err := ballot.NewCredentialList(pubs)
	if err != nil {
		t.Fatal(err)
	}

	b := &board{rules: NewRules(StandardBodies{}), st: &ElectionState{}, idx: NewMemIndex()}
	post := func(typ EntryType, role Role, k *schnorr.PrivateKey, body []byte) {
		t.Helper()
		e, err := NewEntry(typ, fp, role, k.Public(), body)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Sign(rng, k); err != nil {
			t.Fatal(err)
		}
		if _, err := b.apply(e); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	post(TypeManifest, RoleAuthority, auth, m.Bytes())
	post(TypeCredentials, RoleCredentialAuthority, ca, cl.Bytes())
	var posts []*tally.DealerPost
	var dss []*tally.DealerState
	for i, s := range secrets {
		dp, ds, err := tally.Deal(rng, params, i+1, s)
		if err != nil {
			t.Fatal(err)
		}
		posts, dss = append(posts, dp), append(dss, ds)
		post(TypeDKGDeal, RoleTrustee, s.SigningKey(), dp.Bytes())
	}
	var reports []*tally.ReceiverReport
	for i, s := range secrets {
		rep, err := tally.ReceiveShares(params, i+1, s, posts)
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, rep)
		post(TypeDKGConfirmation, RoleTrustee, s.SigningKey(), rep.Confirmation.Bytes())
	}
	// a complaint (unfounded) answered by a reveal keeps the dealer qualified
	rv, err := dss[0].Reveal(&tally.Complaint{Dealer: 1, Complainer: 2})
	if err != nil {
		t.Fatal(err)
	}
	post(TypeDKGComplaint, RoleTrustee, secrets[1].SigningKey(), (&tally.Complaint{Dealer: 1, Complainer: 2}).Bytes())
	post(TypeDKGReveal, RoleTrustee, secrets[0].SigningKey(), rv.Bytes())
	qual, err := tally.Qualified(params, posts, []*tally.Complaint{{Dealer: 1, Complainer: 2}}, []*tally.Reveal{rv})
	if err != nil {
		t.Fatal(err)
	}
	K, err := tally.JointKey(params, posts, qual)
	if err != nil {
		t.Fatal(err)
	}
	ob := &OpenBody{JointKey: K}
	for _, i := range qual {
		ob.Qualified = append(ob.Qualified, uint16(i))
	}
	post(TypeOpen, RoleAuthority, auth, ob.Bytes())

	var cts [][][]*ballot.Ciphertext
	var legacy []byte // voter 2's audit as protocol 1.1 posted it
	for i, c := range creds {
		bal, sec, err := ballot.EncryptBallot(rng, m, K, c, [][]uint32{{uint32(i % 2)}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 { // voter 2 audits this ballot, then casts another
			au, err := bal.Audit(sec)
			if err != nil {
				t.Fatal(err)
			}
			op, _ := bal.Open(sec)
			legacy = (&ballot.AuditedBallot{Ballot: bal, Opening: op}).Bytes()
			oneTime, err := schnorr.GenerateKey(rng)
			if err != nil {
				t.Fatal(err)
			}
			post(TypeAudit, RoleAuditor, oneTime, au.Bytes())
			// casting the audited ballot is refused
			e, _ := NewEntry(TypeBallot, fp, RoleVoter, c.Public(), bal.Bytes())
			e.Sign(rng, c.PrivateKey())
			if _, err := b.apply(e); !errors.Is(err, ErrAudited) {
				t.Fatalf("audited ballot cast: %v", err)
			}
			bal, _, err = ballot.EncryptBallot(rng, m, K, c, [][]uint32{{0}})
			if err != nil {
				t.Fatal(err)
			}
		}
		post(TypeBallot, RoleVoter, c.PrivateKey(), bal.Bytes())
		cts = append(cts, bal.Ciphertexts())
	}
	post(TypeClose, RoleAuthority, auth, (&CloseBody{Reason: "end"}).Bytes())
	agg, err := tally.Aggregate([]int{2}, cts)
	if err != nil {
		t.Fatal(err)
	}
	partials := map[int]*tally.PartialDecryption{}
	for _, i := range []int{1, 3} {
		ks, err := dss[i-1].Finish(params, reports[i-1], posts, []*tally.Reveal{rv}, qual)
		if err != nil {
			t.Fatal(err)
		}
		pd, err := tally.PartialDecrypt(rng, params, ks, agg)
		if err != nil {
			t.Fatal(err)
		}
		partials[i] = pd
		post(TypePartialDecryption, RoleTrustee, secrets[i-1].SigningKey(), pd.Bytes())
	}
	vk, err := tally.VerificationKeys(params, posts, qual)
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := tally.Combine(params, vk, agg, partials, 10)
	if err != nil {
		t.Fatal(err)
	}
	post(TypeResult, RoleAuthority, auth, res.Bytes())
	if b.st.Phase != PhaseResult || b.st.Ballots != 3 || b.st.Audited != 1 {
		t.Fatalf("state %+v", b.st)
	}

	// record: two blocks, one checkpoint signed by n1 and n3
	n := len(b.raw)
	hs := b.blocks(t, 5, n-5)
	s1, _ := NodeSigner("n1", nodeKeys[0])
	s3, _ := NodeSigner("n3", nodeKeys[2])
	c := &Checkpoint{Origin: b.st.Origin(), Size: hs[1].LogSize, Root: hs[1].LogRoot, Height: 1, BlockHash: hs[1].Hash()}
	cpNote := signedBy(t, c, s1, s3)
	var buf bytes.Buffer
	w, _ := NewRecordWriter(&buf)
	w.WriteBlock(hs[0], b.raw[:5])
	w.WriteBlock(hs[1], b.raw[5:])
	w.WriteCheckpoint(cpNote)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// the record reads back, and its checkpoint opens against the election's nodes and quorum
	rr, err := NewRecordReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for blocks := 0; ; blocks++ {
		if _, err := rr.Next(); err == io.EOF {
			if blocks != 2 {
				t.Fatalf("%d blocks", blocks)
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if cps := rr.Checkpoints(); len(cps) != 1 {
		t.Fatalf("%d checkpoints", len(cps))
	} else if cp, err := b.st.Board().Open(cps[0]); err != nil || cp.Size != uint64(n) {
		t.Fatalf("checkpoint %+v: %v", cp, err)
	}

	// PreCheck with the real proof checkers accepts every entry...
	sp := &StandardProofs{Manifest: m, JointKey: K,
		DealerPost: func(i int) (*tally.DealerPost, error) { return posts[i-1], nil },
		Tally:      func() ([][]*ballot.Ciphertext, []*group.Element, error) { return agg, vk, nil },
	}
	var all []*Entry
	for _, r := range b.raw {
		all = append(all, mustEntry(t, r))
	}
	for i, err := range PreCheck(rng, b.st, all, sp) {
		if err != nil {
			t.Errorf("PreCheck entry %d (%s): %v", i, all[i].Type, err)
		}
	}
	// ...and rejects a correctly signed ballot whose proof is broken, a
	// reveal that does not match the commitments, and a deal with a bad proof.
	bal, _, _ := ballot.EncryptBallot(rng, m, K, creds[0], [][]uint32{{1}})
	raw := bal.Bytes()
	raw[len(raw)-40] ^= 1
	badBallot, _ := NewEntry(TypeBallot, fp, RoleVoter, creds[0].Public(), raw)
	badBallot.Sign(rng, creds[0].PrivateKey())
	badReveal, _ := NewEntry(TypeDKGReveal, fp, RoleTrustee, secrets[0].SigningKey().Public(),
		(&tally.Reveal{Dealer: 1, Complainer: 3, Share: group.ScalarFromUint64(7)}).Bytes())
	badReveal.Sign(rng, secrets[0].SigningKey())
	dp := *posts[1]
	dp.Proof.Z = group.ScalarFromUint64(1)
	badDeal, _ := NewEntry(TypeDKGDeal, fp, RoleTrustee, secrets[1].SigningKey().Public(), dp.Bytes())
	badDeal.Sign(rng, secrets[1].SigningKey())
	good := all[len(all)-5] // a valid ballot
	// A node no longer proposes protocol 1.1's audited ballot, valid as it is.
	linked, _ := NewEntry(TypeAuditedBallot, fp, RoleVoter, creds[2].Public(), legacy)
	linked.Sign(rng, creds[2].PrivateKey())
	errs := PreCheck(rng, b.st, []*Entry{good, badBallot, badReveal, badDeal, linked}, sp)
	if errs[0] != nil || errs[1] == nil || !errors.Is(errs[2], ErrInvalidProof) || !errors.Is(errs[3], ErrInvalidProof) ||
		!errors.Is(errs[4], ErrNotAuthorized) || !strings.Contains(errs[4].Error(), "links the challenge") {
		t.Fatalf("PreCheck: %v", errs)
	}
}
