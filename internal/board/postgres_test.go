package board

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestElectionOnClusterPostgres runs the election of TestElectionOnCluster
// with every node on PostgreSQL (one schema per node and run).
func TestElectionOnClusterPostgres(t *testing.T) {
	open := postgresOpener(t)
	e := testonly.NewElection(t, "board test election", testonly.Config{Voters: 8})
	c := newTCluster(t, e.NodeKeys(), open, nil, "n1", "n2", "n3")
	want := runElection(t, c, e)
	checkFinal(t, c, e, want)
}

// TestManyElectionsOnClusterPostgres is TestManyElectionsOnCluster with
// every node on PostgreSQL: partitions in rows (store migration 2).
func TestManyElectionsOnClusterPostgres(t *testing.T) {
	runManyElections(t, postgresOpener(t))
}

// postgresOpener opens each node's store in its own schema of this run.
func postgresOpener(t *testing.T) func(testing.TB, string, string) store.Store {
	url := testonly.PostgresURL(t)
	run := time.Now().UnixNano() % 1e9
	return func(t testing.TB, id, _ string) store.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := store.OpenPostgres(ctx, url, store.PostgresOptions{Schema: fmt.Sprintf("board_%d_%s", run, id)})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}

// TestLargeEntryOnClusterPostgres is TestLargestEntryOnCluster with every
// node on PostgreSQL, by default with a 1.2 MiB list of 2^15 credentials
// (more than a Raft batch): each credential is two key-value rows on
// every node, and a 2.3 MiB list took 75 s on a machine at load 12 (a
// 9 MiB one 5 minutes at load 30). URNA_LARGE_ENTRIES=1 posts the
// largest, 36 MiB.
func TestLargeEntryOnClusterPostgres(t *testing.T) {
	runLargeEntry(t, postgresOpener(t), largeN(ballot.MaxCredentials/32))
}
