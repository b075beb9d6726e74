// Command wasmenc runs Go benchmarks of a package in headless Chromium, the
// way a voter's browser runs the booth's code, and optionally the same
// benchmarks natively beside them (issue 11: encrypting a 1-of-5 ballot in
// ≤ 15 ms in Chromium, ≤ 1.0 ms native):
//
//	go run ./bench/wasmenc                          # Encrypt1of5 benchmarks of ./ballot, 3 runs
//	go run ./bench/wasmenc -runs 5 -native          # and native, alternately
//	go run ./bench/wasmenc -runs 0 -cpuprofile DIR  # one V8 CPU profile per benchmark
//
// It builds the package's test binary with GOOS=js GOARCH=wasm (go test -c),
// serves it on loopback with Go's wasm_exec.js and a page (page.html) that
// runs it on the page's main thread, as the booth runs urna.wasm, starts
// Chromium headless (-chromium, default the first of chromium,
// chromium-browser, google-chrome on $PATH) and runs every benchmark that
// -bench matches in a fresh page of its own with -test.benchtime -benchtime,
// -runs times, alternating between benchmarks. One untimed warm-up run of
// each comes first: V8 compiles wasm functions with Liftoff on first call and
// tiers hot ones up to TurboFan on background threads, and the renderer's
// later instances of the module share that code, so the timed runs all see
// the same optimised code (the steady state of a booth that has encrypted
// once; -cold measures the first time). Each run prints Go's ns/op (wall time, performance.now() in the page, GC
// included) and the 1-minute load average before and after.
//
// With -cpu (the default) every benchmark also runs once with
// -test.benchtime 1x, and the renderer main thread's CPU time
// (Performance.getMetrics' ThreadTime) of the two runs gives CPU per op:
// (CPU(Nx) − CPU(1x)) / N, the set-up and the first op cancelling out. On a
// shared machine that is closer to what a voter's idle computer would take
// than the wall time; on a quiet machine the two agree.
//
// With -cold N, at the end, every benchmark runs with -test.benchtime 1x
// in N Chromiums started afresh (empty profile: nothing compiled or
// cached), one at a time: the page fetches and compiles the module, waits
// -cold-pause (1 s: a voter reading the ballot, Chromium's start-up
// settling), then runs it, and Go's ns/op is the first op of that page. V8
// compiles a wasm function lazily, on its first call, with its baseline
// compiler (Liftoff), so that op also pays for compiling the code it runs.
// For Encrypt1of5FirstBallots it is a voter's first ballot in a new tab;
// for Encrypt1of5 it is the op after the benchmark's 8 untimed warm-up
// ballots. Beside it comes the renderer main thread's CPU time for the
// whole run (Go's start-up, the benchmark's set-up and the op, compilation
// on the main thread included), which the load disturbs less. -js-flags
// passes V8 flags (--no-wasm-lazy-compilation, ...) to
// see what the first op pays for.
//
// With -cpuprofile DIR, after the timed runs, each benchmark runs once more
// under V8's sampling profiler (100 µs); the profile is written to
// DIR/NAME.cpuprofile (open it in Chromium's DevTools, Performance panel) and
// the functions and Go packages with the most self time are printed (only
// the samples under a function matching -focus, such as
// 'ballot\.EncryptBallot$', if given); with -cold, the first op of a fresh
// Chromium is profiled too (DIR/NAME.cold.cpuprofile).
// Profiling slows the code down: its runs are not timed.
//
// Chromium runs with its default flags (wasm compiled by Liftoff first and
// tiered up to TurboFan as it runs, as in a voter's browser) plus the usual
// headless ones, and --no-sandbox, which running as root needs.
package main

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

//go:embed page.html
var page []byte

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "wasmenc: error:", err)
		os.Exit(1)
	}
}

type config struct {
	pkg, bench, benchtime string
	runs                  int
	native, cpu           bool
	chromium, profileDir  string
	focus, jsFlags        string
	top, cold             int
	verbose               bool
	timeout, coldPause    time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var c config
	fs := flag.NewFlagSet("wasmenc", flag.ContinueOnError)
	fs.StringVar(&c.pkg, "pkg", "./ballot", "package whose benchmarks run")
	fs.StringVar(&c.bench, "bench", "^BenchmarkEncrypt1of5", "benchmarks to run (go test -bench regexp)")
	fs.StringVar(&c.benchtime, "benchtime", "200x", "go test -benchtime; Nx is needed for -cpu")
	fs.IntVar(&c.runs, "runs", 3, "timed runs of every benchmark, alternating between benchmarks (and native, with -native)")
	fs.BoolVar(&c.native, "native", false, "also run the benchmarks natively (GOOS/GOARCH of this machine), alternately with Chromium")
	fs.BoolVar(&c.cpu, "cpu", true, "also measure the renderer main thread's CPU time per op (one extra 1x run per benchmark and run)")
	fs.StringVar(&c.chromium, "chromium", "", "Chromium binary (default: chromium, chromium-browser or google-chrome on $PATH)")
	fs.StringVar(&c.profileDir, "cpuprofile", "", "after the timed runs, write one V8 CPU profile per benchmark into this directory and print where the time goes")
	fs.IntVar(&c.top, "top", 25, "functions printed per profile")
	fs.StringVar(&c.focus, "focus", "", "print only the profile's samples under a function matching this regexp (V8's names: '/' and '*' become '_'), e.g. 'ballot\\.EncryptBallot$'")
	fs.StringVar(&c.jsFlags, "js-flags", "", "V8 flags for Chromium (--js-flags), e.g. --no-wasm-lazy-compilation, for diagnosis")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "limit for one run of the test binary in Chromium")
	fs.DurationVar(&c.coldPause, "cold-pause", time.Second, "with -cold: wait this long between compiling the module and running it")
	fs.IntVar(&c.cold, "cold", 0, "also time the first op of every benchmark in this many fresh Chromiums (new profile, nothing compiled or cached)")
	fs.BoolVar(&c.verbose, "v", false, "print each page's wall and CPU time and Go's output line to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var focus *regexp.Regexp
	if c.focus != "" {
		var err error
		if focus, err = regexp.Compile(c.focus); err != nil {
			return fmt.Errorf("-focus: %w", err)
		}
	}
	if c.profileDir != "" {
		if err := os.MkdirAll(c.profileDir, 0o755); err != nil {
			return err
		}
	}
	n := benchN(c.benchtime)
	if c.cpu && n < 2 {
		return fmt.Errorf("-cpu needs -benchtime Nx with N ≥ 2, not %q (or -cpu=false)", c.benchtime)
	}
	if c.chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				c.chromium = p
				break
			}
		}
		if c.chromium == "" {
			return errors.New("no Chromium on $PATH\nhint: install it (Debian: apt-get install chromium) or give -chromium PATH")
		}
	}

	dir, err := os.MkdirTemp("", "wasmenc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(out, "load before building: %s\n", loadavg())
	wasm := filepath.Join(dir, "test.wasm")
	if err := goBuild(ctx, []string{"GOOS=js", "GOARCH=wasm"}, c.pkg, wasm); err != nil {
		return err
	}
	nativeBin := filepath.Join(dir, "native.test")
	if c.native {
		if err := goBuild(ctx, nil, c.pkg, nativeBin); err != nil {
			return err
		}
	}
	execJS, err := wasmExecJS(ctx)
	if err != nil {
		return err
	}
	pkgDir, err := goList(ctx, c.pkg)
	if err != nil {
		return err
	}

	base, stop, err := serve(wasm, execJS)
	if err != nil {
		return err
	}
	defer stop()

	b, err := startChromium(ctx, c, filepath.Join(dir, "profile"))
	if err != nil {
		return err
	}
	defer b.close()
	b.verbose = c.verbose
	if c.jsFlags != "" {
		fmt.Fprintf(out, "V8 flags: %s\n", c.jsFlags)
	}
	ver, err := cdp.Call(b.ctx, chromedp.FromContext(b.ctx).Browser, browser.GetVersion, cdp.Empty{})
	if err != nil {
		return fmt.Errorf("asking Chromium its version: %w", err)
	}
	goVer, _ := exec.CommandContext(ctx, "go", "version").Output()
	fmt.Fprintf(out, "chromium: %s (V8 %s), %s\n", ver.Product, ver.JsVersion, c.chromium)
	fmt.Fprintf(out, "go: %s", goVer)
	fmt.Fprintf(out, "package %s, -bench %q, -benchtime %s, %d runs\n", c.pkg, c.bench, c.benchtime, c.runs)

	// The benchmarks -bench selects, as the test binary lists them.
	res, _, err := b.runGo(base, c.timeout, []string{"-test.list", c.bench}, runOpts{})
	if err != nil {
		return err
	}
	var names []string
	for _, l := range strings.Split(res.Output, "\n") {
		if strings.HasPrefix(l, "Benchmark") {
			names = append(names, strings.TrimSpace(l))
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no benchmark of %s matches %q", c.pkg, c.bench)
	}

	// V8 compiles the module with Liftoff and tiers hot functions up to
	// TurboFan on background threads as they run; the compiled module is
	// shared by the renderer's later instances. One untimed run of every
	// benchmark first, so that the timed runs all see the same, optimised
	// code (-cold times the first op without it).
	for _, name := range names {
		args := []string{"-test.run", "^$", "-test.bench", "^" + name + "$", "-test.benchtime", c.benchtime}
		l0 := loadavg()
		res, _, err := b.runGo(base, c.timeout, args, runOpts{})
		if err != nil {
			return fmt.Errorf("%s in Chromium: %w", name, err)
		}
		r, err := parseBench(res.Output)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "warm-up %-34s chromium %6d × %8.3f ms/op wall (not counted)   load %s → %s\n", name, r.n, r.nsPerOp/1e6, l0, loadavg())
	}

	type key struct{ name, engine string }
	results := map[key][]result{}
	for r := 1; r <= c.runs; r++ {
		for _, name := range names {
			args := []string{"-test.run", "^$", "-test.bench", "^" + name + "$", "-test.benchtime", c.benchtime}
			l0 := loadavg()
			m, err := b.measure(base, c.timeout, args, c.cpu, n)
			if err != nil {
				return fmt.Errorf("%s in Chromium: %w", name, err)
			}
			m.load = l0 + " → " + loadavg()
			results[key{name, "chromium"}] = append(results[key{name, "chromium"}], m)
			fmt.Fprintf(out, "run %d  %-36s chromium  %s\n", r, name, m)
			if c.native {
				l0 := loadavg()
				m, err := runNative(ctx, nativeBin, pkgDir, args)
				if err != nil {
					return fmt.Errorf("%s native: %w", name, err)
				}
				m.load = l0 + " → " + loadavg()
				results[key{name, "native"}] = append(results[key{name, "native"}], m)
				fmt.Fprintf(out, "run %d  %-36s native    %s\n", r, name, m)
			}
		}
	}
	if c.runs > 0 {
		fmt.Fprintf(out, "\nsummary (min / median / max over %d runs)\n", c.runs)
		for _, name := range names {
			for _, engine := range []string{"chromium", "native"} {
				rs := results[key{name, engine}]
				if len(rs) == 0 {
					continue
				}
				fmt.Fprintf(out, "%-36s %-8s wall %s ms/op", name, engine, spread(rs, func(r result) float64 { return r.nsPerOp }))
				if rs[0].cpuPerOp > 0 {
					fmt.Fprintf(out, "   CPU %s ms/op", spread(rs, func(r result) float64 { return r.cpuPerOp }))
				}
				fmt.Fprintln(out)
			}
		}
	}
	fmt.Fprintf(out, "load after: %s\n", loadavg())

	if c.profileDir != "" {
		for _, name := range names {
			args := []string{"-test.run", "^$", "-test.bench", "^" + name + "$", "-test.benchtime", c.benchtime}
			_, p, err := b.runGo(base, c.timeout, args, runOpts{profile: true})
			if err != nil {
				return fmt.Errorf("profiling %s: %w", name, err)
			}
			file := filepath.Join(c.profileDir, name+".cpuprofile")
			if err := writeProfile(file, p); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nprofile of %s in Chromium (%s, not timed; load %s)\n", name, file, loadavg())
			printProfile(out, p, focus, c.top)
		}
	}

	if c.cold > 0 {
		b.close() // one Chromium at a time
		fmt.Fprintf(out, "\nfirst op in a fresh Chromium (new profile; the module fetched, compiled and run from scratch), %d times\n", c.cold)
		for _, name := range names {
			var rs []result
			for i := range c.cold {
				l0 := loadavg()
				r, _, err := coldRun(ctx, c, base, filepath.Join(dir, fmt.Sprintf("cold%d-%s", i, name)), name, "")
				if err != nil {
					return fmt.Errorf("%s in a fresh Chromium: %w", name, err)
				}
				r.load = l0 + " → " + loadavg()
				fmt.Fprintf(out, "cold %d  %-36s chromium  %8.3f ms first op  (run's main-thread CPU %6.1f ms)   load %s\n", i+1, name, r.nsPerOp/1e6, r.runCPU/1e6, r.load)
				rs = append(rs, r)
			}
			fmt.Fprintf(out, "%-36s first op, min / median / max: %s ms; the run's main-thread CPU: %s ms\n", name,
				spread(rs, func(r result) float64 { return r.nsPerOp }), spread(rs, func(r result) float64 { return r.runCPU }))
			if c.profileDir == "" {
				continue
			}
			file := filepath.Join(c.profileDir, name+".cold.cpuprofile")
			r, p, err := coldRun(ctx, c, base, filepath.Join(dir, "coldprof-"+name), name, file)
			if err != nil {
				return fmt.Errorf("profiling %s in a fresh Chromium: %w", name, err)
			}
			if err := writeProfile(file, p); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nprofile of the first op of %s in a fresh Chromium (%s; %.3f ms under the profiler; load %s)\n", name, file, r.nsPerOp/1e6, loadavg())
			printProfile(out, p, focus, c.top)
		}
	}
	return nil
}

// result is one run of one benchmark.
type result struct {
	n        int
	nsPerOp  float64 // Go's ns/op: wall time
	cpuPerOp float64 // ns of CPU per op, 0 if not measured
	runCPU   float64 // -cold: ns of main-thread CPU of the whole run (Go's start-up, set-up, the op)
	line     string  // the benchmark's output line
	load     string
}

func (r result) String() string {
	s := fmt.Sprintf("%5d × %8.3f ms/op wall", r.n, r.nsPerOp/1e6)
	if r.cpuPerOp > 0 {
		s += fmt.Sprintf("  %8.3f ms/op CPU", r.cpuPerOp/1e6)
	}
	return s + "   load " + r.load
}

func spread(rs []result, f func(result) float64) string {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r) / 1e6
	}
	slices.Sort(v)
	return fmt.Sprintf("%.3f / %.3f / %.3f", v[0], v[len(v)/2], v[len(v)-1])
}

// benchN is N of a -benchtime Nx, or 0.
func benchN(benchtime string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(benchtime, "x"))
	if err != nil || !strings.HasSuffix(benchtime, "x") {
		return 0
	}
	return n
}

// parseBench finds the line of Go's benchmark output that reports on name
// and reads its iterations, ns/op and, when the benchmark reports it,
// cpu-µs/op.
func parseBench(output string) (result, error) {
	for _, l := range strings.Split(output, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		r := result{line: l}
		var err error
		if r.n, err = strconv.Atoi(f[1]); err != nil {
			continue
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			switch f[i+1] {
			case "ns/op":
				r.nsPerOp = v
			case "cpu-µs/op":
				r.cpuPerOp = v * 1e3
			}
		}
		if r.nsPerOp > 0 {
			return r, nil
		}
	}
	return result{}, fmt.Errorf("no benchmark result in the output:\n%s", output)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func goBuild(ctx context.Context, env []string, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", out, pkg)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s go test -c %s: %w", strings.Join(env, " "), pkg, err)
	}
	return nil
}

func goList(ctx context.Context, pkg string) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w", pkg, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// wasmExecJS is the wasm_exec.js of the Go that builds the binary: the
// glue must match the toolchain.
func wasmExecJS(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	root := strings.TrimSpace(string(b))
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return filepath.Join(root, p), nil
		}
	}
	return "", fmt.Errorf("no wasm_exec.js under %s (lib/wasm or misc/wasm)", root)
}

// serve serves the page, wasm_exec.js and the test binary on loopback.
func serve(wasm, execJS string) (base string, stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, execJS) })
	mux.HandleFunc("GET /test.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm") // compileStreaming requires it
		http.ServeFile(w, r, wasm)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String() + "/", func() { srv.Close() }, nil
}

type chromium struct {
	ctx     context.Context
	close   func()
	verbose bool
}

func startChromium(ctx context.Context, c config, profile string) (*chromium, error) {
	path := c.chromium
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.UserDataDir(profile),
	)
	if c.jsFlags != "" {
		opts = append(opts, chromedp.Flag("js-flags", c.jsFlags))
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		cancelB()
		cancelA()
		return nil, fmt.Errorf("starting Chromium %s: %w", path, err)
	}
	return &chromium{ctx: bctx, close: func() { cancelB(); cancelA() }}, nil
}

// coldRun times the first op of a benchmark (-test.benchtime 1x: Go's ns/op
// is that op) in a Chromium started for it with an empty profile: the page
// fetches and compiles the module, waits -cold-pause (a voter reading the
// ballot; the browser's own start-up settles), then runs it. With a
// profile file, the run is profiled (and written there) instead of timed
// alone.
func coldRun(ctx context.Context, c config, base, userDir, name, profFile string) (result, *profiler.Profile, error) {
	b, err := startChromium(ctx, c, userDir)
	if err != nil {
		return result{}, nil, err
	}
	defer b.close()
	args := []string{"-test.run", "^$", "-test.bench", "^" + name + "$", "-test.benchtime", "1x"}
	res, p, err := b.runGo(base, c.timeout, args, runOpts{pause: c.coldPause, profile: profFile != "", cpu: true})
	if err != nil {
		return result{}, nil, err
	}
	r, err := parseBench(res.Output)
	r.runCPU = res.CPU * 1e9
	return r, p, err
}

// goRun is what the page's runGo resolves to.
type goRun struct {
	Output string  `json:"output"`
	Code   int     `json:"code"`
	Ms     float64 `json:"ms"` // wall time of the run, instantiation excluded
	CPU    float64 `json:"-"`  // the main thread's CPU from navigation to exit, seconds
}

// runOpts are the options of one run of the test binary in a page.
type runOpts struct {
	cpu     bool          // measure the main thread's CPU time (goRun.CPU)
	pause   time.Duration // compile the module, then wait this long before running it
	profile bool          // run under V8's sampling profiler (100 µs)
}

// runGo loads the page afresh (a new wasm instance, as a voter's new tab)
// and runs the test binary with args.
func (b *chromium) runGo(base string, timeout time.Duration, args []string, o runOpts) (goRun, *profiler.Profile, error) {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	var res goRun
	var prof *profiler.Profile
	var t0 float64
	a, _ := json.Marshal(args)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if o.pause <= 0 {
				return nil
			}
			if _, err := chromedp.Evaluate[bool]("compile().then(() => true)", chromedp.EvalAwaitPromise)(ctx, t); err != nil {
				return err
			}
			time.Sleep(o.pause)
			return nil
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if !o.profile {
				return nil
			}
			if _, err := cdp.Call(ctx, t, profiler.Enable, cdp.Empty{}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, t, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, profiler.Start, cdp.Empty{})
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			if o.cpu {
				t0, err = threadTime(ctx, t)
			}
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			res, err = chromedp.Evaluate[goRun]("runGo("+string(a)+")", chromedp.EvalAwaitPromise)(ctx, t)
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if !o.cpu {
				return nil
			}
			t1, err := threadTime(ctx, t)
			res.CPU = t1 - t0
			return err
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if !o.profile {
				return nil
			}
			r, err := cdp.Call(ctx, t, profiler.Stop, cdp.Empty{})
			if err == nil {
				prof = r.Profile
			}
			return err
		}),
	)
	if err != nil {
		return res, nil, err
	}
	if res.Code != 0 {
		return res, nil, fmt.Errorf("the test binary exited with %d:\n%s", res.Code, res.Output)
	}
	return res, prof, nil
}

// threadTime is the renderer main thread's CPU time so far, in seconds.
func threadTime(ctx context.Context, t *chromedp.Target) (float64, error) {
	if _, err := cdp.Call(ctx, t, performance.Enable, performance.EnableParams{}); err != nil {
		return 0, err
	}
	m, err := cdp.Call(ctx, t, performance.GetMetrics, cdp.Empty{})
	if err != nil {
		return 0, err
	}
	for _, x := range m.Metrics {
		if x.Name == "ThreadTime" {
			return x.Value, nil
		}
	}
	return 0, errors.New("Performance.getMetrics has no ThreadTime")
}

// measure runs one benchmark with args (-test.benchtime Nx) and, with cpu,
// once more with 1x to get its CPU time per op.
func (b *chromium) measure(base string, timeout time.Duration, args []string, cpu bool, n int) (result, error) {
	res, _, err := b.runGo(base, timeout, args, runOpts{cpu: cpu})
	if err != nil {
		return result{}, err
	}
	r, err := parseBench(res.Output)
	if err != nil {
		return result{}, err
	}
	if b.verbose {
		fmt.Fprintf(os.Stderr, "page: wall %.1f ms, main thread CPU %.1f ms (navigation and set-up included): %s\n", res.Ms, res.CPU*1e3, r.line)
	}
	if !cpu {
		return r, nil
	}
	one := slices.Clone(args)
	one[len(one)-1] = "1x"
	res1, _, err := b.runGo(base, timeout, one, runOpts{cpu: true})
	if err != nil {
		return result{}, err
	}
	// Nx runs N+1 ops (testing runs b.N = 1 first), 1x runs one.
	r.cpuPerOp = (res.CPU - res1.CPU) * 1e9 / float64(n)
	return r, nil
}

func runNative(ctx context.Context, bin, dir string, args []string) (result, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir // as go test runs it: testdata/ is found
	b, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("%w:\n%s", err, b)
	}
	return parseBench(string(b))
}

// writeProfile writes p as JSON, the .cpuprofile format DevTools loads.
func writeProfile(file string, p *profiler.Profile) error {
	j, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return os.WriteFile(file, j, 0o644)
}

// printProfile prints where the time of the samples under a function
// matching focus goes (all of the Go program's when focus is nil): the Go
// packages and the functions with the most self time, and the functions
// with the most total time (self and callees, each function counted once
// per sample). Samples outside the Go program (page load, V8's own work
// "(program)", idle) are only counted.
func printProfile(out io.Writer, p *profiler.Profile, focus *regexp.Regexp, top int) {
	nodes := map[int64]*profiler.ProfileNode{}
	parent := map[int64]int64{}
	for _, n := range p.Nodes {
		nodes[n.ID] = n
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	self := map[string]float64{}
	total := map[string]float64{}
	pkgs := map[string]float64{}
	var all, inGo, inFocus float64
	for i, id := range p.Samples {
		if i+1 >= len(p.TimeDeltas) {
			break
		}
		d := float64(p.TimeDeltas[i+1]) // the sample lasts until the next one
		all += d
		var stack []string // leaf first
		for x, ok := id, true; ok; x, ok = parent[x] {
			stack = append(stack, funcName(nodes[x]))
		}
		goCode := slices.ContainsFunc(stack, func(f string) bool { return strings.HasPrefix(f, "wasm_export_") })
		if !goCode {
			continue
		}
		inGo += d
		if focus != nil && !slices.ContainsFunc(stack, focus.MatchString) {
			continue
		}
		inFocus += d
		self[stack[0]] += d
		pkgs[goPackage(stack[0])] += d
		seen := map[string]bool{}
		for _, f := range stack {
			if !seen[f] {
				seen[f] = true
				total[f] += d
			}
		}
	}
	fmt.Fprintf(out, "  %.0f ms sampled, %.0f ms in the Go program", all/1e3, inGo/1e3)
	if focus != nil {
		fmt.Fprintf(out, ", %.0f ms under %s", inFocus/1e3, focus)
	}
	fmt.Fprintln(out, "; shares below are of the last")
	if inFocus == 0 {
		return
	}
	show := func(title string, m map[string]float64, k int) {
		type kv struct {
			k string
			v float64
		}
		var s []kv
		for n, v := range m {
			s = append(s, kv{n, v})
		}
		slices.SortFunc(s, func(a, b kv) int { return cmp.Compare(b.v, a.v) })
		fmt.Fprintf(out, "  %s\n", title)
		for _, x := range s[:min(k, len(s))] {
			fmt.Fprintf(out, "  %6.1f%%  %9.1f ms  %s\n", 100*x.v/inFocus, x.v/1e3, x.k)
		}
	}
	show("self time by Go package", pkgs, 15)
	show("self time by function", self, top)
	show("total time (self and callees) by function", total, top)
}

func funcName(n *profiler.ProfileNode) string {
	if n == nil || n.CallFrame == nil {
		return "?"
	}
	name := strings.TrimPrefix(n.CallFrame.FunctionName, "$")
	if name == "" {
		return "(anonymous " + n.CallFrame.URL + ")"
	}
	return name
}

// goPackage is the package of a Go function as V8 names it: the wasm name
// section's "github.com/cloudflare/circl/math/fp25519.mulGeneric" becomes
// "github.com_cloudflare_circl_math_fp25519.mulGeneric", whose package is
// "github.com_cloudflare_circl_math_fp25519": the name up to its first dot,
// or up to the second when the first ends a host name ("github.com_").
func goPackage(name string) string {
	dot := strings.IndexByte(name, '.')
	if dot < 0 {
		return name
	}
	if u := strings.IndexByte(name[dot:], '_'); u > 0 && isTLD(name[dot+1:dot+u]) {
		if d := strings.IndexByte(name[dot+u:], '.'); d >= 0 {
			return name[:dot+u+d]
		}
	}
	return name[:dot]
}

func isTLD(s string) bool {
	if len(s) < 2 || len(s) > 6 {
		return false
	}
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
