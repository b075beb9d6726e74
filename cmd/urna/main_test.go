package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/httpapi/httpapitest"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/testonly"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"urna": func() {
			// Scripts never start real nodes: `urna node` prints the
			// configuration it would run with.
			startNode = func(_ context.Context, cfg server.Config) error {
				fmt.Printf("would run node %s: data=%s raft=%s http=%s bootstrap=%v join=%q store=%s key=%v token=%v web=%v\n",
					cfg.ID, cfg.DataDir, cfg.RaftBind, cfg.HTTPListen, cfg.Bootstrap, cfg.Join, cfg.Store,
					cfg.SigningKey != nil || cfg.SigningKeyEnv != "", cfg.ClusterToken != "", cfg.Static != nil)
				return nil
			}
			main()
		},
	})
}

// TestScripts runs the command-line scenarios in testdata/script. $NODE is
// the URL of a fake board node serving a small (unverifiable) record;
// $RECORD_NODE's serves a small election's record of $RECORD_BYTES bytes
// (urna export reads what it copies as a record).
func TestScripts(t *testing.T) {
	rec := testonly.Build(t, "urna-cli-scripts", testonly.SmallConfig()).Record()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			srv := httptest.NewServer(httpapi.New(httpapitest.Sample(), httpapi.Options{}))
			env.Defer(srv.Close)
			env.Setenv("NODE", srv.URL)
			f := httpapitest.Sample()
			f.Record = rec
			rsrv := httptest.NewServer(httpapi.New(f, httpapi.Options{}))
			env.Defer(rsrv.Close)
			env.Setenv("RECORD_NODE", rsrv.URL)
			env.Setenv("RECORD_BYTES", strconv.Itoa(len(rec)))
			return nil
		},
	})
}

// TestVerifyReport drives `urna verify` with a stand-in verifier, to check
// the report, the JSON and the exit status for passing and failing records.
func TestVerifyReport(t *testing.T) {
	dir := t.TempDir()
	rec := dir + "/record"
	writeFile(t, rec, []byte("record bytes"))
	pass := func(r io.Reader, _ client.VerifyOptions) (*client.Report, error) {
		b, _ := io.ReadAll(r)
		if string(b) != "record bytes" {
			t.Errorf("verifier read %q", b)
		}
		rep := &client.Report{ElectionID: "e1", Title: "Board 2026", Complete: true, Counts: [][]uint64{{3, 4}}, Trustees: []int{1, 3}, Entries: 12,
			Questions: []ballot.Question{{Text: "Board chair", Options: []string{"Ada", "Grace"}}}}
		for i := 1; i <= client.NumSteps; i++ {
			rep.Steps = append(rep.Steps, client.StepResult{ID: fmt.Sprintf("V%d", i), Title: "step", OK: true, Ran: true, Checked: i})
		}
		return rep, nil
	}
	fail := func(r io.Reader, o client.VerifyOptions) (*client.Report, error) {
		rep, _ := pass(bytes.NewReader([]byte("record bytes")), o)
		rep.Steps[7].OK = false
		rep.Steps[7].Failures = []client.Failure{{Entry: 57, Block: client.NoEntry, Field: "V8.5 question 0 option 1", Detail: "invalid proof"}}
		rep.Counts = nil
		return rep, client.ErrFailed
	}
	defer func(f func(io.Reader, client.FollowOptions) (*client.Verified, error)) { follower = f }(follower)

	follower = asFollower(pass)
	out, printed, err := runUrna("verify", rec)
	if err != nil {
		t.Fatalf("passing record: %v", err)
	}
	for _, want := range []string{"Board 2026", "V1   ok", "V13  ok", "Result (combined from trustees 1 and 3):\nBoard chair\n  Ada        3\n  Grace      4\n", "VERIFIED"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if printed != "" {
		t.Errorf("stderr without a terminal: %q", printed)
	}

	if out, _, err = runUrna("verify", rec, "--json"); err != nil {
		t.Fatalf("passing record, --json: %v", err)
	}
	for _, want := range []string{`"schema_version": 1`, `"ok": true`, `"text": "Board chair"`, `"name": "Grace",`, `"count": 4`, `"trustees": [`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %q:\n%s", want, out)
		}
	}

	follower = asFollower(fail)
	out, _, err = runUrna("verify", rec)
	if err == nil || !strings.Contains(err.Error(), "V8 failed: entry 57: V8.5 question 0 option 1: invalid proof") {
		t.Fatalf("failing record: %v", err)
	}
	if !strings.Contains(out, "V8   FAIL") || !strings.Contains(out, "entry 57") || !strings.Contains(out, "FAILED (V8)") {
		t.Errorf("report:\n%s", out)
	}

	// A truncated record: the first failure, with a hint.
	follower = asFollower(func(r io.Reader, o client.VerifyOptions) (*client.Report, error) {
		rep, _ := pass(bytes.NewReader([]byte("record bytes")), o)
		rep.Steps[0].OK = false
		rep.Steps[0].Failures = []client.Failure{{Entry: 9, Block: client.NoEntry, Field: "V1 record", Detail: "bulletin: malformed encoding: record truncated"}}
		return rep, client.ErrFailed
	})
	_, _, err = runUrna("verify", rec)
	var h hinter
	if err == nil || !strings.Contains(err.Error(), "V1 failed: entry 9: V1 record: bulletin: malformed encoding: record truncated") ||
		!errors.As(err, &h) || !strings.Contains(h.Hint(), "urna export") {
		t.Errorf("truncated record: %v", err)
	}

	follower = asFollower(fail)
	if out, _, err = runUrna("verify", "--json", rec); err == nil {
		t.Fatal("--json on a failing record exited 0")
	}
	for _, want := range []string{`"schema_version": 1`, `"ok": false`, `"id": "V8"`, `"fingerprint": "0000`, `"entry": 57`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %q:\n%s", want, out)
		}
	}
}

// asFollower makes a stand-in verifier the follower of `urna verify`.
func asFollower(v func(io.Reader, client.VerifyOptions) (*client.Report, error)) func(io.Reader, client.FollowOptions) (*client.Verified, error) {
	return func(r io.Reader, o client.FollowOptions) (*client.Verified, error) {
		rep, err := v(r, client.VerifyOptions{Fingerprint: o.Fingerprint, TotalEntries: o.TotalEntries, Progress: o.Progress})
		if errors.Is(err, client.ErrFailed) {
			err = fmt.Errorf("%w: %w", client.ErrNotVerified, err)
		}
		return &client.Verified{Report: rep}, err
	}
}
