package shuffle

import (
	"os"
	"testing"
)

// FuzzParseVector: the §13.8 text reader never panics, and what it accepts
// renders to a text it reads back to the same rendering.
func FuzzParseVector(f *testing.F) {
	raw, err := os.ReadFile("testdata/vector.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte("context \nkey 00\nwidth 1\nproof 00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVector(data)
		if err != nil {
			return
		}
		text := v.Text()
		again, err := ParseVector([]byte(text))
		if err != nil {
			t.Fatalf("rendering of an accepted vector rejected: %v\n%s", err, text)
		}
		if again.Text() != text {
			t.Fatal("rendering is not stable")
		}
	})
}
