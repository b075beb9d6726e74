package demo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/textreport"
)

// Config configures Run. Zero fields take their defaults.
type Config struct {
	// Ballots is the number of simulated voters (default 100). Every tenth
	// also votes a second time, and every twentieth challenges a ballot first.
	Ballots int
	// DataDir keeps the nodes' stores, every party's files and the election
	// record (DataDir/record). Empty: a temporary directory, removed at the end.
	DataDir string
	// HTTPListen is the API address of the first node (default 127.0.0.1:0,
	// any free port); the other nodes always take free ports.
	HTTPListen string
	// Static is the web client the nodes serve at "/" (nil: none).
	Static fs.FS
	// Serve, when set, is called after the simulated ballots are cast, with
	// the web client's URL and a few unused voter credentials; the election
	// stays open until it returns. It is called again (with nil
	// credentials) after the result, and the cluster stops when it returns.
	Serve func(ctx context.Context, url string, credentials []string) error
	// Progress receives progress lines (nil: discarded).
	Progress io.Writer
	// Out receives the result tables and the verification verdict (nil: discarded).
	Out io.Writer
	// Logger receives the nodes' logs (nil: discarded).
	Logger *slog.Logger
	// Rand is the randomness of every party (default crypto/rand.Reader).
	Rand io.Reader
	// Workers encrypt ballots concurrently (default GOMAXPROCS).
	Workers int
	// Manifest is a manifest template of version 1, 2, 3 or 4 giving the
	// election's shape (newShape); nil: the built-in two-question election.
	// A version-3 template (ranked, score or write-in questions) is held as
	// RunRanked holds its election: every trustee mixes, threshold of them
	// decrypt, and the decrypted answers must be the ones cast.
	Manifest []byte
	// Weighted runs a weighted election (SPEC.md §5.3): voter n weighs
	// DemoWeight(n), and the credential authority adds one late voter
	// (LateWeight) after the open, who votes too (weighted.go).
	Weighted bool
	// Elections is how many elections run side by side on the one cluster
	// (SPEC.md §3.14), created while the others run, each with
	// its own parties, Ballots voters and record, verified on its own
	// (default 1). More than one excludes witnesses; Serve is then called
	// for each election, concurrently, and ServedElection(ctx) names it.
	Elections int

	ranked bool // RunRanked's election: its voters favour one venue (rankedAnswers)
}

// Outcome is what Run found.
type Outcome struct {
	Expected [][]uint64 // the count of the simulated plaintext choices
	Counts   [][]uint64 // the published result
	Report   *client.Report
	// OK: the result equals Expected (or, with ballots cast by hand, the
	// simulated ballots are all counted) and verification passed.
	OK       bool
	ByHand   int    // ballots counted that the demo did not cast
	Record   string // path of the record file ("" when DataDir is empty)
	Manifest *ballot.Manifest
	// Elections is each election's outcome when Config.Elections > 1; the
	// Outcome holding them says only whether they are all OK.
	Elections []*Outcome
	// Phases are the election's phases in order, each with its wall time.
	Phases []Phase
}

// Errors of Run.
var (
	// ErrMismatch: the published result is not the simulated count.
	ErrMismatch = errors.New("demo: the result does not match the simulated ballots")
	// ErrVerification: the election record fails verification.
	ErrVerification = errors.New("demo: the election record does not verify")
)

const (
	nodes        = 3
	maxElections = 64
	maxBallots   = 1_000_000
	extraCreds   = 5 // credentials left unused, for a person to try
)

type run struct {
	cfg     Config
	shape   *shape
	dir     string
	rand    io.Reader
	clients []*apiclient.Client
	start   time.Time
	// weights are the voters' weights by voter number (nil: all 1).
	weights map[int]uint32
	// stopWitnesses stops the witnesses' servers (after the nodes).
	stopWitnesses func()
	// tag names the election in progress lines when several run.
	tag string
	// phases times the election's phases.
	phases *phaseLog
}

func (r *run) progress(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "[%5.1fs] %s%s\n", time.Since(r.start).Seconds(), r.tag, fmt.Sprintf(format, args...))
	}
}

func (r *run) out(format string, args ...any) {
	if r.cfg.Out != nil {
		fmt.Fprintf(r.cfg.Out, format, args...)
	}
}

// Run holds the demo election. It returns the outcome and an error
// wrapping ErrMismatch or ErrVerification when the election does not check
// out, or any failure along the way.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	if cfg.Ballots == 0 {
		cfg.Ballots = 100
	}
	if cfg.Ballots < 1 || cfg.Ballots > maxBallots {
		return nil, fmt.Errorf("demo: %d ballots, want 1..%d", cfg.Ballots, maxBallots)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.HTTPListen == "" {
		cfg.HTTPListen = "127.0.0.1:0"
	}
	switch {
	case cfg.Elections == 0:
		cfg.Elections = 1
	case cfg.Elections < 1 || cfg.Elections > maxElections:
		return nil, fmt.Errorf("demo: %d elections, want 1..%d", cfg.Elections, maxElections)
	}
	// The parties that follow the board while voting runs draw from it
	// beside the voters' encryption workers.
	r := &run{cfg: cfg, rand: lockedReader{r: cfg.Rand, mu: new(sync.Mutex)}, start: time.Now(), phases: new(phaseLog)}
	var err error
	if r.shape, err = newShape(cfg.Manifest, cfg.Rand); err != nil {
		return nil, err
	}
	if r.shape.mixed() && (cfg.Weighted || cfg.Elections > 1 || cfg.Serve != nil) {
		return nil, errors.New("demo: an election with ranked, score or write-in questions runs alone, unweighted and without serving: leave out weights, several elections and serving")
	}
	if cfg.Elections > 1 && len(r.shape.witnesses) > 0 {
		return nil, errors.New("demo: several elections with witnesses are not supported yet: give a template without witnesses")
	}
	if cfg.DataDir == "" {
		d, err := os.MkdirTemp("", "urna-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(d)
		r.dir = d
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if ents, _ := os.ReadDir(cfg.DataDir); len(ents) > 0 {
			return nil, fmt.Errorf("demo: data directory %s is not empty: give a new or empty directory", cfg.DataDir)
		}
		r.dir = cfg.DataDir
	}
	return r.election(ctx)
}

// cluster starts the nodes and returns their public keys.
func (r *run) cluster(ctx context.Context) ([]*server.Node, []ballot.BoardNode, error) {
	var started []*server.Node
	var board []ballot.BoardNode
	witnesses, stopWitnesses, err := r.shape.serveWitnesses()
	if err != nil {
		return nil, nil, err
	}
	r.stopWitnesses = stopWitnesses
	stopAll := func() {
		for i := len(started) - 1; i >= 0; i-- {
			_ = started[i].Stop()
		}
		stopWitnesses()
	}
	for i := 1; i <= nodes; i++ {
		id := fmt.Sprintf("n%d", i)
		seed := make([]byte, ed25519.SeedSize)
		if _, err := io.ReadFull(r.rand, seed); err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
		dir := filepath.Join(r.dir, "nodes", id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
		if err := keyfile.Write(filepath.Join(r.dir, "nodes", id+".key"), []byte(server.FormatSeed(seed))); err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
		key := ed25519.NewKeyFromSeed(seed)
		c := server.DefaultConfig()
		c.ID, c.DataDir, c.SigningKey, c.Static = id, dir, key, r.cfg.Static
		c.RaftBind, c.HTTPListen = "127.0.0.1:0", "127.0.0.1:0"
		c.Witnesses = witnesses
		// A follower that lags (all three nodes share the demo's cores)
		// catches up with AppendEntries of MaxAppendEntries log entries,
		// decoded whole: the default 64 made Raft's decoding the largest
		// heap item of a 10,000-voter demo. (The credential list, one
		// entry and one replica command, travels alone in its log entry
		// as every command larger than a batch does:
		// replica.Config.MaxCommandBytes.)
		c.Replica = func(rc *replica.Config) {
			rc.MaxAppendEntries = min(rc.MaxAppendEntries, demoAppendEntries)
		}
		if i == 1 {
			c.HTTPListen, c.Bootstrap = r.cfg.HTTPListen, true
		} else {
			c.Join = started[0].APIAddr
		}
		if r.cfg.Logger != nil {
			c.Logger = r.cfg.Logger.With("node", id)
		}
		n, err := server.Start(ctx, c)
		if err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("demo: starting node %s: %w", id, err)
		}
		started = append(started, n)
		board = append(board, ballot.BoardNode{ID: id, Key: key.Public().(ed25519.PublicKey)})
		cl, err := apiclient.New(n.APIAddr, r.clientOptions())
		if err != nil {
			stopAll()
			return nil, nil, err
		}
		r.clients = append(r.clients, cl)
		if i == 1 {
			if err := waitLeader(ctx, cl); err != nil {
				stopAll()
				return nil, nil, err
			}
		}
	}
	// Wait until every node sees the three-node configuration.
	deadline := time.Now().Add(30 * time.Second)
	for _, cl := range r.clients {
		for {
			ci, err := cl.Cluster(ctx)
			if err == nil && len(ci.Servers) == nodes && ci.Leader != "" {
				break
			}
			if time.Now().After(deadline) {
				stopAll()
				return nil, nil, fmt.Errorf("demo: the cluster did not form: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return started, board, nil
}

// demoAppendEntries bounds the Raft log entries per AppendEntries call
// (replica.Config.MaxAppendEntries) of the demo's nodes.
const demoAppendEntries = 8

func waitLeader(ctx context.Context, cl *apiclient.Client) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := cl.Health(ctx)
		if err == nil && h.Leader != "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: no leader elected: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *run) dirOf(party string) string { return filepath.Join(r.dir, party) }

func (r *run) election(ctx context.Context) (*Outcome, error) {
	r.progress("starting a %d-node board cluster on loopback (data in %s)", nodes, r.dir)
	started, board, err := r.cluster(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		for i := len(started) - 1; i >= 0; i-- {
			_ = started[i].Stop()
		}
		r.stopWitnesses()
	}()
	r.progress("cluster up: %s", strings.Join(nodeURLs(started), ", "))
	if r.cfg.Elections > 1 {
		return r.holdMany(ctx, started, board)
	}
	if r.shape.mixed() {
		return r.mixedElection(ctx, board)
	}
	return r.hold(ctx, started, board)
}

type servedKey struct{}

// ServedElection returns the id of the election that Config.Serve is
// called for, when Config.Elections > 1 ("" otherwise).
func ServedElection(ctx context.Context) string {
	id, _ := ctx.Value(servedKey{}).(string)
	return id
}

// holdMany holds Config.Elections elections side by side on the cluster,
// each as hold holds one, and prints their results and verdicts in order.
func (r *run) holdMany(ctx context.Context, started []*server.Node, board []ballot.BoardNode) (*Outcome, error) {
	n := r.cfg.Elections
	var mu, pmu sync.Mutex
	rd := lockedReader{r: r.rand, mu: &mu} // every election's parties draw from r.rand
	var progress io.Writer
	if r.cfg.Progress != nil {
		progress = &lockedWriter{w: r.cfg.Progress, mu: &pmu}
	}
	outs, errs, bufs := make([]*Outcome, n), make([]error, n), make([]bytes.Buffer, n)
	var wg sync.WaitGroup
	for i := range n {
		id := fmt.Sprintf("%s-%d", r.shape.tmpl.ElectionID, i+1)
		c := *r
		c.cfg.Progress, c.cfg.Out, c.rand, c.tag, c.phases = progress, &bufs[i], rd, id+": ", new(phaseLog)
		c.shape = r.shape.withElectionID(id)
		if serve := r.cfg.Serve; serve != nil {
			c.cfg.Serve = func(ctx context.Context, url string, creds []string) error {
				return serve(context.WithValue(ctx, servedKey{}, id), url, creds)
			}
		}
		c.dir = filepath.Join(r.dir, id)
		if err := os.MkdirAll(c.dir, 0o700); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		c.clients = make([]*apiclient.Client, len(r.clients))
		for k, cl := range r.clients {
			var err error
			if c.clients[k], err = cl.In(id); err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = c.hold(ctx, started, board)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("election %s: %w", id, errs[i])
			}
		}()
	}
	wg.Wait()
	all := &Outcome{Elections: outs, OK: true}
	for i := range n {
		r.out("\n== election %s-%d ==\n%s", r.shape.tmpl.ElectionID, i+1, bufs[i].String())
		all.OK = all.OK && errs[i] == nil && outs[i] != nil && outs[i].OK
	}
	if all.OK {
		r.out("\nALL %d ELECTIONS OK: each ran side by side on one cluster, and each record verifies on its own.\n", n)
	} else {
		r.out("\nNOT ALL %d ELECTIONS OK: see the verdicts above.\n", n)
	}
	return all, errors.Join(errs...)
}

// lockedWriter serialises the progress lines of elections held side by side.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// initParties makes the keys of the authority, the credential authority
// and trustees trustees (trustee1..N in the data directory) and the
// manifest of template with them and the board nodes.
func (r *run) initParties(trustees int, template []byte, board []ballot.BoardNode) (*ballot.Manifest, error) {
	if _, err := roles.InitAuthority(r.rand, r.dirOf("authority")); err != nil {
		return nil, err
	}
	if _, err := roles.InitCredentialAuthority(r.rand, r.dirOf("credentials")); err != nil {
		return nil, err
	}
	var tpub []string
	for i := 1; i <= trustees; i++ {
		d := r.dirOf(fmt.Sprintf("trustee%d", i))
		if _, err := roles.InitTrustee(r.rand, d, fmt.Sprintf("trustee-%d", i)); err != nil {
			return nil, err
		}
		tpub = append(tpub, filepath.Join(d, roles.TrusteePublicFile))
	}
	return roles.BuildManifest(r.dirOf("authority"), &roles.ElectionSpec{
		Template: template, CredentialAuthority: filepath.Join(r.dirOf("credentials"), roles.CAPublicFile),
		Trustees: tpub, BoardNodes: board})
}

// createElection makes every party's keys (initParties, with the shape's
// trustees), starts the shape's witnesses and posts the manifest of the
// shape's template through ea.
func (r *run) createElection(ctx context.Context, ea *apiclient.Client, board []ballot.BoardNode) (*ballot.Manifest, error) {
	m, err := r.initParties(r.shape.trustees, r.shape.template(), board)
	if err != nil {
		return nil, err
	}
	if err := r.shape.startWitnesses(r.dirOf("witnesses"), m); err != nil {
		return nil, err
	}
	if _, err := roles.CreateElection(ctx, r.rand, ea, r.dirOf("authority"), m); err != nil {
		return nil, err
	}
	return m, nil
}

// clientOptions are the parties' API client options: one call may take
// as long as a node needs to check the largest entry of the election
// before proposing it. A shuffle of a ranked election is one entry of all
// the counted ballots' rows, whose proof the node verifies against the
// question's current rows (SPEC.md §3.9.1, §11.2): at 10,000 ballots and
// load 15 posting it took more than the default 60 s.
// So the bound grows with the ballots: 60 s + 30 ms per ballot.
func (r *run) clientOptions() apiclient.Options {
	d := time.Minute + time.Duration(r.cfg.Ballots)*30*time.Millisecond
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = d // a submit answers once its entry is committed
	// Consistent reads, as the role commands read their first --node: a
	// trustee asking a follower that has not applied the previous mixer's
	// last shuffle yet would shuffle stale rows (the node refuses them as
	// an invalid proof; TestRankedDemo met it).
	// A leader lost under load (a 100,000-voter demo beside other work
	// stopped on "503 no_leader") is elected again within seconds: retry
	// for about a minute, as a voter's client would; a repeated post is
	// answered with the position its entries took (SPEC.md §3.14.6, item 5).
	return apiclient.Options{Timeout: d, HTTPClient: &http.Client{Transport: t}, Consistent: true, MaxRetries: demoRetries}
}

// demoRetries is how many times the demo's parties retry a 503 (about a
// second apart, or what Retry-After says).
const demoRetries = 60

// hold holds one election on the running cluster, from the parties' keys
// to the verified record.
func (r *run) hold(ctx context.Context, started []*server.Node, board []ballot.BoardNode) (*Outcome, error) {
	trustees, threshold := r.shape.trustees, r.shape.threshold
	url := started[0].APIAddr
	r.phases.begin()

	ea, ca := r.clients[0], r.clients[1%nodes]

	// Setup: keys of every party, then the manifest.
	m, err := r.createElection(ctx, ea, board)
	if err != nil {
		return nil, err
	}
	r.progress("election authority posted the manifest (version %d): %d questions, %d trustees, threshold %d, %d board nodes, %d witnesses",
		m.Version, len(m.Questions), trustees, threshold, nodes, len(m.Witnesses))
	r.phases.end("setup (parties' keys, manifest)")

	nCreds := r.cfg.Ballots + extraCreds
	var iss *roles.Issued
	err = waitFor(ctx, func() error {
		var err error
		iss, err = r.issue(ctx, ca, nCreds)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.progress("credential authority issued %d credentials (secret file %s)", iss.Count, iss.Path)
	r.phases.end("credentials issued")

	// Key ceremony, every trustee through a different node.
	ts := make([]*roles.Trustee, trustees)
	for i := range ts {
		if ts[i], err = roles.LoadTrustee(r.dirOf(fmt.Sprintf("trustee%d", i+1))); err != nil {
			return nil, err
		}
	}
	tc := func(i int) *apiclient.Client { return r.clients[i%nodes] }
	for i, t := range ts {
		if err := waitFor(ctx, func() error { _, err := roles.Deal(ctx, r.rand, tc(i), t); return err }); err != nil {
			return nil, fmt.Errorf("demo: trustee %d deal: %w", i+1, err)
		}
	}
	for i, t := range ts {
		if err := waitFor(ctx, func() error { _, err := roles.Check(ctx, r.rand, tc(i), t, false); return err }); err != nil {
			return nil, fmt.Errorf("demo: trustee %d check: %w", i+1, err)
		}
	}
	for i, t := range ts {
		if _, err := roles.Answer(ctx, r.rand, tc(i), t); err != nil {
			return nil, fmt.Errorf("demo: trustee %d answer: %w", i+1, err)
		}
	}
	var open *roles.OpenInfo
	if err := waitFor(ctx, func() error {
		var err error
		open, err = roles.Open(ctx, r.rand, ea, r.dirOf("authority"), false)
		return err
	}); err != nil {
		return nil, fmt.Errorf("demo: open: %w", err)
	}
	r.progress("key ceremony done through the board: qualified trustees: %s; voting is open", textreport.List(open.Qualified))
	r.phases.end("key ceremony and open")

	// Voting.
	creds, order, el, err := r.voterKit(ctx, iss, nodes)
	if err != nil {
		return nil, err
	}
	voters := order[:r.cfg.Ballots]
	if r.cfg.Weighted {
		late, err := r.addLateVoter(ctx, ca, creds)
		if err != nil {
			return nil, err
		}
		voters = append(slices.Clone(voters), late)
	}
	// The trustees who will decrypt and the authority follow the board
	// while the voters vote.
	stopFollow := r.followWhileVoting(ctx, r.followers(ts[:threshold], tc, ea))
	sim, err := r.vote(ctx, el, creds, voters)
	if ferr := stopFollow(); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}
	r.phases.end("voting (encrypt, post, receipts; parties follow)")
	out := &Outcome{Expected: sim.expected, Manifest: m}
	if r.cfg.Serve != nil {
		var spare []string
		for _, n := range order[r.cfg.Ballots:] {
			spare = append(spare, creds[n].Text())
		}
		if err := r.cfg.Serve(ctx, url, spare); err != nil {
			return out, err
		}
	}

	// Tally.
	if _, err := roles.Close(ctx, r.rand, ea, r.dirOf("authority"), "end of the demo"); err != nil {
		return out, err
	}
	r.progress("election authority closed voting")
	r.phases.end("close (the authority follows the board, posts the close)")
	for i := 0; i < threshold; i++ { // the last trustee stays away
		if err := waitFor(ctx, func() error { _, err := roles.Decrypt(ctx, r.rand, tc(i), ts[i]); return err }); err != nil {
			return out, fmt.Errorf("demo: trustee %d decrypt: %w", i+1, err)
		}
		d := r.phases.end(fmt.Sprintf("trustee %d: check since its last follow, decrypt", i+1))
		r.progress("trustee %d verified the board (V1–V11) and posted its partial decryption in %v", i+1, d.Round(time.Millisecond))
	}
	r.progress("trustee %d is absent: %d of %d partial decryptions are enough", trustees, threshold, trustees)
	var tr *roles.TallyResult
	err = waitFor(ctx, func() error { var err error; tr, err = roles.Tally(ctx, r.rand, ea, r.dirOf("authority")); return err })
	if err != nil {
		return out, err
	}
	out.Counts = tr.Result.Counts
	out.ByHand = tr.Counted - sim.voters
	r.phases.end("tally (the authority's check since the close, combine, post)")
	r.progress("election authority posted the result (%d ballots counted)", tr.Counted)

	// Verification of the complete record, as any observer would.
	recPath := filepath.Join(r.dir, "record")
	if err := r.export(ctx, recPath); err != nil {
		return out, err
	}
	r.phases.end("export the record")
	if r.cfg.DataDir != "" {
		out.Record = recPath
	}
	f, err := os.Open(recPath)
	if err != nil {
		return out, fmt.Errorf("demo: %w", err)
	}
	rep, verr := client.VerifyElectionRecord(f, client.VerifyOptions{Rand: r.rand})
	f.Close()
	if verr != nil && !errors.Is(verr, client.ErrFailed) {
		return out, fmt.Errorf("demo: verifying the record: %w", verr)
	}
	out.Report = rep
	r.phases.end("verify the whole record")
	r.progress("verified the complete election record (%d entries, %d blocks)", rep.Entries, rep.Blocks)
	out.Phases = r.phases.list
	r.phases.print(r.progress)

	r.printResult(m, out.Counts, sim)
	r.printVerdict(rep)
	match := slices.EqualFunc(out.Counts, out.Expected, slices.Equal)
	if out.ByHand > 0 {
		// Ballots a person cast by hand change the count; the simulated ones
		// must all be there.
		match = true
		for q := range out.Counts {
			for o := range out.Counts[q] {
				match = match && out.Counts[q][o] >= out.Expected[q][o]
			}
		}
		r.out("\n%d ballots cast by hand are included in the result.\n", out.ByHand)
	}
	out.OK = match && rep.OK()
	switch {
	case !rep.OK():
		step, f, _ := rep.FirstFailure()
		r.out("\nVERDICT: FAIL, the record does not verify (%s: %s)\n", step, f)
		return out, fmt.Errorf("%w: %s: %s", ErrVerification, step, f)
	case !match:
		r.out("\nVERDICT: FAIL, the result is not the count of the simulated ballots\n")
		return out, ErrMismatch
	}
	r.out("\nVERDICT: OK, the published result equals the simulated ballots and the whole record verifies.\n")
	if out.Record != "" {
		r.out("The election record is in %s; check it again with 'urna verify %s'.\n", out.Record, out.Record)
	}
	if r.cfg.Serve != nil {
		if err := r.cfg.Serve(ctx, url, nil); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (r *run) export(ctx context.Context, path string) error {
	if err := roles.WaitCheckpoint(ctx, r.clients[0], 15*time.Second); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if _, err := r.clients[0].WriteRecord(ctx, f); err != nil {
		f.Close()
		return fmt.Errorf("demo: exporting the record: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// waitFor retries fn while it fails with roles.ErrNotReady (another
// party's post not yet visible on this node).
func waitFor(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := fn()
		if err == nil || !errors.Is(err, roles.ErrNotReady) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func nodeURLs(ns []*server.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.ID+" "+n.APIAddr)
	}
	return out
}

// printResult prints one table per question: the published count and the
// simulated one.
func (r *run) printResult(m *ballot.Manifest, counts [][]uint64, sim *simulation) {
	r.out("\nResult of %q (%d voters, %d ballots cast, %d revotes, %d challenged ballots)\n",
		m.Title, sim.voters, sim.cast, sim.revotes, sim.audits)
	for q, mq := range m.Questions {
		r.out("\n%s (choose %d)\n", mq.Text, mq.Max)
		w := 6
		for _, o := range mq.Options {
			w = max(w, len([]rune(o)))
		}
		r.out("  %-*s %8s %10s\n", w, "option", "votes", "simulated")
		for o, text := range mq.Options {
			var got uint64
			if q < len(counts) && o < len(counts[q]) {
				got = counts[q][o]
			}
			r.out("  %-*s %8d %10d\n", w, text, got, sim.expected[q][o])
		}
	}
}

func (r *run) printVerdict(rep *client.Report) {
	r.out("\nVerification of the election record (SPEC.md §10):\n")
	if r.cfg.Out != nil {
		textreport.Steps(r.cfg.Out, rep, 3)
	}
}

// voterKit reads the credentials IssueCredentials just wrote (not
// keyfile.Read: its 1 MiB bound on key files is ≈ 30,000 credentials) and
// the election as the board serves it, which every voter needs.
func (r *run) voterKit(ctx context.Context, iss *roles.Issued, nodes int) (map[int]ballot.Credential, []int, *roles.Election, error) {
	credData, err := os.ReadFile(iss.Path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("demo: %w", err)
	}
	creds, order, err := roles.ParseCredentials(credData)
	if err != nil {
		return nil, nil, nil, err
	}
	var el *roles.Election
	err = waitFor(ctx, func() error { var err error; el, err = roles.FetchElection(ctx, r.clients[2%nodes]); return err })
	if err != nil {
		return nil, nil, nil, err
	}
	return creds, order, el, nil
}
