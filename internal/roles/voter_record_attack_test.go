package roles_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/testonly"
)

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
