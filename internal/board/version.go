package board

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
)

// Board versions (SPEC.md §3.14.8): what a node's state machine can apply.
// Each node announces the highest it runs through a replicated
// announcement, so that every node reads the same table before the board
// starts using a feature that an older node would apply differently.
const (
	// VersionOneElection is a node before many elections; a node that
	// never announced is taken to run it.
	VersionOneElection = 1
	// VersionElections is many elections per board (SPEC.md §3.14).
	VersionElections = 2
	// BoardVersion is the version this node runs.
	BoardVersion = VersionElections
)

// ErrBoardVersion: a voter of the Raft configuration has not announced a
// board version that the post needs (SPEC.md §3.14.8). It is a quota
// refusal: retrying does not help until the operator upgrades the nodes
// it names.
var ErrBoardVersion = fmt.Errorf("%w: nodes of the board run an older board version", ErrQuota)

// announceMagic starts an announcement's entry field. 0xff is no entry
// version, so every version of the rules refuses the bytes as a
// malformed entry; a node that knows announcements records them instead.
// It is 34 bytes long, so that a node of the first many-elections release
// reads its "election field" (bytes 2..33) as the fingerprint of no
// election and never hands it to an election's block builder.
var announceMagic = append([]byte{0xff}, "urna/board-version/announcement/1"...)

// keyVersion ‖ node id → u16 announced version, in partition 0's NSMeta.
var keyVersion = []byte("bversion/")

// encodeAnnounce is the entry field of node's announcement of version v.
func encodeAnnounce(node string, v uint16) []byte {
	b := append([]byte(nil), announceMagic...)
	b = binary.BigEndian.AppendUint16(b, v)
	b = append(b, byte(len(node)))
	return append(b, node...)
}

// isAnnounce reports whether an entry command's entry is an announcement.
func isAnnounce(entry []byte) bool { return bytes.HasPrefix(entry, announceMagic) }

// decodeAnnounce decodes an announcement's entry field (isAnnounce true).
func decodeAnnounce(b []byte) (node string, v uint16, err error) {
	b = b[len(announceMagic):]
	if len(b) < 3 {
		return "", 0, fmt.Errorf("%w: board-version announcement: short", bulletin.ErrMalformed)
	}
	v, n := binary.BigEndian.Uint16(b), int(b[2])
	node = string(b[3:])
	if len(node) != n || !ballot.ValidNodeID(node) || v == 0 {
		return "", 0, fmt.Errorf("%w: board-version announcement: bad node id or version", bulletin.ErrMalformed)
	}
	return node, v, nil
}

// applyAnnounce records an announcement (SPEC.md §3.14.8) in partition 0:
// the larger of the stored and the announced version. Its time field
// MUST be 0, so that a node of an earlier version, which refuses it as a
// malformed entry, reads the same block times.
func applyAnnounce(tx store.WriteTx, nb *boardState, c *entryCmd) (*boardState, error) {
	node, v, err := decodeAnnounce(c.entry)
	if err != nil {
		return nb, err
	}
	if c.timeMillis != 0 {
		return nb, fmt.Errorf("%w: board-version announcement with a time", bulletin.ErrMalformed)
	}
	if v <= nb.versions[node] {
		return nb, nil
	}
	if err := tx.WriteIn(0).Put(store.NSMeta, append(append([]byte(nil), keyVersion...), node...), binary.BigEndian.AppendUint16(nil, v)); err != nil {
		return nil, err
	}
	c2 := *nb
	c2.versions = maps.Clone(nb.versions)
	if c2.versions == nil {
		c2.versions = map[string]uint16{}
	}
	c2.versions[node] = v
	return &c2, nil
}

// loadVersions reads the announced versions from partition 0.
func loadVersions(tx store.ReadTx) (map[string]uint16, error) {
	out := map[string]uint16{}
	err := tx.In(0).Scan(store.NSMeta, keyVersion, func(k, val []byte) error {
		if len(val) != 2 {
			return fmt.Errorf("board: stored board version of %d bytes", len(val))
		}
		out[string(k[len(keyVersion):])] = binary.BigEndian.Uint16(val)
		return nil
	})
	return out, err
}

// Versions returns the board versions the nodes announced, by node id.
func (f *FSM) Versions() map[string]uint16 { return maps.Clone(f.board().versions) }

// lagging names the voters of the Raft configuration that have not
// announced at least version v, sorted.
func lagging(servers []replica.Server, versions map[string]uint16, v uint16) []string {
	var out []string
	for _, s := range servers {
		if s.Suffrage == "Voter" && versions[s.ID] < v {
			out = append(out, s.ID)
		}
	}
	slices.Sort(out)
	return out
}

// checkVersionFor refuses to create an election beside existing ones
// unless every voter has announced VersionElections (SPEC.md §3.14.8).
// Nodes that are up announce within a round trip of a leader, so a
// lagging list is waited on for up to wait (a cluster that just started)
// before the refusal, which names every node that lags.
func (s *Submitter) checkVersionFor(ctx context.Context, wait time.Duration) error {
	if len(s.fsm.board().elections) == 0 {
		return nil // the board's first election: every version creates it alike
	}
	r, err := s.rep.get()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(wait)
	for {
		servers, err := r.Servers()
		if err != nil {
			return err
		}
		lag := lagging(servers, s.fsm.board().versions, VersionElections)
		if len(lag) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: a second election needs board version %d on every voting node, and %s %s not announced it; upgrade %s and start %s (docs/OPERATIONS.md, Upgrades)",
				ErrBoardVersion, VersionElections, strings.Join(lag, ", "), plural(len(lag), "has", "have"), plural(len(lag), "it", "them"), plural(len(lag), "it", "them"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// announce proposes this node's announcement while the replicated table
// holds a lower version for it: at start, and again after a restore from
// a snapshot taken before it (SPEC.md §3.14.8). It retries each second
// until the announcement is applied.
func (cs *Cosigner) announce(kick <-chan struct{}) {
	cs.loop(kick, func(timer *time.Timer) {
		if cs.cfg.NodeID == "" || cs.f.board().versions[cs.cfg.NodeID] >= BoardVersion {
			return
		}
		if err := cs.submitAnnounce(); err != nil {
			if !errors.Is(err, ErrNoReplica) && cs.bg.Err() == nil {
				cs.log.Debug("board: announcing the board version failed", "err", err)
			}
			timer.Reset(time.Second)
		}
	})
}

func (cs *Cosigner) submitAnnounce() error {
	cmd := encodeEntryCmd(0, encodeAnnounce(cs.cfg.NodeID, BoardVersion))
	r, err := cs.rep.get()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cs.bg, 5*time.Second)
	defer cancel()
	if r.IsLeader() {
		res, err := r.Submit(ctx, cmd)
		if err != nil {
			return err
		}
		return res.Err
	}
	_, api := r.Leader()
	if api == "" || cs.cfg.ForwardCosign == nil {
		return errors.New("board: announce: no leader to forward to")
	}
	return cs.cfg.ForwardCosign(ctx, api, cmd)
}
