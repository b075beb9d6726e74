package main

import (
	"context"
	"flag"
	"fmt"
)

func init() {
	register(&command{
		name:    "election-archive",
		summary: "archive an election of a board that runs several",
		usage:   "ID [--node URL] [--cluster-token-file FILE]",
		help: `Asks the board, through the node at --node (its leader answers), to
archive the election ID (SPEC.md §3.14.3): from then on the
board accepts no entry for it, while its log, checkpoints and record stay
readable (a record that stops before the result verifies as incomplete).
The id stays taken. This is an operator's action, accepted as the cluster
changes are: from loopback, or with the cluster token the nodes were
started with (--cluster-token-file).`,
		args:  true,
		flags: archiveFlags,
	})
}

func archiveFlags(fs *flag.FlagSet) action {
	node := nodeFlag(fs)
	tokenFile := fs.String("cluster-token-file", "", "`file` holding the cluster token (owner-only permissions)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give the id of the election to archive")
		}
		cl, err := clusterClient("election-archive", *node, *tokenFile)
		if err != nil {
			return err
		}
		if err := cl.Archive(ctx, args[0]); err != nil {
			return nodeError(*node, fmt.Errorf("urna election-archive: %w", err))
		}
		fmt.Fprintf(e.stdout, "archived election %s: the board accepts no more entries for it\n", args[0])
		return nil
	}
}
