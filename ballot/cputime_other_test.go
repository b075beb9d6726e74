//go:build !unix

package ballot

// cpuTime is 0 where there is no getrusage (js/wasm, for running the
// benchmarks under V8): the benchmarks then report wall time only.
func cpuTime() int64 { return 0 }
