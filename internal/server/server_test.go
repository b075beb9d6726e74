package server

import (
	"net/http"
	"testing"
	"time"
)

// TestStartThreeNodes starts three in-process nodes (as `urna demo` does),
// joins them over HTTP, posts through a follower and waits for a
// checkpoint signed by a quorum, which needs the followers' cosignatures
// forwarded to the leader.
func TestStartThreeNodes(t *testing.T) {
	e, nodes := startElection(t, 4, 3, nil)
	defer func() {
		for _, n := range nodes {
			if err := n.Stop(); err != nil {
				t.Errorf("stop %s: %v", n.ID, err)
			}
		}
	}()
	hc := &http.Client{Timeout: 10 * time.Second}
	mustPost(t, hc, nodes[2].APIAddr, e.ManifestEntry())
	mustPost(t, hc, nodes[1].APIAddr, e.CredentialsEntry())

	note := waitQuorumCheckpoint(t, hc, nodes[1].APIAddr, 2, 15*time.Second)
	if _, err := e.Board().Open([]byte(note)); err != nil {
		t.Fatalf("checkpoint note: %v", err)
	}
	members(t, hc, nodes[0].APIAddr, 3)
}

// waitQuorumCheckpoint polls base's checkpoint until it covers exactly size
// entries with at least two signers, and returns its note.
func waitQuorumCheckpoint(t *testing.T, hc *http.Client, base string, size uint64, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var cp struct {
			Size    uint64   `json:"size"`
			Note    string   `json:"note"`
			Signers []string `json:"signers"`
		}
		err := getJSON(t.Context(), hc, base+"/api/v1/checkpoint", &cp)
		if err == nil && cp.Size == size && len(cp.Signers) >= 2 {
			return cp.Note
		}
		if time.Now().After(deadline) {
			t.Fatalf("no quorum checkpoint of size %d at %s: %+v, %v", size, base, cp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterMember is a server of GET /cluster.
type clusterMember struct {
	ID      string `json:"id"`
	APIAddr string `json:"api_addr"`
}

// members returns the servers of base's GET /cluster, which MUST be n.
func members(t *testing.T, hc *http.Client, base string, n int) []clusterMember {
	t.Helper()
	var cl struct {
		Servers []clusterMember `json:"servers"`
	}
	if err := getJSON(t.Context(), hc, base+"/api/v1/cluster", &cl); err != nil || len(cl.Servers) != n {
		t.Fatalf("cluster: %+v, %v", cl, err)
	}
	return cl.Servers
}
