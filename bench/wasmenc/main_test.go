package main

import (
	"testing"

	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/cdproto/runtime"
)

func TestParseBench(t *testing.T) {
	out := "goos: js\ngoarch: wasm\npkg: github.com/urna-vote/urna/ballot\n" +
		"BenchmarkEncrypt1of5FirstBallots \t     200\t   3469999 ns/op\t         0 cpu-µs/op\nPASS\n"
	r, err := parseBench(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.n != 200 || r.nsPerOp != 3469999 || r.cpuPerOp != 0 {
		t.Errorf("parseBench = %d × %v ns/op, cpu %v; want 200 × 3469999, cpu 0", r.n, r.nsPerOp, r.cpuPerOp)
	}
	r, err = parseBench("BenchmarkEncrypt1of5-2   \t     200\t    659123 ns/op\t       661.5 cpu-µs/op\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.nsPerOp != 659123 || r.cpuPerOp != 661500 {
		t.Errorf("parseBench native = %v ns/op, cpu %v ns/op; want 659123, 661500", r.nsPerOp, r.cpuPerOp)
	}
	for _, bad := range []string{"", "PASS\n", "BenchmarkX \t 10\n", "--- FAIL: BenchmarkX\n"} {
		if _, err := parseBench(bad); err == nil {
			t.Errorf("parseBench(%q) succeeded", bad)
		}
	}
}

func TestBenchN(t *testing.T) {
	for in, want := range map[string]int{"200x": 200, "1x": 1, "2s": 0, "x": 0, "200": 0} {
		if got := benchN(in); got != want {
			t.Errorf("benchN(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestGoPackage(t *testing.T) {
	for in, want := range map[string]string{
		"github.com_cloudflare_circl_math_fp25519.mulGeneric":          "github.com_cloudflare_circl_math_fp25519",
		"github.com_urna_vote_urna_internal_group.__combTable_.lookup": "github.com_urna_vote_urna_internal_group",
		"math_big.nat.divBasic":                                        "math_big",
		"runtime.__mheap_.initSpan":                                    "runtime",
		"(program)":                                                    "(program)",
		"getRandomValues":                                              "getRandomValues",
	} {
		if got := goPackage(in); got != want {
			t.Errorf("goPackage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFuncName(t *testing.T) {
	n := &profiler.ProfileNode{CallFrame: &runtime.CallFrame{FunctionName: "$runtime.mallocgc"}}
	if got := funcName(n); got != "runtime.mallocgc" {
		t.Errorf("funcName = %q", got)
	}
	if got := funcName(nil); got != "?" {
		t.Errorf("funcName(nil) = %q", got)
	}
}
