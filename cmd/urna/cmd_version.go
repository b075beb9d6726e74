package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

// version and commit are set at link time by the Makefile (-ldflags
// "-X main.version=… -X main.commit=…"); without them, the module version
// or the VCS revision recorded by the Go toolchain is shown.
var version, commit = "", ""

func init() {
	register(&command{
		name:    "version",
		summary: "print the version of urna",
		usage:   "",
		flags: func(*flag.FlagSet) action {
			return func(_ context.Context, e *env, _ []string) error {
				fmt.Fprintf(e.stdout, "urna %s\n", versionString())
				return nil
			}
		},
	})
}

// specVersion is the protocol version of SPEC.md this build implements
// (TestSpecVersion keeps it equal to SPEC.md's title).
const specVersion = "1.6"

func versionString() string {
	v := version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if v == "" {
			v = "(unknown)"
		}
		return v
	}
	if v == "" {
		v = bi.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	c := commit
	for _, s := range bi.Settings {
		if c == "" && s.Key == "vcs.revision" {
			c = s.Value
		}
	}
	if len(c) > 12 {
		c = c[:12]
	}
	if c != "" {
		v += " " + c
	}
	return v + " (SPEC version " + specVersion + ", " + bi.GoVersion + ")"
}
