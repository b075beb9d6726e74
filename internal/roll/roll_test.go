package roll

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func parse(t *testing.T, s string) ([]Voter, *ParseError) {
	t.Helper()
	vs, err := Parse(strings.NewReader(s))
	if err == nil {
		return vs, nil
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse: %v is not a *ParseError", err)
	}
	if vs != nil {
		t.Fatalf("Parse returned voters with an error")
	}
	return nil, pe
}

func TestParse(t *testing.T) {
	vs, pe := parse(t, "\ufeffVoter_ID,Name,Contact,Weight\r\n"+
		"a1,\"Li, Wei\",li.wei@example.org,3\r\n"+
		"b-2,张伟,,\r\n"+
		"\r\n"+
		"c_3,\"Ann \"\"Q\"\"\", ann+vote@mail.example.COM ,1000\n"+
		"d4,D,,7\n")
	if pe != nil {
		t.Fatal(pe)
	}
	want := []Voter{
		{ID: "a1", Name: "Li, Wei", Contact: "li.wei@example.org", Weight: 3, Line: 2},
		{ID: "b-2", Name: "张伟", Weight: 1, Line: 3},
		{ID: "c_3", Name: `Ann "Q"`, Contact: "ann+vote@mail.example.COM", Weight: 1000, Line: 5},
		{ID: "d4", Name: "D", Weight: 7, Line: 6},
	}
	if fmt.Sprint(vs) != fmt.Sprint(want) {
		t.Fatalf("got  %+v\nwant %+v", vs, want)
	}
	// The weight column is optional: every voter then has weight 1.
	vs, pe = parse(t, "voter_id,name,contact\nx,,\ny,Y,y@example.org\n")
	if pe != nil || len(vs) != 2 || vs[0].Weight != 1 || vs[1].Weight != 1 {
		t.Fatalf("unweighted roll: %v %v", vs, pe)
	}
}

// TestParseLineNumbers: a quoted line break inside a field moves the line
// numbers of the lines after it, as an editor counts them.
func TestParseLineNumbers(t *testing.T) {
	_, pe := parse(t, "voter_id,name,contact\nv1,\"two\nlines\",\nv2,,bad\n")
	if pe == nil || len(pe.Errs) != 2 || pe.Errs[0].Line != 2 || !strings.Contains(pe.Errs[0].Msg, "U+000A") ||
		pe.Errs[1].Line != 4 || !strings.Contains(pe.Errs[1].Msg, `contact "bad"`) {
		t.Fatalf("got %v", pe)
	}
}

// TestParseErrors checks that every bad line is reported, with its line
// number and what is wrong, and that nothing is returned.
func TestParseErrors(t *testing.T) {
	roll := strings.Join([]string{
		"voter_id,name,contact,weight", // 1
		"v1,Ann,ann@example.org,1",     // 2 good
		",Empty,,1",                    // 3
		"V1,Dup,,2",                    // 4 duplicate of line 2 (case)
		"v3,Zero,,0",                   // 5
		"v4,Big,,1001",                 // 6
		"v5,Nan,,two",                  // 7
		"v6,Neg,,-1",                   // 8
		"v7,Mail,not-an-address,1",     // 9
		"v8,Few",                       // 10
		"v9,Many,,1,extra",             // 11
		"v10,Mail,a@localhost,1",       // 12
		"v 11,Space,,1",                // 13
		"v12,\"bad \"quote\",,1",       // 14
		"v13,Huge,,99999999999999999",  // 15
		"v14,Ok,,1",                    // 16 good
		"v15,IP,x@10.0.0.1,1",          // 17
		"v16,Bell\a,,1",                // 18
		"v1,Again,,1",                  // 19 duplicate of line 2
	}, "\n") + "\n"
	_, pe := parse(t, roll)
	if pe == nil {
		t.Fatal("a bad roll was accepted")
	}
	want := map[int]string{
		3:  "voter id is empty",
		4:  `voter id "V1" repeats the voter id of line 2`,
		5:  "weight 0",
		6:  "weight 1001 is too large: at most 1000",
		7:  `weight "two" is not a whole number`,
		8:  `weight "-1" is not a whole number`,
		9:  `contact "not-an-address": not an e-mail address: no @`,
		10: "2 columns, want 4",
		11: "5 columns, want 4",
		12: `domain "localhost" has no dot`,
		13: `voter id "v 11" has ' ' at position 2`,
		14: "not valid CSV",
		15: "is too large",
		17: "ends in a number",
		18: "control character U+0007",
		19: `voter id "v1" repeats the voter id of line 2`,
	}
	got := map[int]string{}
	for _, le := range pe.Errs {
		if _, dup := got[le.Line]; dup {
			t.Errorf("line %d reported twice", le.Line)
		}
		got[le.Line] = le.Msg
	}
	for line, w := range want {
		if !strings.Contains(got[line], w) {
			t.Errorf("line %d: got %q, want it to contain %q", line, got[line], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d lines reported, want %d: %v", len(got), len(want), pe)
	}
	msg := pe.Error()
	if !strings.HasPrefix(msg, "roll: 16 bad lines\n  line 3: voter id is empty\n") {
		t.Errorf("error text: %s", msg)
	}
}

func TestParseWholeRoll(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "the roll is empty"},
		{"\n\n", "the roll is empty"},
		{"voter_id,name,contact,weight\n", "header but no voter"},
		{"id,name,email\nv1,,\n", `line 1: header is "id,name,email"`},
		{"v1,Ann,ann@example.org\n", `line 1: header is "v1,Ann,ann@example.org"`},
		{"voter_id,name,contact,weight,extra\nv1,,,1,\n", "line 1: header"},
	} {
		_, pe := parse(t, c.in)
		if pe == nil || !strings.Contains(pe.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, pe, c.want)
		}
	}
}

func TestParseManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("voter_id,name,contact\n")
	for range MaxErrors + 10 {
		b.WriteString(",,\n")
	}
	_, pe := parse(t, b.String())
	if pe == nil || len(pe.Errs) != MaxErrors || !pe.Truncated || !strings.Contains(pe.Error(), "stopped after") {
		t.Fatalf("got %d errors, truncated %v", len(pe.Errs), pe.Truncated)
	}
}

func TestCheckEmail(t *testing.T) {
	for _, s := range []string{"a@example.org", "first.last+tag@sub.example.co", "x_y-z!#$%&'*/=?^`{|}~@xn--fiqs8s.cn", "1@2.example"} {
		if err := CheckEmail(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "@example.org", "a@", "a@b", "a.@example.org", ".a@example.org", "a..b@example.org",
		"a b@example.org", `"a"@example.org`, "Ann <a@example.org>", "a@example..org", "a@-example.org", "a@example-.org",
		"a@[127.0.0.1]", "a@1.2.3.4", "张@example.org", "a@例子.中国", "a@exa_mple.org",
		strings.Repeat("a", 65) + "@example.org", "a@" + strings.Repeat("b", 64) + ".org", "a@" + strings.Repeat("b.", 130) + "org"} {
		if err := CheckEmail(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCheckID(t *testing.T) {
	for _, s := range []string{"a", "A.b-c_d", "0", "_x", strings.Repeat("x", MaxIDLen)} {
		if err := CheckID(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", ".x", "-x", "a/b", "..", "a\\b", "é", "a b", strings.Repeat("x", MaxIDLen+1)} {
		if err := CheckID(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts satisfies every rule.
func FuzzParse(f *testing.F) {
	f.Add("voter_id,name,contact,weight\na,b,c@d.ef,2\n")
	f.Add("voter_id,name,contact\n\"a\",\"b\nc\",\n")
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, v := range vs {
			if CheckID(v.ID) != nil || seen[strings.ToLower(v.ID)] || v.Weight < 1 || v.Weight > MaxWeight ||
				(v.Contact != "" && CheckEmail(v.Contact) != nil) {
				t.Fatalf("accepted a bad voter %+v", v)
			}
			seen[strings.ToLower(v.ID)] = true
		}
	})
}
