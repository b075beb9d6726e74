package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// officialsOnly are the packages of the officials' pages: the election
// authority's and the trustees' decisions and key files.
var officialsOnly = []string{
	"github.com/urna-vote/urna/internal/authority",
	"github.com/urna-vote/urna/internal/trustee",
	"github.com/urna-vote/urna/internal/keyfile",
}

// wasmDeps lists the packages the module built with tags links.
func wasmDeps(t *testing.T, tags string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", tags, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -tags %q (js/wasm): %v", tags, err)
	}
	return strings.Fields(string(out))
}

// TestBoothModuleCarriesNoOfficialsCode keeps the two modules apart: the
// booth's urna.wasm, which every voter downloads, links none of the
// officials' packages; officials.wasm (build tag officials) links them
// all, which proves the check can fail.
func TestBoothModuleCarriesNoOfficialsCode(t *testing.T) {
	booth, officials := wasmDeps(t, ""), wasmDeps(t, "officials")
	for _, p := range officialsOnly {
		if slices.Contains(booth, p) {
			t.Errorf("the booth's module links %s", p)
		}
		if !slices.Contains(officials, p) {
			t.Errorf("the officials' module does not link %s", p)
		}
	}
}
