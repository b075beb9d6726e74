package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/urna-vote/urna/"

// httpServer are the import paths of the HTTP server side: the echo
// package and echo itself.
var httpServer = []string{module + "internal/httpapi", "github.com/labstack/echo"}

// behindTheSeam MUST NOT depend, even indirectly, on the HTTP server: the
// board hands out domain values, the client and the role commands speak
// the wire types of internal/api, and internal/api is neutral ground.
var behindTheSeam = []string{
	module + "internal/board",
	module + "internal/apiclient",
	module + "internal/roles",
	module + "internal/api",
	module + "internal/cover",
}

// directOnly MUST NOT import the HTTP server themselves. internal/demo runs
// whole nodes in one process through internal/server, so the server is
// among its dependencies by design; its own code speaks internal/api.
var directOnly = []string{module + "internal/demo"}

func TestSeam(t *testing.T) {
	for _, pkg := range behindTheSeam {
		for _, dep := range goList(t, "-deps", pkg) {
			checkNotServer(t, pkg, dep)
		}
	}
	// The board knows nothing of HTTP, not even its wire types.
	for _, dep := range goList(t, "-deps", module+"internal/board") {
		if dep == module+"internal/api" {
			t.Errorf("internal/board depends on %s", dep)
		}
	}
	for _, pkg := range directOnly {
		var p struct{ Imports []string }
		if err := json.Unmarshal([]byte(strings.Join(goList(t, "-json=Imports", pkg), "\n")), &p); err != nil {
			t.Fatal(err)
		}
		for _, dep := range p.Imports {
			checkNotServer(t, pkg, dep)
		}
	}
}

func checkNotServer(t *testing.T, pkg, dep string) {
	t.Helper()
	for _, f := range httpServer {
		if dep == f || strings.HasPrefix(dep, f+"/") {
			t.Errorf("%s depends on %s", pkg, dep)
		}
	}
}

// TestSeamCatchesViolations proves the check can fail: internal/server
// depends on the echo package.
func TestSeamCatchesViolations(t *testing.T) {
	found := false
	for _, dep := range goList(t, "-deps", module+"internal/server") {
		if dep == module+"internal/httpapi" {
			found = true
		}
	}
	if !found {
		t.Fatal("go list -deps did not report internal/httpapi for internal/server")
	}
}

func goList(t *testing.T, flag, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-e", flag, pkg).Output()
	if err != nil {
		t.Fatalf("go list %s %s: %v", flag, pkg, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
