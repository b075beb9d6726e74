package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// pure lists the packages that MUST NOT depend on HTTP, databases, Raft,
// logging or the testing package in their production code.
var pure = []string{
	"github.com/urna-vote/urna/ballot",
	"github.com/urna-vote/urna/tally",
	"github.com/urna-vote/urna/tally/shuffle",
	"github.com/urna-vote/urna/tally/methods",
	"github.com/urna-vote/urna/bulletin",
	"github.com/urna-vote/urna/client",
	"github.com/urna-vote/urna/internal/group",
	"github.com/urna-vote/urna/internal/transcript",
	"github.com/urna-vote/urna/internal/wire",
	"github.com/urna-vote/urna/internal/schnorr",
	"github.com/urna-vote/urna/internal/batch",
	"github.com/urna-vote/urna/internal/keyindex",
	"github.com/urna-vote/urna/internal/roll",
	"github.com/urna-vote/urna/internal/authority",
}

// forbidden are import-path prefixes a pure package must not reach.
var forbidden = []string{
	"github.com/labstack/echo",
	"github.com/jackc/pgx",
	"github.com/hashicorp/raft",
	"go.etcd.io/bbolt",
	"log/slog",
	"log",
	"testing",
	"net/http",
	"database/sql",
	"os/exec",
}

func TestPurePackagesStayPure(t *testing.T) {
	for _, pkg := range pure {
		out, err := exec.Command("go", "list", "-e", "-deps", "-json=ImportPath,Standard", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(out)))
		for dec.More() {
			var p struct{ ImportPath string }
			if err := dec.Decode(&p); err != nil {
				t.Fatal(err)
			}
			for _, f := range forbidden {
				if p.ImportPath == f || strings.HasPrefix(p.ImportPath, f+"/") {
					t.Errorf("%s depends on %s", pkg, p.ImportPath)
				}
			}
		}
	}
}

// TestFenceCatchesViolations proves the check can fail: a standard package
// known to import net/http is flagged.
func TestFenceCatchesViolations(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "net/http/httptest").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "\nnet/http\n") {
		t.Fatal("go list -deps did not report net/http for net/http/httptest")
	}
}
