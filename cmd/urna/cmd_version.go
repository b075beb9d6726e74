package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); without
// it, the module version or VCS revision of the build is shown.
var version = ""

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
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
	}
	return v + " (SPEC version 1, " + bi.GoVersion + ")"
}
