package roll

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/urna-vote/urna/ballot"
)

// Bounds of a roll. MaxWeight is the largest weight one voter may carry,
// the bound of the weighted credential list (SPEC.md §5.3, §5.4);
// MaxVoters matches the largest public credential list (SPEC.md §5.3).
const (
	MaxWeight  = ballot.MaxWeight
	MaxVoters  = 1 << 20
	MaxIDLen   = 64
	MaxNameLen = 256 // bytes
	MaxErrors  = 1000
)

// VoterIDSyntax says which voter ids Parse accepts, in the words its errors
// use. A voter id names the voter's letter file, so it is kept to
// characters that are safe in a file name on every system.
const VoterIDSyntax = "1 to 64 characters from A-Z a-z 0-9 . _ -, not starting with . or -"

// Header is the header line of a roll, without and with the optional
// weight column.
var (
	Header         = []string{"voter_id", "name", "contact"}
	HeaderWeighted = []string{"voter_id", "name", "contact", "weight"}
)

// Voter is one line of a roll. Name and Contact are private; ID and Weight
// are the public part (Fingerprint).
type Voter struct {
	ID      string
	Name    string
	Contact string // an e-mail address, or empty
	Weight  uint32 // 1..MaxWeight
	Line    int    // the line of the roll the voter was read from (1 is the header)
}

// LineError is what is wrong with one line of a roll. Line 0 is the roll as
// a whole (an empty roll).
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	if e.Line == 0 {
		return "roll: " + e.Msg
	}
	return fmt.Sprintf("roll: line %d: %s", e.Line, e.Msg)
}

// ParseError holds every bad line of a roll, in line order.
type ParseError struct {
	Errs      []*LineError
	Truncated bool // more than MaxErrors: Parse stopped collecting
}

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "roll: %d bad line", len(e.Errs))
	if len(e.Errs) != 1 {
		b.WriteString("s")
	}
	if e.Truncated {
		fmt.Fprintf(&b, " (stopped after %d)", MaxErrors)
	}
	for _, le := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(strings.TrimPrefix(le.Error(), "roll: "))
	}
	return b.String()
}

// Unwrap lets errors.As find each LineError.
func (e *ParseError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, le := range e.Errs {
		out[i] = le
	}
	return out
}

// Parse reads a roll (package doc) and returns its voters in file order.
// On any bad line it returns nil and a *ParseError naming every bad line
// (up to MaxErrors), so nothing is issued from a roll that is partly wrong.
func Parse(r io.Reader) ([]Voter, error) {
	p := parser{seen: map[string]int{}}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // the column count is checked here, per line
	cr.ReuseRecord = true
	first := true
	for len(p.errs) < MaxErrors {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// The reader resumes after the bad record: report it and go on.
			p.fail(pe.StartLine, "not valid CSV (RFC 4180): %v", pe.Err)
			first = false
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("roll: reading: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if !p.header(line, rec) {
				// Without the header nothing else can be read reliably.
				return nil, &ParseError{Errs: p.errs}
			}
			continue
		}
		if len(p.voters) == MaxVoters {
			p.fail(line, "more than %d voters", MaxVoters)
			break
		}
		p.voter(line, rec)
	}
	if first {
		p.fail(0, "the roll is empty: want the header line %q and one line per voter", strings.Join(HeaderWeighted, ","))
	} else if len(p.voters) == 0 && len(p.errs) == 0 {
		p.fail(0, "the roll has a header but no voter")
	}
	if len(p.errs) > 0 {
		return nil, &ParseError{Errs: p.errs, Truncated: len(p.errs) >= MaxErrors}
	}
	return p.voters, nil
}

type parser struct {
	weighted bool
	voters   []Voter
	seen     map[string]int // lower-cased id → line
	errs     []*LineError
}

func (p *parser) fail(line int, format string, args ...any) {
	p.errs = append(p.errs, &LineError{Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) header(line int, rec []string) bool {
	got := make([]string, len(rec))
	for i, f := range rec {
		got[i] = strings.ToLower(strings.TrimSpace(f))
	}
	if len(got) > 0 {
		got[0] = strings.TrimPrefix(got[0], "\ufeff") // a spreadsheet's byte-order mark
	}
	switch strings.Join(got, ",") {
	case strings.Join(Header, ","):
	case strings.Join(HeaderWeighted, ","):
		p.weighted = true
	default:
		p.fail(line, "header is %q, want %q or %q", strings.Join(rec, ","), strings.Join(Header, ","), strings.Join(HeaderWeighted, ","))
		return false
	}
	return true
}

func (p *parser) voter(line int, rec []string) {
	want := len(Header)
	if p.weighted {
		want = len(HeaderWeighted)
	}
	if len(rec) != want {
		p.fail(line, "%d columns, want %d (%s)", len(rec), want, strings.Join(HeaderWeighted[:want], ","))
		return
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			p.fail(line, "column %s is not valid UTF-8", HeaderWeighted[i])
			return
		}
	}
	v := Voter{
		ID:      strings.TrimSpace(rec[0]),
		Name:    strings.TrimSpace(rec[1]),
		Contact: strings.TrimSpace(rec[2]),
		Weight:  1,
		Line:    line,
	}
	ok := true
	if err := CheckID(v.ID); err != nil {
		p.fail(line, "%v", err)
		ok = false
	} else if prev, dup := p.seen[strings.ToLower(v.ID)]; dup {
		p.fail(line, "voter id %q repeats the voter id of line %d (ids are compared ignoring case)", v.ID, prev)
		ok = false
	} else {
		p.seen[strings.ToLower(v.ID)] = line
	}
	if len(v.Name) > MaxNameLen {
		p.fail(line, "name is %d bytes long, at most %d", len(v.Name), MaxNameLen)
		ok = false
	} else if i := strings.IndexFunc(v.Name, isControl); i >= 0 {
		p.fail(line, "name has the control character %U at byte %d", []rune(v.Name[i:])[0], i+1)
		ok = false
	}
	if v.Contact != "" {
		if err := CheckEmail(v.Contact); err != nil {
			p.fail(line, "contact %q: %v", v.Contact, err)
			ok = false
		}
	}
	if p.weighted {
		w, err := parseWeight(strings.TrimSpace(rec[3]))
		if err != nil {
			p.fail(line, "%v", err)
			ok = false
		}
		v.Weight = w
	}
	if ok {
		p.voters = append(p.voters, v)
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// CheckID reports whether id is a valid voter id (VoterIDSyntax).
func CheckID(id string) error {
	if id == "" {
		return errors.New("voter id is empty")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("voter id is %d characters long, at most %d", len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' ||
			(c == '.' || c == '-') && i > 0
		if !ok {
			r, _ := utf8.DecodeRuneInString(id[i:])
			return fmt.Errorf("voter id %q has %q at position %d: want %s", id, r, i+1, VoterIDSyntax)
		}
	}
	return nil
}

// parseWeight reads a weight cell: empty means 1, else a decimal number
// in 1..MaxWeight.
func parseWeight(s string) (uint32, error) {
	if s == "" {
		return 1, nil
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("weight %q is not a whole number: want 1..%d", s, MaxWeight)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > MaxWeight {
		return 0, fmt.Errorf("weight %s is too large: at most %d", s, MaxWeight)
	}
	if n == 0 {
		return 0, fmt.Errorf("weight 0: every voter on the roll has a weight of at least 1 (remove the line to leave a voter out)")
	}
	return uint32(n), nil
}
