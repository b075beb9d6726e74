package main

import (
	"flag"

	"github.com/urna-vote/urna/internal/apiclient"
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
	return clusterChangeFlags(fs, "election-archive", "give the id of the election to archive",
		(*apiclient.Client).Archive, "archived election %s: the board accepts no more entries for it\n")
}
