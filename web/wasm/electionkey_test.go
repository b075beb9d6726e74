package main

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/wire"
)

func TestVerifyElectionKey(t *testing.T) {
	e := testonly.Build(t, "bridge-key", testonly.SmallConfig())
	b64 := func(entries [][]byte) []string {
		var out []string
		for _, en := range entries {
			out = append(out, wire.EncodeB64(en))
		}
		return out
	}
	prefix := e.Entries[:e.SeqOpen+1]
	size := uint64(len(e.Entries))
	s := e.Seal(e.Entries)
	note := string(s.Notes[len(s.Notes)-1])
	p := testonly.Consistency(t, e.Entries, uint64(len(prefix)), size)

	v, err := verifyElectionKey(b64(prefix), note, hexHashes(p.Hashes))
	if err != nil {
		t.Fatal(err)
	}
	fp := e.Manifest.Fingerprint()
	if v.JointKey != hex.EncodeToString(e.JointKey.Bytes()) || v.Fingerprint != hex.EncodeToString(fp[:]) ||
		v.OpenSeq != uint64(e.SeqOpen) || v.Checkpoint == nil || v.Checkpoint.Size != size ||
		!v.Checkpoint.OK || v.Checkpoint.Valid != len(e.Nodes) {
		t.Fatalf("view %+v", v)
	}
	// The page opens the booth with exactly what the view gives.
	if _, err := parseManifest(v.Manifest); err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(v); err != nil {
		t.Fatal(err)
	}
	if v, err := verifyElectionKey(b64(prefix), "", nil); err != nil || v.Checkpoint != nil {
		t.Fatalf("without a checkpoint: %+v, %v", v, err)
	}

	// The open entry names another key, re-signed by the authority.
	bad := append([][]byte(nil), prefix...)
	bad[e.SeqOpen] = e.ResignedOpen(func(ob *bulletin.OpenBody) { ob.JointKey = group.NewElement().Add(ob.JointKey, group.Generator()) })
	_, err = verifyElectionKey(b64(bad), "", nil)
	wantCode(t, "open with another key", err, "key_unverified")
	if !strings.Contains(err.Error(), "V7") || !strings.Contains(err.Error(), "joint key") {
		t.Errorf("message %q does not name V7 and the joint key", err)
	}

	// A proof that does not match: V3.
	_, err = verifyElectionKey(b64(prefix), note, hexHashes(p.Hashes[1:]))
	wantCode(t, "bad consistency proof", err, "key_unverified")
	if !strings.Contains(err.Error(), "V3") {
		t.Errorf("message %q does not name V3", err)
	}

	_, err = verifyElectionKey([]string{"not base64!"}, "", nil)
	wantCode(t, "junk entry", err, "malformed")
	_, err = verifyElectionKey(b64(e.Entries[:e.SeqOpen+2]), "", nil)
	wantCode(t, "entries after open", err, "usage")
}
