package shuffle

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/group"
)

// Vector is a whole shuffle in the text format of SPEC.md §13.8
// (tally/shuffle/testdata/vector.txt), which independent verifiers read:
//
//	# comment
//	context HEX
//	key HEX
//	width W
//	input I HEX(α || β) ...     (one line per row, I = 1..N)
//	output I HEX(α || β) ...
//	permutation [p_1 ... p_N]   (0-based: output i is input p_i; optional)
//	proof HEX
type Vector struct {
	Comment     string
	Statement   *Statement
	Permutation []int // nil when not known (a verifier never needs it)
	Proof       []byte
}

// Text renders v in the format above.
func (v *Vector) Text() string {
	var sb strings.Builder
	if v.Comment != "" {
		fmt.Fprintf(&sb, "# %s\n", v.Comment)
	}
	st := v.Statement
	fmt.Fprintf(&sb, "context %x\nkey %x\nwidth %d\n", st.Context, st.Key.Bytes(), st.Width)
	for _, x := range []struct {
		name string
		rows []Row
	}{{"input", st.Inputs}, {"output", st.Outputs}} {
		for i, r := range x.rows {
			fmt.Fprintf(&sb, "%s %d", x.name, i+1)
			for _, c := range r {
				fmt.Fprintf(&sb, " %x", c.Bytes())
			}
			sb.WriteString("\n")
		}
	}
	if v.Permutation != nil {
		fmt.Fprintf(&sb, "permutation %v\n", v.Permutation)
	}
	fmt.Fprintf(&sb, "proof %x\n", v.Proof)
	return sb.String()
}

// ParseVector reads the text format of Vector. It requires the input and
// output rows to be numbered 1..N in order and decodes every element
// (canonical encodings only), but does not verify the proof, whose bytes it
// returns undecoded, nor check the statement's shape (VerifyVarTime does).
func ParseVector(text []byte) (*Vector, error) {
	v := &Vector{Statement: &Statement{}}
	st := v.Statement
	bad := func(n int, format string, args ...any) (*Vector, error) {
		return nil, fmt.Errorf("shuffle: vector line %d: %s", n, fmt.Sprintf(format, args...))
	}
	for n, line := range bytes.Split(text, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) == 0 {
			continue
		}
		if c, ok := strings.CutPrefix(string(line), "# "); ok && v.Comment == "" {
			v.Comment = c
			continue
		}
		if strings.HasPrefix(f[0], "#") {
			continue
		}
		arg := func() ([]byte, error) {
			if len(f) != 2 {
				return nil, fmt.Errorf("%s takes one value", f[0])
			}
			return hex.DecodeString(f[1])
		}
		var err error
		switch f[0] {
		case "context":
			st.Context, err = arg()
			if len(f) == 1 { // an empty context renders as "context "
				st.Context, err = []byte{}, nil
			}
		case "key":
			var b []byte
			if b, err = arg(); err == nil {
				st.Key, err = group.DecodeElement(b)
			}
		case "width":
			if len(f) != 2 {
				return bad(n+1, "width takes one value")
			}
			st.Width, err = strconv.Atoi(f[1])
		case "input", "output":
			rows := &st.Inputs
			if f[0] == "output" {
				rows = &st.Outputs
			}
			// SPEC.md §13.8: "input I ..." with I = 1..N, in order.
			if want := strconv.Itoa(len(*rows) + 1); len(f) < 2 || f[1] != want {
				return bad(n+1, "%s: want row number %s first", f[0], want)
			}
			var row Row
			for _, h := range f[2:] {
				b, err := hex.DecodeString(h)
				if err != nil {
					return bad(n+1, "%v", err)
				}
				c, err := ballot.ParseCiphertext(b)
				if err != nil {
					return bad(n+1, "%v", err)
				}
				row = append(row, c)
			}
			*rows = append(*rows, row)
		case "permutation":
			for _, x := range f[1:] {
				p, err := strconv.Atoi(strings.Trim(x, "[]"))
				if err != nil {
					return bad(n+1, "permutation: %v", err)
				}
				v.Permutation = append(v.Permutation, p)
			}
		case "proof":
			v.Proof, err = arg()
		default:
			return bad(n+1, "unknown field %q", f[0])
		}
		if err != nil {
			return bad(n+1, "%s: %v", f[0], err)
		}
	}
	if st.Key == nil || v.Proof == nil || st.Width == 0 {
		return nil, fmt.Errorf("shuffle: vector without key, width or proof")
	}
	return v, nil
}
