package replica

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
)

// Seed is the Raft state of a new one-server cluster whose FSM starts from a
// restored state (a backup) instead of from nothing.
type Seed struct {
	// DataDir is the replica's data directory (Config.DataDir). It MUST NOT
	// exist or MUST be empty.
	DataDir string
	// ID and RaftAddr are the server's Config.ID and the Raft address it
	// will advertise (Config.RaftAdvertise, or RaftBind).
	ID       string
	RaftAddr string
	// AppliedIndex is the FSM state's applied index (FSM.AppliedIndex of
	// the restored state). It MUST be at least 1.
	AppliedIndex uint64
	// WriteState writes the FSM's snapshot stream of that state, as its
	// FSMSnapshot.Persist would (FSM.Restore MUST accept it).
	WriteState func(w io.Writer) error
}

// seedTerm is the term of the seeded snapshot and the server's current
// term; the first election then runs in term 2.
const seedTerm = 1

// keyCurrentTerm is the stable-store key under which hashicorp/raft keeps
// the current term (raft.go: keyCurrentTerm). Setting it keeps log terms
// monotonic: entries after the seeded snapshot get terms above seedTerm.
var keyCurrentTerm = []byte("CurrentTerm")

// SeedCluster writes s as Raft state under s.DataDir: a snapshot at
// s.AppliedIndex whose configuration holds this one server as a voter, and
// whose stream is the replica's snapshot header (no membership metadata)
// followed by s.WriteState's stream.
//
// A node started with Config.ID = s.ID on that directory, over an FSM that
// already holds the state (AppliedIndex() == s.AppliedIndex), does not
// restore the snapshot again, elects itself and continues the log at
// s.AppliedIndex+1, so that no new entry looks like a replay to the FSM;
// Config.Bootstrap is ignored because state exists. Other servers join it
// as usual and receive the snapshot. The node records its API address when
// it becomes leader.
//
// This forms a NEW cluster: the seeded server's term and vote are fresh, so
// it MUST NOT be used to bring a member back into the cluster the state
// came from (such a member is removed and re-joins with an empty
// directory). On error, nothing is left in s.DataDir.
func SeedCluster(s Seed) (err error) {
	switch {
	case s.ID == "" || len(s.ID) > 1<<16-1:
		return errors.New("replica: seed: bad server ID")
	case s.AppliedIndex == 0:
		return errors.New("replica: seed: the state has applied nothing (index 0)")
	case s.RaftAddr == "":
		return errors.New("replica: seed: no Raft address")
	case s.WriteState == nil:
		return errors.New("replica: seed: no state writer")
	}
	created, err := emptyDir(s.DataDir)
	if err != nil {
		return fmt.Errorf("replica: seed: %w", err)
	}
	defer func() {
		if err == nil {
			return
		}
		_ = os.RemoveAll(filepath.Join(s.DataDir, "snapshots"))
		_ = os.Remove(filepath.Join(s.DataDir, "raft.db"))
		if created {
			_ = os.Remove(s.DataDir)
		}
	}()

	if err := writeSeedSnapshot(s); err != nil {
		return err
	}
	st, err := openBoltStore(filepath.Join(s.DataDir, "raft.db"))
	if err != nil {
		return fmt.Errorf("replica: seed: %w", err)
	}
	if err := st.SetUint64(keyCurrentTerm, seedTerm); err != nil {
		_ = st.Close()
		return fmt.Errorf("replica: seed: current term: %w", err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("replica: seed: %w", err)
	}
	return nil
}

func writeSeedSnapshot(s Seed) error {
	snaps, err := raft.NewFileSnapshotStoreWithLogger(s.DataDir, 1, newHCLogger(slog.New(slog.DiscardHandler), "raft-snap"))
	if err != nil {
		return fmt.Errorf("replica: seed: snapshot store: %w", err)
	}
	addr := raft.ServerAddress(s.RaftAddr)
	conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(s.ID), Address: addr}}}
	// The snapshot's legacy peer list is encoded by a transport; raft's TCP
	// and in-memory transports both encode an address as its bytes.
	_, enc := raft.NewInmemTransport(addr)
	defer enc.Close()
	sink, err := snaps.Create(raft.SnapshotVersionMax, s.AppliedIndex, seedTerm, conf, s.AppliedIndex, enc)
	if err != nil {
		return fmt.Errorf("replica: seed: create snapshot: %w", err)
	}
	h := snapHeader{fsmIndex: s.AppliedIndex, members: map[string]string{}}
	if _, err := sink.Write(h.encode()); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("replica: seed: write snapshot: %w", err)
	}
	if err := s.WriteState(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("replica: seed: write state: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("replica: seed: finish snapshot: %w", err)
	}
	return nil
}

// emptyDir makes sure dir exists and is empty, reporting whether it created
// it.
func emptyDir(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return false, err
		}
		return true, nil
	case err != nil:
		return false, err
	case len(ents) > 0:
		return false, fmt.Errorf("directory %s is not empty", dir)
	}
	return false, nil
}
