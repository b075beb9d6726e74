//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// On any other platform the module has nothing to serve: the bridge's logic
// (bridge.go) is tested on the host, and `make wasm` builds the real thing.
func main() {
	fmt.Fprintln(os.Stderr, "urna wasm: build with GOOS=js GOARCH=wasm (make wasm)")
	os.Exit(2)
}
