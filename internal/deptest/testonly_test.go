package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// testonlyPath is the test-support tree: the election fixture and its
// seeded randomness. Only _test.go files may import it.
const testonlyPath = "github.com/urna-vote/urna/internal/testonly"

// benchTools are the commands under bench/ that build benchmark inputs
// with the fixture (bench/genrecord). They are never built into urna or
// imported by it, so they may use the test-support tree.
const benchTools = "github.com/urna-vote/urna/bench/"

func isTestonly(path string) bool {
	return path == testonlyPath || strings.HasPrefix(path, testonlyPath+"/")
}

// TestNoProductionCodeImportsTestonly: no non-test package of the module
// depends, directly or through another package, on internal/testonly.
// go list without -test sees production files only, so the tests that use
// the fixture are not counted.
func TestNoProductionCodeImportsTestonly(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json=ImportPath,Deps", "github.com/urna-vote/urna/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked, caught := 0, false
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Deps {
			if !isTestonly(d) {
				continue
			}
			if isTestonly(p.ImportPath) {
				caught = true // testonly → testonly/seeded: the check sees real edges
				continue
			}
			if strings.HasPrefix(p.ImportPath, benchTools) {
				continue
			}
			t.Errorf("production package %s depends on %s", p.ImportPath, d)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("go list reported only %d packages", checked)
	}
	if !caught {
		t.Fatalf("the check never saw %s depend on %s/seeded: it cannot fail", testonlyPath, testonlyPath)
	}
}
