package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/urna-vote/urna/internal/demo"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "run a whole election on a local 3-node cluster",
		usage:   "[--ballots N] [--manifest FILE] [--serve] [--data DIR] [--ranked]",
		help: `Starts a 3-node board cluster on loopback in this process, creates an
election (a 1-of-4 and a 2-of-5 question), runs the key ceremony of 3
trustees with threshold 2 through the board, issues credentials, casts N
simulated ballots (some voters vote twice, some challenge a ballot first),
closes, decrypts with only 2 of the 3 trustees, posts the result and verifies
the complete election record. It exits 0 only if the result equals the count
of the simulated choices and every verification step passes.

The voters encrypt on all cores and post in batches over HTTP, with a
progress bar and an estimate of the time left on stderr; the trustees who
decrypt and the authority follow the board while they vote, so that their
checks before decrypting and tallying verify only the last ballots. At the
end stderr lists every phase with its wall time.

With --manifest FILE the election has the shape of a manifest template (the
JSON of 'urna authority create --manifest', SPEC.md §4.4, version 1, 2, 3 or
4): its questions, title, election id, threshold (the demo plays threshold + 1
trustees, one of whom stays away) and board and witness quorums. Leave out
every party's key: the demo plays them all, and runs the witnesses of a
version-2 manifest itself. A version-3 manifest may have ranked, score and
write-in questions: each voter answers every question at random (a valid
answer of its kind, once), every trustee shuffles the mixed questions after
the close, threshold of them decrypt, and the demo checks that the decrypted
answers are exactly the ones cast, as with --ranked.

With --serve the cluster and the web client stay up: after the simulated
ballots you get the URL and a few unused voter credentials to vote by hand;
press Enter to close and tally, then Ctrl-C to stop.

With --ranked the election has a 1-of-3 question (counted homomorphically)
beside a ranked, a score and a write-in question: after the close all 3
trustees shuffle those ballots (each after verifying the board), 2 decrypt
them, and the demo prints the IRV and STV rounds, the Schulze matrix and
winner, majority judgment, score sums and write-ins, and checks that the
verified answers are exactly the ones cast.`,
		flags: demoFlags,
	})
}

type demoOpts struct {
	ballots  *int
	manifest *string
	serve    *bool
	data     *string
	listen   *string
	logs     *bool
	memprof  *string
	cpuprof  *string
	weighted *bool
	elects   *int
	ranked   *bool
}

func demoFlags(fs *flag.FlagSet) action {
	o := &demoOpts{
		ballots:  fs.Int("ballots", 100, "number of simulated voters"),
		manifest: fs.String("manifest", "", "manifest template `FILE` (as for 'urna authority create') giving the election's shape (default: a 1-of-4 and a 2-of-5 question)"),
		serve:    fs.Bool("serve", false, "keep the cluster and the web client running for voting by hand"),
		data:     fs.String("data", "", "keep the election's files in `DIR` (new or empty), the record at DIR/record"),
		listen:   fs.String("http", "", "API and web `address` of the first node (default: 127.0.0.1:8080 with --serve, any free port otherwise)"),
		logs:     fs.Bool("logs", false, "show the nodes' logs"),
		weighted: fs.Bool("weighted", false, "run a weighted election: voters weigh 1 to 10 (SPEC.md §5.3), one late voter is added after the open"),
		ranked:   fs.Bool("ranked", false, "run a ranked election instead (SPEC.md §11–§13): a 1-of-3 question beside a ranking, scores and a write-in, mixed by 3 trustees, decrypted by 2; prints the IRV and STV rounds and the Schulze winner"),
		elects:   fs.Int("elections", 1, "run `N` elections side by side on the one cluster, each with its own parties, --ballots voters and record, each verified"),
		memprof:  fs.String("memprofile", "", "write the heap profile taken when the heap was largest (sampled every second) to `FILE`"),
		cpuprof:  fs.String("cpuprofile", "", "write a CPU profile of the whole demo (every party and node) to `FILE`"),
	}
	return func(ctx context.Context, e *env, _ []string) error { return runDemo(ctx, e, o) }
}

func runDemo(ctx context.Context, e *env, o *demoOpts) error {
	if *o.ballots < 1 {
		return usagef("--ballots must be at least 1")
	}
	if *o.elects < 1 {
		return usagef("--elections must be at least 1")
	}
	if *o.elects > 1 && *o.serve {
		return usagef("--serve runs one election: leave out --elections")
	}
	if *o.cpuprof != "" {
		f, err := os.Create(*o.cpuprof)
		if err != nil {
			return fmt.Errorf("urna demo: --cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("urna demo: --cpuprofile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintf(e.stderr, "urna demo: --cpuprofile: %v\n", err)
			}
		}()
	}
	if *o.ranked {
		return runRankedDemo(ctx, e, o)
	}
	cfg := demo.Config{Ballots: *o.ballots, DataDir: *o.data, HTTPListen: *o.listen, Static: webFS, Progress: e.stderr, Out: e.stdout,
		Weighted: *o.weighted, Elections: *o.elects}
	if *o.manifest != "" {
		data, err := os.ReadFile(*o.manifest)
		if err != nil {
			return fmt.Errorf("urna demo: --manifest: %w", err)
		}
		cfg.Manifest = data
	}
	if *o.logs {
		lg, err := newLogger(e, "info", "text")
		if err != nil {
			return err
		}
		cfg.Logger = lg
	}
	if *o.serve {
		if cfg.HTTPListen == "" {
			cfg.HTTPListen = "127.0.0.1:8080"
		}
		cfg.Serve = func(ctx context.Context, url string, creds []string) error {
			if creds == nil {
				fmt.Fprintf(e.stdout, "\nThe results and the whole board are at %s/ . Press Ctrl-C to stop.\n", url)
				<-ctx.Done()
				return nil
			}
			fmt.Fprintf(e.stdout, "\nVoting is open at %s/\nUnused voter credentials to try by hand (also with 'urna vote --node %s --credential ...'):\n", url, url)
			for _, cr := range creds {
				fmt.Fprintf(e.stdout, "  %s\n", cr)
			}
			fmt.Fprintln(e.stdout, "Press Enter to close the election and tally (Ctrl-C stops without tallying).")
			done := make(chan struct{})
			go func() { _, _ = bufio.NewReader(os.Stdin).ReadString('\n'); close(done) }()
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				return errStoppedEarly
			}
		}
	}
	if *o.memprof != "" {
		stop := peakHeapProfile(*o.memprof)
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintf(e.stderr, "urna demo: --memprofile: %v\n", err)
			}
		}()
	}
	_, err := demo.Run(ctx, cfg)
	if errors.Is(err, errStoppedEarly) {
		fmt.Fprintln(e.stderr, "stopped before the tally")
		return nil
	}
	if errors.Is(err, demo.ErrMismatch) || errors.Is(err, demo.ErrVerification) {
		return fmt.Errorf("urna demo: %w", err)
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return withHint(fmt.Errorf("urna demo: %w", err), addrInUseHint(cfg.HTTPListen))
	}
	if err != nil {
		return withHint(fmt.Errorf("urna demo: %w", err), "run again with --logs to see the nodes' logs")
	}
	return nil
}

// addrInUseHint advises another --http address than listen, which is in
// use (empty: the demo chose free ports, so another process took one).
func addrInUseHint(listen string) string {
	if listen == "" {
		return "another process took a port the demo chose; run it again"
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("another process listens on %s: give the demo a free address with --http %s", listen, net.JoinHostPort(host, "PORT"))
}

var errStoppedEarly = errors.New("stopped before the tally")

// peakHeapProfile samples the heap every second and keeps the heap profile
// taken when the heap in use was largest; the returned function stops the
// sampling and writes that profile to path.
func peakHeapProfile(path string) func() error {
	var best bytes.Buffer
	var peak uint64
	stop := demo.Every(time.Second, func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse <= peak {
			return
		}
		peak = ms.HeapInuse
		best.Reset()
		_ = pprof.Lookup("heap").WriteTo(&best, 0)
	})
	return func() error {
		stop()
		return os.WriteFile(path, best.Bytes(), 0o644)
	}
}

// runRankedDemo is 'urna demo --ranked' (internal/demo/ranked.go).
func runRankedDemo(ctx context.Context, e *env, o *demoOpts) error {
	if *o.manifest != "" || *o.serve || *o.weighted || *o.elects > 1 || *o.memprof != "" {
		return usagef("--ranked runs its own election: leave out --manifest, --serve, --weighted, --elections and --memprofile")
	}
	cfg := demo.Config{Ballots: *o.ballots, DataDir: *o.data, HTTPListen: *o.listen, Static: webFS, Progress: e.stderr, Out: e.stdout}
	if *o.logs {
		lg, err := newLogger(e, "info", "text")
		if err != nil {
			return err
		}
		cfg.Logger = lg
	}
	_, err := demo.RunRanked(ctx, cfg)
	if errors.Is(err, demo.ErrMismatch) || errors.Is(err, demo.ErrVerification) {
		return fmt.Errorf("urna demo --ranked: %w", err)
	}
	if err != nil {
		return withHint(fmt.Errorf("urna demo --ranked: %w", err), "run again with --logs to see the nodes' logs")
	}
	return nil
}
