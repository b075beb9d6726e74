package client_test

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/testonly"
	"github.com/urna-vote/urna/internal/testonly/seeded"
)

var (
	smallOnce sync.Once
	small     *testonly.Election
)

// smallElection builds the shared valid election once per test binary.
func smallElection(t testing.TB) *testonly.Election {
	t.Helper()
	// Built without a test (tb nil: a failure panics), since every test shares it.
	smallOnce.Do(func() { small = testonly.Build(nil, "client-test", testonly.SmallConfig()) })
	return small
}

func verify(t testing.TB, rec []byte) *client.Report {
	t.Helper()
	rep, err := client.VerifyElectionRecord(bytesReader(rec), client.VerifyOptions{Rand: seeded.New("weights")})
	if err != nil && err != client.ErrFailed {
		t.Fatalf("Verify: %v", err)
	}
	if (err == nil) != rep.OK() {
		t.Fatalf("Verify returned %v but report OK = %v", err, rep.OK())
	}
	// The pipeline's work (pipeline.go) never changes the report: one
	// worker, whose batches span other ballots, gives the same report.
	one, err1 := client.VerifyElectionRecord(bytesReader(rec), client.VerifyOptions{Rand: seeded.New("other weights"), Workers: 1})
	if err1 != err || !reflect.DeepEqual(one, rep) {
		t.Fatalf("report with one worker differs:\n%+v\n%+v", one, rep)
	}
	return rep
}

func dump(t testing.TB, rep *client.Report) {
	t.Helper()
	for _, s := range rep.Steps {
		t.Logf("%-4s ok=%-5v ran=%-5v checked=%-4d %s %s", s.ID, s.OK, s.Ran, s.Checked, s.Title, s.Skipped)
		for _, f := range s.Failures {
			t.Logf("      %s", f)
		}
	}
}

func TestVerifyValidElection(t *testing.T) {
	e := smallElection(t)
	rep := verify(t, e.Record())
	if !rep.OK() || !rep.Complete {
		dump(t, rep)
		t.Fatal("valid election does not verify")
	}
	for i, s := range rep.Steps {
		if client.Step(i+1) >= client.StepV14 {
			// no mixed question: V14–V16 are skipped, and say why
			// (not applicable, which is not "not reached": the record is whole)
			if s.Ran || !s.OK || s.Skipped != "the manifest has no ranked, score or write-in question" || s.Outcome != client.OutcomeNotApplicable {
				t.Errorf("%s: ran=%v ok=%v skipped=%q outcome=%q", s.ID, s.Ran, s.OK, s.Skipped, s.Outcome)
			}
			continue
		}
		if !s.Ran || s.Checked == 0 || s.Outcome != client.OutcomePassed {
			t.Errorf("%s: ran=%v checked=%d outcome=%q", s.ID, s.Ran, s.Checked, s.Outcome)
		}
	}
	if rep.Ballots != len(e.SeqBallots) || rep.Counted != len(e.SeqCounted) || rep.Audited != len(e.SeqAudited) {
		t.Errorf("ballots %d counted %d audited %d; want %d %d %d", rep.Ballots, rep.Counted, rep.Audited, len(e.SeqBallots), len(e.SeqCounted), len(e.SeqAudited))
	}
	want := e.Result.Counts
	for q := range want {
		for o := range want[q] {
			if rep.Counts[q][o] != want[q][o] {
				t.Errorf("count q%d o%d = %d, want %d", q, o, rep.Counts[q][o], want[q][o])
			}
		}
	}
	// The counts are the plaintexts of the counted ballots.
	exp := [][]uint64{{0, 0, 0}, {0, 0, 0, 0}}
	for _, seq := range e.SeqCounted {
		for q, ch := range e.Choices[seq] {
			for _, o := range ch {
				exp[q][o]++
			}
		}
	}
	for q := range exp {
		for o := range exp[q] {
			if rep.Counts[q][o] != exp[q][o] {
				t.Errorf("count q%d o%d = %d, plaintexts give %d", q, o, rep.Counts[q][o], exp[q][o])
			}
		}
	}
	if rep.ElectionID != e.Manifest.ElectionID || rep.Fingerprint != e.Manifest.Fingerprint() {
		t.Errorf("report names election %q %x", rep.ElectionID, rep.Fingerprint[:4])
	}
}

func TestVerifyProgress(t *testing.T) {
	e := smallElection(t)
	var calls int
	lastDone := -1
	_, err := client.VerifyElectionRecord(bytesReader(e.Record()), client.VerifyOptions{
		TotalEntries: len(e.Entries),
		ChunkSize:    2, // several chunks in a small election
		Progress: func(step string, done, total int) {
			calls++
			if done < lastDone || total != len(e.Entries) {
				t.Errorf("progress %s %d/%d after %d", step, done, total, lastDone)
			}
			lastDone = done
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastDone != len(e.Entries) {
		t.Errorf("%d progress calls, last done %d", calls, lastDone)
	}
}

func TestVerifyChunkSizes(t *testing.T) {
	// The verdict does not depend on how ballots are batched.
	e := smallElection(t)
	rec := e.Record()
	for _, n := range []int{1, 3, 1000} {
		rep, err := client.VerifyElectionRecord(bytesReader(rec), client.VerifyOptions{ChunkSize: n})
		if err != nil {
			dump(t, rep)
			t.Fatalf("chunk size %d: %v", n, err)
		}
	}
}

func TestVerifyExpectedFingerprint(t *testing.T) {
	e := smallElection(t)
	fp := e.Manifest.Fingerprint()
	if _, err := client.VerifyElectionRecord(bytesReader(e.Record()), client.VerifyOptions{Fingerprint: fp}); err != nil {
		t.Fatal(err)
	}
	fp[0] ^= 1
	rep, err := client.VerifyElectionRecord(bytesReader(e.Record()), client.VerifyOptions{Fingerprint: fp})
	if err != client.ErrFailed {
		t.Fatalf("err = %v", err)
	}
	if step, f, _ := rep.FirstFailure(); step != client.StepV4 || f.Field != "V4.6 fingerprint" || f.Entry != 0 {
		t.Fatalf("first failure %s %s", step, f)
	}
}

func TestVerifyLargerElection(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 600 ballots")
	}
	// Revotes cross batch boundaries: 300 voters vote twice, in order.
	cfg := testonly.Config{Voters: 310, Abstain: 10, Ballots: 600, Audits: 3, N: 4, T: 3, Decrypt: []int{1, 2, 4}, Complaint: true, Nodes: 5, BlockSize: 50}
	e := testonly.Build(t, "larger", cfg)
	rep := verify(t, e.Record())
	if !rep.OK() {
		dump(t, rep)
		t.Fatal("does not verify")
	}
	exp := [][]uint64{{0, 0, 0}, {0, 0, 0, 0}}
	for _, seq := range e.SeqCounted {
		for q, ch := range e.Choices[seq] {
			for _, o := range ch {
				exp[q][o]++
			}
		}
	}
	if fmt.Sprint(exp) != fmt.Sprint(rep.Counts) || rep.Counted != 300 {
		t.Fatalf("counts %v (counted %d), plaintexts give %v", rep.Counts, rep.Counted, exp)
	}
}

// TestVerifyWeightedRecord: a weighted election with a late voter
// verifies, its result is the weighted count, and the report carries N,
// the total weight and maxCount (SPEC.md V6.3, V10.6).
func TestVerifyWeightedRecord(t *testing.T) {
	e := testonly.Build(t, "weighted", testonly.WeightedConfig())
	rep, err := client.VerifyElectionRecord(bytes.NewReader(e.Record()), client.VerifyOptions{})
	if err != nil {
		t.Fatalf("%v: %v", err, rep.Steps)
	}
	if !slices.EqualFunc(rep.Counts, e.Result.Counts, slices.Equal) {
		t.Fatalf("counts %v, want %v", rep.Counts, e.Result.Counts)
	}
	var want uint64
	for _, seq := range e.SeqCounted {
		b, _ := ballot.ParseBallot(e.Body(seq))
		for v, k := range e.Voters {
			if k.Public().Equal(b.Credential()) {
				want += uint64(e.Weight(v))
			}
		}
	}
	v, err := client.FollowRecord(bytes.NewReader(e.Record()), client.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Credentials != 6 || v.Report.Weight != 1+3+1000+1+7+2 || v.MaxCount != want || v.Report.MaxCount != want {
		t.Fatalf("credentials %d, weight %d, maxCount %d (report %d), want 6, 1014, %d", v.Credentials, v.Report.Weight, v.MaxCount, v.Report.MaxCount, want)
	}
}
