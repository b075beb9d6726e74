package roles_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/schnorr"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/tally"
)

// The attacks of issue 9, findings 1–4, run against the parties' real
// code through a key-less man in the middle (proxy) in front of an honest
// in-process node. Each one succeeded before the parties followed the
// verified record (client.Follow); each is refused or harmless now.

// Every voter's choices in these tests (question 1: one of three; question 2: up to two of four).
var picks = [][][]uint32{{{0}, {1}}, {{1}, {2, 3}}, {{2}, {}}, {{0}, {0, 3}}}

// Finding 1: `urna vote` encrypted under whatever key the node's
// /election said, and the challenge "verified" under the same false key.
func TestAttackSubstitutedElectionKey(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	p := testonly.NewProxy(t, e.node.APIAddr)
	// A key the attacker knows the secret of would do; any valid point
	// other than the real key shows the point.
	fake := hex.EncodeToString(e.manifest.Authority.Bytes())
	p.Set(func(path string, _ *http.Request, body []byte) []byte {
		if path != api.Prefix+"/election" {
			return body
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Error(err)
			return body
		}
		m["joint_key"] = fake
		out, _ := json.Marshal(m)
		return out
	}, testonly.HoldAll) // it keeps what the voter sends
	_, err := roles.Cast(context.Background(), rand.Reader, e.client(p.URL()),
		roles.CastOptions{Credential: e.creds[0], Choices: picks[0], Challenge: true})
	if err == nil {
		t.Fatal("the voter encrypted and cast a ballot under the key a proxy substituted")
	}
	if !errors.Is(err, roles.ErrRefused) || !strings.Contains(err.Error(), "election key") {
		t.Fatalf("refusal %q does not name the substituted election key", err)
	}
	if held := heldEntries(t, p); len(held) != 0 {
		t.Fatalf("the voter sent %d ballots encrypted under the proxy's key", len(held))
	}
	if n := e.count(bulletin.TypeBallot) + e.count(bulletin.TypeAuditedBallot); n != 0 {
		t.Fatalf("%d ballots reached the board through the hostile proxy", n)
	}
}

// Finding 2: `urna trustee decrypt` verified /record but decrypted the
// aggregate of /entries: a proxy hiding every ballot but one collected a
// partial decryption of that single ballot (and answered 503).
func TestAttackHiddenBallotsTrustee(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	e.voteAndClose()
	p := testonly.NewProxy(t, e.node.APIAddr)
	p.Set(hideBallots(t, e.direct), testonly.HoldAll)
	_, err := roles.Decrypt(context.Background(), rand.Reader, e.client(p.URL()), e.trustees[0])
	t.Logf("decrypt through the proxy: %v", err)
	held := heldEntries(t, p)
	agg, vks := e.honestAggregate()
	params := tally.ManifestParams(e.manifest)
	checked := 0
	for _, ent := range held {
		if ent.Type != bulletin.TypePartialDecryption {
			continue
		}
		pd, err := tally.ParsePartialDecryption(ent.Body)
		must(t, err)
		if err := tally.VerifyPartial(params, vks[pd.Trustee-1], agg, pd); err != nil {
			t.Fatalf("trustee %d gave the proxy a partial decryption of another aggregate than the board's 3 ballots (%v): one voter's choices are exposed", pd.Trustee, err)
		}
		checked++
	}
	t.Logf("%d partial decryptions held by the proxy, all of the board's aggregate", checked)
}

// Finding 3: `urna tally` combined the aggregate of /entries and the board
// accepted any result: the authority signed, for ever, a result of a
// forged view. The node now prechecks a result entry (V13), and the
// authority tallies only the verified record.
func TestAttackForgedResult(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	e.voteAndClose()
	ctx := context.Background()
	p := testonly.NewProxy(t, e.node.APIAddr)
	p.Set(hideBallots(t, e.direct), nil)
	viaProxy := e.client(p.URL())
	for _, tr := range e.trustees[:2] {
		e.retry(func() error { _, err := roles.Decrypt(ctx, rand.Reader, viaProxy, tr); return err })
	}

	// A result that counts only the first ballot, signed by the authority
	// (as a forged view would make it), is refused by the honest node.
	sk, err := roles.LoadAuthority(e.dir("ea"))
	must(t, err)
	forged := &tally.Result{Counts: [][]uint64{{1, 0, 0}, {0, 1, 0, 0}}, Trustees: []int{1, 2}}
	ent, err := bulletin.NewEntry(bulletin.TypeResult, e.manifest.Fingerprint(), bulletin.RoleAuthority, sk.Public(), forged.Bytes())
	must(t, err)
	must(t, ent.Sign(rand.Reader, sk))
	if _, err := e.direct.SubmitOne(ctx, ent.Bytes()); err == nil {
		t.Fatal("the node accepted a result entry that does not combine the partial decryptions on the board")
	}

	// The authority tallies through the forged view: what it posts is the
	// honest result, and the record verifies to the end.
	_, tallyErr := roles.Tally(ctx, rand.Reader, viaProxy, e.dir("ea"))
	t.Logf("tally through the proxy: %v", tallyErr)
	rep := e.verifyRecord()
	if step, f, bad := rep.FirstFailure(); bad && (step != client.StepV13 || rep.Complete) {
		t.Fatalf("after a tally through a forged view the record fails %s: %s", step, f)
	}
	if rep.Complete {
		want := [][]uint64{{1, 1, 1}, {0, 1, 1, 1}}
		if !slices.EqualFunc(rep.Counts, want, slices.Equal) {
			t.Fatalf("posted result %v, the ballots say %v", rep.Counts, want)
		}
	}
}

// Finding 4: `urna check-receipt` took the node's current checkpoint and
// tracker status on trust: a node serving the receipt's own checkpoint as
// current, saying the ballot counts, hid that it was replaced.
func TestAttackStaleCheckpointReceipt(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	voter := t.TempDir()
	first := e.vote(0, picks[0], voter)
	// Someone who holds the credential (a coercer) votes again elsewhere:
	// the first ballot no longer counts.
	e.vote(0, picks[1], "")
	e.vote(1, picks[2], "")
	receipt := receiptFile(t, voter, first)
	stale := string(first.Receipt.Checkpoint)
	p := testonly.NewProxy(t, e.node.APIAddr)
	p.Set(func(path string, _ *http.Request, body []byte) []byte {
		switch {
		case path == api.Prefix+"/checkpoint":
			c, err := e.manifestBoard().Open([]byte(stale))
			must(t, err)
			out, _ := json.Marshal(api.Checkpoint{Size: c.Size, Root: hex.EncodeToString(c.Root[:]), Note: stale, Signers: []string{"n1"}})
			return out
		case path == api.Prefix+"/election":
			// A consistent liar: the board's size is the stale checkpoint's.
			var m map[string]any
			if json.Unmarshal(body, &m) == nil {
				c, err := e.manifestBoard().Open([]byte(stale))
				must(t, err)
				m["counts"].(map[string]any)["entries"] = c.Size
				out, _ := json.Marshal(m)
				return out
			}
		case strings.HasPrefix(path, api.Prefix+"/trackers/"):
			var tr api.Tracker
			if json.Unmarshal(body, &tr) == nil {
				tr.Counts, tr.SupersededBy = true, nil
				out, _ := json.Marshal(tr)
				return out
			}
		}
		return body
	}, nil)
	st, err := roles.CheckReceipt(context.Background(), e.client(p.URL()), receipt)
	if err != nil {
		t.Fatalf("check-receipt through the proxy: %v", err)
	}
	if st.Counts || st.SupersededBy == nil {
		t.Fatalf("check-receipt says counts=%v superseded=%v for a ballot a later ballot of its credential replaced", st.Counts, st.SupersededBy)
	}
}

// TestAttackLateVoters: on a live board, a late voter is added only by the
// credential authority's signed, public late-credentials entry before the
// close (SPEC.md §3.9); a forged, re-registering or late one is refused,
// and the late voter's ballot counts with its weight.
func TestAttackLateVoters(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	ctx := context.Background()
	ca, err := roles.LoadCredentialAuthority(e.dir("ca"))
	must(t, err)
	ea, err := roles.LoadAuthority(e.dir("ea"))
	must(t, err)
	post := func(key *schnorr.PrivateKey, body []byte, mangle bool) error {
		ent, err := bulletin.NewEntry(bulletin.TypeLateCredentials, e.manifest.Fingerprint(), bulletin.RoleCredentialAuthority, key.Public(), body)
		must(t, err)
		must(t, ent.Sign(rand.Reader, key))
		raw := ent.Bytes()
		if mangle {
			raw[len(raw)-64-1] ^= 2 // the weight 1 becomes 3 after signing
		}
		_, err = e.direct.SubmitOne(ctx, raw)
		return err
	}
	listOf := func(creds []ballot.Credential, w uint32) []byte {
		var ws []uint32
		for range creds {
			ws = append(ws, w)
		}
		l, err := roles.WeightedPublicCredentials(e.manifest.ElectionID, [32]byte{}, creds, ws)
		must(t, err)
		return l.Bytes()
	}
	fresh, err := ballot.GenerateCredential(rand.Reader)
	must(t, err)

	refused := func(err error, what, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want a refusal saying %q", what, err, want)
		}
	}
	refused(post(ea, listOf([]ballot.Credential{fresh}, 1), false), "signed by the election authority", "not signed by the credential authority")
	refused(post(ca, listOf([]ballot.Credential{fresh}, 1), true), "weight changed after signing", "signature")
	refused(post(ca, listOf(e.creds[:1], ballot.MaxWeight), false), "a registered credential again", "already registered")

	// The honest path: one late voter of weight 3, who votes.
	var iss *roles.Issued
	e.retry(func() error {
		var err error
		iss, err = roles.AddLateCredentials(ctx, rand.Reader, e.direct, e.dir("ca"), []uint32{3}, [32]byte{7})
		return err
	})
	if filepath.Base(iss.Path) != roles.LateCredentialsFile(1) || iss.Count != 1 {
		t.Fatalf("issued %+v", iss)
	}
	late, err := roles.LoadCredential(iss.Path, 1)
	must(t, err)
	e.creds = append(e.creds, late)
	e.vote(len(e.creds)-1, [][]uint32{{2}, {0, 1}}, "")
	e.vote(0, [][]uint32{{0}, {1}}, "")
	e.closeAndDecrypt()

	// After the close: refused by the tool and by the board.
	if _, err := roles.AddLateCredentials(ctx, rand.Reader, e.direct, e.dir("ca"), []uint32{1}, [32]byte{}); !errors.Is(err, roles.ErrNotReady) {
		t.Fatalf("late voter after the close: %v", err)
	}
	refused(post(ca, listOf([]ballot.Credential{fresh}, 1), false), "after the close", "after close")

	tr := e.tally()
	// Red 1 (voter 0), Blue 3 (the late voter); A 3, B 1 + 3.
	if want := [][]uint64{{1, 0, 3}, {3, 4, 0, 0}}; !slices.EqualFunc(tr.Result.Counts, want, slices.Equal) {
		t.Fatalf("counts %v, want %v", tr.Result.Counts, want)
	}
}

// honestAggregate recomputes, from the node's own entries, the aggregate
// of the counted ballots (the last per credential, SPEC.md V10–V11) and
// the trustees' verification keys.
func (e *liveElection) honestAggregate() ([][]*ballot.Ciphertext, []*group.Element) {
	e.t.Helper()
	b := &roles.Board{Manifest: e.manifest, Fingerprint: e.manifest.Fingerprint()}
	for i, ent := range e.entries() {
		b.Entries = append(b.Entries, roles.Entry{Seq: uint64(i), Entry: ent})
	}
	_, _, vks, err := b.Qualified()
	must(e.t, err)
	last := map[[32]byte]*ballot.Ballot{}
	var order [][32]byte
	for _, x := range b.OfType(bulletin.TypeBallot) {
		bal, err := ballot.ParseBallot(x.Entry.Body)
		must(e.t, err)
		k := x.Entry.AuthorKey()
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = bal
	}
	var cts [][][]*ballot.Ciphertext
	for _, k := range order {
		cts = append(cts, last[k].Ciphertexts())
	}
	var options []int
	for _, q := range e.manifest.Questions {
		options = append(options, len(q.Options))
	}
	agg, err := tally.Aggregate(options, cts)
	must(e.t, err)
	return agg, vks
}

// verifyRecord verifies the honest node's record.
func (e *liveElection) verifyRecord() *client.Report {
	e.t.Helper()
	var buf bytes.Buffer
	_, err := e.direct.WriteRecord(context.Background(), &buf)
	must(e.t, err)
	rep, err := client.VerifyElectionRecord(&buf, client.VerifyOptions{})
	must(e.t, err)
	return rep
}

func (e *liveElection) manifestBoard() *bulletin.Board { return bulletin.BoardFor(e.manifest) }

// receiptFile is where SaveReceipt put v's receipt in dir.
func receiptFile(t *testing.T, dir string, v *roles.Vote) string {
	path := filepath.Join(dir, "receipt-"+v.Tracker.Short()+".json")
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAttackVoterElectionRecord: a voter reads the election's opening
// (manifest, credential list, key ceremony, open) from the node's binary
// record, not from /entries. A node that serves a record without the
// credential list (the rest renumbered, its checkpoints kept: its block is
// left empty), one with two trustees' deals swapped, or one cut inside the
// credential list gets no ballot: the voter refuses, says why, and sends nothing.
func TestAttackVoterElectionRecord(t *testing.T) {
	e := newLiveElection(t, liveConfig{})
	isRecord := func(path string) bool { return path == api.Prefix+"/record" }
	var credentials []byte
	for _, en := range e.entries() {
		if en.Type == bulletin.TypeCredentials {
			credentials = en.Body
		}
	}
	attacks := []struct {
		name    string
		rewrite func(body []byte) []byte
		want    []string
	}{
		{"credential list dropped", func(body []byte) []byte {
			return rewriteRecord(t, body, func(blocks []*bulletin.RecordBlock) {
				next := uint64(0)
				for _, b := range blocks {
					kept := b.Raw[:0]
					for _, raw := range b.Raw {
						if en, err := bulletin.ParseEntry(raw); err == nil && en.Type == bulletin.TypeCredentials {
							continue
						}
						kept = append(kept, raw)
					}
					b.Raw = kept
					b.Header.FirstSeq, b.Header.Count = next, uint32(len(b.Raw))
					b.Header.LogSize = next + uint64(len(b.Raw))
					next = b.Header.LogSize
				}
			})
		}, []string{"the board's record", "block 1"}},
		{"deals swapped", func(body []byte) []byte {
			return rewriteRecord(t, body, func(blocks []*bulletin.RecordBlock) {
				var deals []*[]byte
				for _, b := range blocks {
					for k, raw := range b.Raw {
						if en, err := bulletin.ParseEntry(raw); err == nil && en.Type == bulletin.TypeDKGDeal {
							deals = append(deals, &b.Raw[k])
						}
					}
				}
				if len(deals) < 2 {
					t.Fatalf("%d deals on the board", len(deals))
				}
				*deals[0], *deals[1] = *deals[1], *deals[0]
			})
		}, []string{"refusing to encrypt"}},
		{"cut inside the credential list", func(body []byte) []byte {
			i := bytes.Index(body, credentials)
			if i < 0 {
				t.Fatal("the credential list is not in the record")
			}
			return body[:i+10]
		}, []string{"the board's record", "truncated"}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			p := testonly.NewProxy(t, e.node.APIAddr)
			p.Set(func(path string, _ *http.Request, body []byte) []byte {
				if !isRecord(path) {
					return body
				}
				return a.rewrite(body)
			}, testonly.HoldAll)
			_, err := roles.Cast(context.Background(), rand.Reader, e.client(p.URL()),
				roles.CastOptions{Credential: e.creds[0], Choices: picks[0]})
			if err == nil {
				t.Fatal("the voter cast a ballot on an election read from a forged record")
			}
			for _, w := range a.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("refusal %q does not say %q", err, w)
				}
			}
			if errors.Is(err, roles.ErrNotReady) {
				t.Fatalf("a forged record read as a board not ready: %v", err)
			}
			if held := heldEntries(t, p); len(held) != 0 {
				t.Fatalf("the voter sent %d entries", len(held))
			}
		})
	}
	// The honest record through the same proxy: the voter casts.
	p := testonly.NewProxy(t, e.node.APIAddr)
	if _, err := roles.Cast(context.Background(), rand.Reader, e.client(p.URL()),
		roles.CastOptions{Credential: e.creds[0], Choices: picks[0]}); err != nil {
		t.Fatalf("through an honest proxy: %v", err)
	}
}
