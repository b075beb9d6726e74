// Command boothhash prints the booth's code digest of the web client built
// into it, the same JSON as GET /api/v1/booth on a node built from the same
// source (web.Booth). Observers build from source and compare:
//
//	make wasm
//	go run ./web/boothhash > built.json
//	curl -s https://NODE/api/v1/booth > served.json
//	diff built.json served.json
//
// With -digest it prints the digest alone.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/urna-vote/urna/web"
)

func main() {
	digest := flag.Bool("digest", false, "print the digest alone")
	flag.Parse()
	if !web.HasWasm() {
		fmt.Fprintln(os.Stderr, "boothhash: error: web/static/urna.wasm is missing: run `make wasm` first")
		os.Exit(1)
	}
	b, err := web.BoothDigest()
	if err != nil {
		fmt.Fprintf(os.Stderr, "boothhash: error: %v\n", err)
		os.Exit(1)
	}
	if *digest {
		fmt.Println(b.Digest)
		return
	}
	j, err := web.FS().(*web.Site).BoothJSON()
	if err != nil {
		fmt.Fprintf(os.Stderr, "boothhash: error: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.Write(j)
}
