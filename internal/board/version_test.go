package board

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
)

// votersReplica is a blockingReplica whose Raft configuration has the
// voters ids.
type votersReplica struct {
	*blockingReplica
	ids []string
}

func (r *votersReplica) Servers() ([]replica.Server, error) {
	var out []replica.Server
	for _, id := range r.ids {
		out = append(out, replica.Server{ID: id, Suffrage: "Voter"})
	}
	return out, nil
}

func announceCmd(node string, v uint16) []byte { return encodeEntryCmd(0, encodeAnnounce(node, v)) }

// TestAttackSecondElectionBeforeUpgrade: a manifest that would create an
// election beside the first is not proposed while a voter of the Raft
// configuration has not announced board version 2 (an older node would
// refuse what this one accepts, SPEC.md §3.14.8); the refusal names every
// lagging node. Once all have announced, it is proposed.
func TestAttackSecondElectionBeforeUpgrade(t *testing.T) {
	es := makeElections(t, 2, "alpha", "beta")
	b := openLoneBoard(t, Config{SkipChecks: true, VersionWait: 50 * time.Millisecond}, es[0].ManifestEntry())
	b.ApplyEntries([]replica.Entry{{Index: 2, Cmds: [][]byte{announceCmd("n1", BoardVersion)}}})
	rep := &votersReplica{&blockingReplica{release: make(chan struct{})}, []string{"n1", "n2", "n3"}}
	close(rep.release)
	b.Attach(rep)
	sb, _ := b.Scope("beta")
	res, err := sb.Submit(context.Background(), [][]byte{es[1].ManifestEntry()})
	if err != nil || !errors.Is(res[0].Err, ErrBoardVersion) || !errors.Is(res[0].Err, ErrQuota) || !strings.Contains(res[0].Err.Error(), "n2, n3 have not announced") {
		t.Fatalf("a second election before n2 and n3 announced: %v, %v; want a board-version refusal naming n2, n3", err, res[0].Err)
	}
	if rep.held() != 0 {
		t.Fatalf("%d posts were proposed", rep.held())
	}
	// A node announcing the old version, or announcing late, is still lagging.
	b.ApplyEntries([]replica.Entry{{Index: 3, Cmds: [][]byte{announceCmd("n2", VersionOneElection), announceCmd("n3", BoardVersion)}}})
	res, _ = sb.Submit(context.Background(), [][]byte{es[1].ManifestEntry()})
	if res == nil || !errors.Is(res[0].Err, ErrBoardVersion) || !strings.Contains(res[0].Err.Error(), "n2 has not announced") {
		t.Fatalf("with n2 at version 1: %v, want a refusal naming n2", res)
	}
	b.ApplyEntries([]replica.Entry{{Index: 4, Cmds: [][]byte{announceCmd("n2", BoardVersion)}}})
	if _, err := sb.Submit(context.Background(), [][]byte{es[1].ManifestEntry()}); !errors.Is(err, replica.ErrLeadershipLost) {
		t.Fatalf("beta once every voter announced: %v, want it proposed", err)
	}
	// The alias of the first election is unaffected: it needs no version.
	if got := b.Versions(); got["n1"] != 2 || got["n2"] != 2 || got["n3"] != 2 {
		t.Fatalf("versions %v", got)
	}
}

// TestAnnounceRules: an announcement is refused as a malformed entry by
// the rules of every version (so a node before announcements applies it
// harmlessly), is recorded by this one as the larger version, never
// lowered, refused with a time or a bad node id, and survives a reload.
func TestAnnounceRules(t *testing.T) {
	if _, err := bulletin.ReadHeader(encodeAnnounce("n1", 2)); !errors.Is(err, bulletin.ErrMalformed) {
		t.Fatalf("the rules read an announcement as %v, want malformed", err)
	}
	ref, st := openApplyBoard(t, t.TempDir())
	res := ref.ApplyBatch(1, [][]byte{
		announceCmd("n1", 2),
		announceCmd("n1", 1),
		encodeEntryCmd(5, encodeAnnounce("n2", 2)),
		announceCmd("bad id", 2),
		encodeEntryCmd(0, append(encodeAnnounce("n3", 2), 'x')),
	})
	for i, want := range []bool{true, true, false, false, false} {
		if ok := res[i].Err == nil; ok != want || (!ok && !errors.Is(res[i].Err, bulletin.ErrMalformed)) {
			t.Fatalf("command %d: %v, accepted want %v", i, res[i].Err, want)
		}
	}
	if got := ref.Versions(); len(got) != 1 || got["n1"] != 2 {
		t.Fatalf("versions %v, want n1 at 2", got)
	}
	if v := ref.FSM.board(); len(v.elections) != 0 {
		t.Fatalf("an announcement made %d elections", len(v.elections))
	}
	bs, err := loadBoard(context.Background(), st)
	if err != nil || bs.versions["n1"] != 2 || len(bs.versions) != 1 {
		t.Fatalf("reloaded versions %v, %v", bs.versions, err)
	}
}
