package board

import (
	"bytes"
	"context"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/testonly"
)

// TestRecordRightAfterAPost: a record written the moment a post is
// committed, before the cosignatures catch up, still holds that post (the
// writer waits for the quorum checkpoint), and ends with a checkpoint that
// covers exactly its entries.
func TestRecordRightAfterAPost(t *testing.T) {
	e, c := newElectionCluster(t, testonly.Config{Voters: 2}, nil, "n1", "n2", "n3")
	c.mustAccept("manifest", e.ManifestEntry())
	res := c.mustAccept("credentials", e.CredentialsEntry())
	for _, n := range []*tnode{c.leader()} {
		var buf bytes.Buffer
		if err := n.board.WriteRecord(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		blocks, cps := testonly.ReadRecord(t, &buf)
		entries := 0
		for _, blk := range blocks {
			entries += len(blk.Entries)
		}
		if want := int(res[0].Seq) + 1; entries != want {
			t.Fatalf("record written right after entry %d holds %d entries, want %d", res[0].Seq, entries, want)
		}
		if len(cps) != 1 {
			t.Fatalf("%d checkpoints in the record", len(cps))
		}
		cp, err := bulletin.ParseCheckpointText(cps[0][:bytes.Index(cps[0], []byte("\n\n"))+1])
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size != uint64(entries) {
			t.Fatalf("checkpoint of size %d ends a record of %d entries", cp.Size, entries)
		}
	}
}
