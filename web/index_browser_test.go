package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/urna-vote/urna/internal/demo"
	"github.com/urna-vote/urna/web"
)

// browserIn starts Chromium for a test whose screenshots go to the
// artifacts' folder sub.
func browserIn(t *testing.T, sub string) *browser {
	t.Helper()
	path := requireBrowser(t)
	dir := filepath.Join(artifacts(t), sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return newBrowser(t, path, dir)
}

// TestAttackIndexTitles: the index shows the titles of the manifests the
// board proves (entry 0 in a quorum checkpoint), never a node's claim. A
// node that rewrites an election's title in its status is not believed;
// one that serves another entry 0 gets its election listed without a
// title, saying so.
func TestAttackIndexTitles(t *testing.T) {
	b := browserIn(t, "index")
	var once sync.Once
	checked := false
	cfg := demo.Config{Ballots: 1, Elections: 2, Static: web.FS(), Progress: logWriter{t}}
	cfg.Serve = func(ctx context.Context, url string, creds []string) error {
		var list struct {
			Elections []struct {
				ID      string `json:"election_id"`
				Default bool
			}
		}
		getJSON(t, url+"/api/v1/elections", &list)
		if len(list.Elections) < 2 {
			return nil
		}
		once.Do(func() {
			checked = true
			titles := map[string]string{}
			var def, other string
			for _, e := range list.Elections {
				var st struct{ Title string }
				getJSON(t, url+"/api/v1/elections/"+e.ID+"/election", &st)
				titles[e.ID] = st.Title
				if e.Default {
					def = e.ID
				} else {
					other = e.ID
				}
			}
			indexTitles(t, b, url, def, other, titles)
		})
		return nil
	}
	runDemo(t, "demo with two elections", cfg)
	if !checked {
		t.Fatal("the demo never served two elections at once")
	}
}

// indexTitles runs the index against the honest node at url and against
// two lying proxies of it.
func indexTitles(t *testing.T, b *browser, url, def, other string, titles map[string]string) {
	listed := func() map[string]string {
		var items []struct{ ID, Title string }
		b.eval(`[...document.querySelectorAll('#elections-list li')].map((li) => ({id: li.dataset.election, title: li.firstChild.textContent}))`, &items)
		out := map[string]string{}
		for _, it := range items {
			out[it.ID] = it.Title
		}
		return out
	}

	b.base = url
	b.open("index.html", "home")
	if got := b.text("#title"); got != titles[def] {
		t.Errorf("honest node: the index's title is %q, want the manifest's %q", got, titles[def])
	}
	if got := listed(); got[def] != titles[def] || got[other] != titles[other] {
		t.Errorf("honest node: the list shows %v, want %v", got, titles)
	}
	b.shot("01-index-honest")

	// A node that claims another title in its status.
	const lie = "Vote for Mallory"
	b.base = tamperingProxy(t, url, "/api/v1/election", func(body []byte) []byte {
		return bytes.Replace(body, []byte(`"title":"`+titles[def]+`"`), []byte(`"title":"`+lie+`"`), 1)
	})
	b.open("index.html", "home")
	if got := b.text("main"); strings.Contains(got, lie) || b.text("#title") != titles[def] {
		t.Errorf("a node claiming the title %q: the index shows %q (title %q), want the manifest's %q", lie, got, b.text("#title"), titles[def])
	}
	b.shot("02-index-title-lie")

	// A node that serves the other election's entry 0 as this one's.
	var e0 json.RawMessage
	getJSON(t, url+"/api/v1/elections/"+def+"/entries/0", &e0)
	b.base = tamperingProxy(t, url, "/api/v1/elections/"+other+"/entries/0", func([]byte) []byte { return e0 })
	b.open("index.html", "home")
	got := listed()
	if got[def] != titles[def] || got[other] == titles[other] || got[other] == titles[def] || !strings.Contains(got[other], "not proven") {
		t.Errorf("a node serving another entry 0 for %s: the list shows %v, want %s's title and %s marked not proven", other, got, def, other)
	}
	b.audit("index.html with an unproven title", "en")
	b.shot("03-index-entry0-swapped")
	b.base = url
}
