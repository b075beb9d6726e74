package deptest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/testonly"
)

// TestSpecReferencesExist keeps code comments and SPEC.md in step: every
// "SPEC.md §N.M" cited in Go code names a section heading of SPEC.md.
func TestSpecReferencesExist(t *testing.T) {
	spec := testonly.Spec(t)
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (§[0-9.]*[0-9])`).FindAllStringSubmatch(spec, -1) {
		headings[m[1]] = true
	}
	if len(headings) < 40 {
		t.Fatalf("found only %d section headings in SPEC.md", len(headings))
	}
	ref := regexp.MustCompile(`SPEC\.md (§[0-9.]*[0-9])`)
	checked := 0
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range ref.FindAllStringSubmatch(string(src), -1) {
			checked++
			if !headings[m[1]] {
				t.Errorf("%s cites SPEC.md %s, which has no such section", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d SPEC.md references found in the code; the walk is broken", checked)
	}
}

// TestSpecListsEveryLabel: every domain-separation label in
// internal/transcript appears in SPEC.md's label table (§2.3).
func TestSpecListsEveryLabel(t *testing.T) {
	spec := testonly.Spec(t)
	src, err := os.ReadFile("../transcript/transcript.go")
	if err != nil {
		t.Fatal(err)
	}
	labels := regexp.MustCompile(`Label = "([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(labels) < 10 {
		t.Fatalf("found only %d labels", len(labels))
	}
	for _, l := range labels {
		if !strings.Contains(spec, "| `"+l[1]+"` |") {
			t.Errorf("label %q is not in SPEC.md's label table", l[1])
		}
	}
}
