package demo

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/wire"
	"github.com/urna-vote/urna/internal/witness"
)

// The demo election's questions (SPEC.md §4): one 1-of-4 and one 2-of-5.
var questions = []ballot.QuestionJSON{
	{Text: "Which colour for the new city flag?", Options: []string{"Red", "Green", "Blue", "Gold"}, Min: 1, Max: 1},
	{Text: "Pick two priorities for next year's budget", Options: []string{"Parks", "Libraries", "Cycle lanes", "Public transport", "Schools"}, Min: 2, Max: 2},
}

// shape is the election the demo holds: the manifest template with the
// parties the demo plays left out, and how many of each it plays.
type shape struct {
	tmpl      ballot.ManifestJSON
	trustees  int // threshold + 1: the last one stays away from the tally
	threshold int
	witnesses []demoWitness // version 2: the witnesses the demo runs
}

type demoWitness struct {
	name string
	key  ed25519.PrivateKey
	url  string
	h    *atomic.Pointer[http.Handler] // the witness's, once the manifest exists
}

// maxTrustees bounds the trustees the demo plays (each deals to all).
const maxTrustees = 16

// newShape reads Config.Manifest: a manifest template (the authoring form
// of 'urna authority create --manifest', ballot.ManifestJSON) of version 1,
// 2, 3 (ranked, score and write-in questions: the election runs as
// mixed.go holds it) or 4 whose questions, title, election id, threshold, board quorum, witness
// quorum, languages and schedule the demo keeps. The parties' keys are the demo's own, so the
// template MUST NOT name an authority, credential authority, trustee,
// board node or witness; a version-2 template gets max(witness_quorum, 1)
// witnesses that the demo runs. Empty: the built-in two-question election.
func newShape(data []byte, rand io.Reader) (*shape, error) {
	s := &shape{}
	if len(data) == 0 {
		s.tmpl = ballot.ManifestJSON{ElectionID: "demo", Title: "Urna demo election", Questions: questions, Threshold: 2, BoardQuorum: 2}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s.tmpl); err != nil {
			return nil, fmt.Errorf("demo: manifest: %w", err)
		}
	}
	t := &s.tmpl
	switch {
	case t.Version == 0:
		t.Version = ballot.ManifestVersion
	case t.Version != ballot.ManifestVersion && t.Version != ballot.ManifestVersionWitnessed &&
		t.Version != ballot.ManifestVersionKinds && t.Version != ballot.ManifestVersionExtended:
		return nil, fmt.Errorf("demo: manifest version %d: the demo holds version %d, %d, %d and %d elections", t.Version,
			ballot.ManifestVersion, ballot.ManifestVersionWitnessed, ballot.ManifestVersionKinds, ballot.ManifestVersionExtended)
	}
	kinds := 0
	for _, q := range t.Questions {
		if q.Kind != "" && q.Kind != ballot.KindSelect.String() {
			kinds++
		}
	}
	switch {
	case t.Version == ballot.ManifestVersionKinds && kinds == 0:
		return nil, fmt.Errorf("demo: manifest: version %d is for ranked, score and write-in questions and this one has none: use version %d", t.Version, ballot.ManifestVersion)
	case t.Version != ballot.ManifestVersionKinds && kinds > 0:
		return nil, fmt.Errorf("demo: manifest: ranked, score and write-in questions need \"version\": %d", ballot.ManifestVersionKinds)
	}
	if t.Authority != "" || t.CredentialAuthority != "" || len(t.Trustees) > 0 || len(t.BoardNodes) > 0 || len(t.Witnesses) > 0 {
		return nil, fmt.Errorf("demo: manifest: leave out authority, credential_authority, trustees, board_nodes and witnesses: the demo plays every party with its own keys")
	}
	if t.ElectionID == "" {
		t.ElectionID = "demo"
	}
	if t.Title == "" {
		t.Title = "Urna demo election"
	}
	if t.Threshold == 0 {
		t.Threshold = 2
	}
	if t.Threshold+1 > maxTrustees {
		return nil, fmt.Errorf("demo: manifest: threshold %d, the demo plays at most %d trustees (threshold + 1)", t.Threshold, maxTrustees)
	}
	s.threshold, s.trustees = int(t.Threshold), int(t.Threshold)+1
	if t.Version == ballot.ManifestVersionWitnessed || t.WitnessQuorum > 0 {
		n := max(int(t.WitnessQuorum), 1)
		if n > ballot.MaxWitnesses {
			return nil, fmt.Errorf("demo: manifest: witness quorum %d exceeds %d", n, ballot.MaxWitnesses)
		}
		t.WitnessQuorum = uint32(n)
		for i := range n {
			_, key, err := ed25519.GenerateKey(rand)
			if err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
			w := demoWitness{name: fmt.Sprintf("witness-%d.demo.invalid", i+1), key: key, h: new(atomic.Pointer[http.Handler])}
			t.Witnesses = append(t.Witnesses, ballot.WitnessJSON{Name: w.name, Key: wire.EncodeB64(key.Public().(ed25519.PublicKey))})
			s.witnesses = append(s.witnesses, w)
		}
	}
	return s, nil
}

// mixed reports whether the election has ranked, score or write-in
// questions (manifest version 3), whose ballots the trustees shuffle and
// decrypt one by one (mixed.go).
func (s *shape) mixed() bool { return s.tmpl.Version == ballot.ManifestVersionKinds }

// template returns the manifest template for roles.BuildManifest.
func (s *shape) template() []byte { return mustJSON(s.tmpl) }

// withElectionID is s for another election id (the same questions).
func (s *shape) withElectionID(id string) *shape {
	c := *s
	c.tmpl.ElectionID = id
	return &c
}

// serveWitnesses starts an HTTP server per witness on loopback; each
// answers 503 until startWitnesses gives it the manifest. It returns the
// nodes' witness map (name → URL) and a function that stops the servers.
func (s *shape) serveWitnesses() (map[string]string, func(), error) {
	urls := map[string]string{}
	var servers []*http.Server
	stop := func() {
		for _, srv := range servers {
			_ = srv.Close()
		}
	}
	for i := range s.witnesses {
		w := &s.witnesses[i]
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("demo: witness: %w", err)
		}
		h := w.h
		srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			if wh := h.Load(); wh != nil {
				(*wh).ServeHTTP(rw, req)
				return
			}
			http.Error(rw, "the demo witness has no manifest yet", http.StatusServiceUnavailable)
		})}
		go func() { _ = srv.Serve(ln) }()
		servers = append(servers, srv)
		w.url = "http://" + ln.Addr().String()
		urls[w.name] = w.url
	}
	return urls, stop, nil
}

// startWitnesses gives the witnesses the election's manifest.
func (s *shape) startWitnesses(dir string, m *ballot.Manifest) error {
	for i := range s.witnesses {
		w := &s.witnesses[i]
		wt, err := witness.New(witness.Config{Name: w.name, Key: w.key, Dir: filepath.Join(dir, fmt.Sprintf("witness%d", i+1)), Elections: []*ballot.Manifest{m}})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		wh := wt.Handler()
		w.h.Store(&wh)
	}
	return nil
}
