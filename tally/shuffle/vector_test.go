package shuffle

import (
	"bytes"
	"os"
	"strings"
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

// TestParseVectorRowNumbers: every input and output line names its row,
// 1..N in order (SPEC.md §13.8); a line without its number, or with
// another one, is refused rather than read as the next row.
func TestParseVectorRowNumbers(t *testing.T) {
	raw, err := os.ReadFile("testdata/vector.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseVector(raw); err != nil {
		t.Fatalf("pinned vector: %v", err)
	}
	for name, edit := range map[string][2]string{
		"input without I":    {"\ninput 1 ", "\ninput "},
		"bare input":         {"\ninput 1 ", "\ninput\ninput 1 "},
		"output without I":   {"\noutput 2 ", "\noutput "},
		"input out of order": {"\ninput 2 ", "\ninput 3 "},
		"output from 0":      {"\noutput 1 ", "\noutput 0 "},
		"output as 01":       {"\noutput 1 ", "\noutput 01 "},
	} {
		bad := bytes.Replace(raw, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(bad, raw) {
			t.Fatalf("%s: edit did not apply", name)
		}
		if _, err := ParseVector(bad); err == nil || !strings.Contains(err.Error(), "row number") {
			t.Errorf("%s: ParseVector = %v, want a row number error", name, err)
		}
	}
}
