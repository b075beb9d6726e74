package client_test

import (
	"bytes"
	"fmt"

	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
)

func ExampleVerify() {
	e := testonly.Build(nil, "example", testonly.SmallConfig())
	rep, err := client.VerifyElectionRecord(bytes.NewReader(e.Record()), client.VerifyOptions{Fingerprint: e.Manifest.Fingerprint()})
	if err != nil {
		fmt.Println(err)
	}
	for _, s := range rep.Steps[:3] {
		fmt.Println(s.ID, s.OK, s.Title)
	}
	fmt.Println("counted", rep.Counted, "of", rep.Ballots, "ballots; chair:", rep.Counts[0])
	// Output:
	// V1 true record decodes (every entry canonical)
	// V2 true hash-linked chain of blocks
	// V3 true Merkle log and checkpoint signatures
	// counted 5 of 7 ballots; chair: [2 1 2]
}

func ExampleVerifyElectionKey() {
	e := testonly.Build(nil, "example", testonly.SmallConfig())
	// A voter's device holds the entries 0 … open, fetched from any node.
	k, _, err := client.VerifyElectionKey(e.Entries[:e.SeqOpen+1], client.KeyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("open entry", k.OpenSeq, "QUAL", k.Qualified, "same key as the ceremony's:", k.JointKey.Equal(e.JointKey))
	// Output:
	// open entry 10 QUAL [1 2 3] same key as the ceremony's: true
}
