package bulletin_test

import (
	"fmt"

	"github.com/urna-vote/urna/bulletin"
)

func ExampleCheckpoint_Text() {
	fp := [32]byte{0xa3, 0x99, 0xe8, 0xa1, 0xc3, 0xb1, 0xb3, 0x2d}
	c := &bulletin.Checkpoint{
		Origin: bulletin.Origin("city-2026", fp),
		Size:   7,
		Root:   [32]byte{1},
		Height: 2,
	}
	fmt.Print(string(c.Text()))
	// Output:
	// urna/city-2026/a399e8a1c3b1b32d
	// 7
	// AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
	// block 2 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
}
