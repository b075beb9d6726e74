package httpapi_test

import (
	"io/fs"
	"net/http"
	"testing"
	"testing/fstest"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
)

// site is a web client like web.Site: files, its own handler, and the
// digest of its code.
type site struct{ fs.FS }

func (site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Write([]byte("served by the site: " + r.URL.Path))
}

func (site) BoothJSON() ([]byte, error) { return []byte(`{"digest":"sha256:00"}` + "\n"), nil }

func TestBoothDigest(t *testing.T) {
	web := site{fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}}
	srv := serve(t, httpapitest.Sample(), httpapi.Options{Static: web})
	a := request(t, srv, "GET", "/api/v1/booth", "")
	if a.status != 200 || string(a.body) != `{"digest":"sha256:00"}`+"\n" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("/api/v1/booth: %d %q %v", a.status, a.body, a.header)
	}
	// The same digest per election (a page's footer stays in its
	// election); an unknown election has none.
	f := httpapitest.Sample()
	beta := httpapitest.Sample()
	beta.ElectionV.ElectionID = "beta"
	f.Others = map[string]*httpapitest.Fake{"beta": beta}
	many := serve(t, f, httpapi.Options{Static: web})
	for _, path := range []string{"/api/v1/booth", "/api/v1/elections/e1/booth", "/api/v1/elections/beta/booth"} {
		if a := request(t, many, "GET", path, ""); a.status != 200 || string(a.body) != `{"digest":"sha256:00"}`+"\n" {
			t.Errorf("%s: %d %q", path, a.status, a.body)
		}
	}
	if a := request(t, many, "GET", "/api/v1/elections/gamma/booth", ""); a.status != 404 || a.errorBody(t).Code != api.CodeUnknownElection {
		t.Errorf("the booth digest of an unknown election: %d %s", a.status, a.body)
	}
	// The site's own handler serves the files, with its headers.
	a = request(t, srv, "GET", "/js.0123/main.js", "")
	if a.status != 200 || string(a.body) != "served by the site: /js.0123/main.js" || a.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("a file of the site: %d %q %v", a.status, a.body, a.header)
	}
	// A plain file tree publishes no digest.
	srv = serve(t, httpapitest.Sample(), httpapi.Options{Static: web.FS})
	if a := request(t, srv, "GET", "/api/v1/booth", ""); a.status != 404 || a.errorBody(t).Code != api.CodeNotFound {
		t.Errorf("/api/v1/booth without a web client's digest: %d %s", a.status, a.body)
	}
}
