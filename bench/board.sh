#!/usr/bin/env bash
# bench/board.sh: the board's throughput and checkpoint latency on a 3-node
# loopback cluster with fsync on (see bench/README.md, "Board").
#   bash bench/board.sh            # both runs
#   N=20000 bash bench/board.sh    # more posts in the run without checks
#   REF=main RUNS=5 bash bench/board.sh compare
#       the board alone, this tree against commit REF: both test binaries
#       built first, then run alternately, each line with the load average
#       (the CPU per post, cpu-µs/post, is what compares on a shared machine)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
M=${M:-3000}
if [[ "${1:-}" == compare ]]; then
	REF=${REF:-main}
	RUNS=${RUNS:-5}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	git archive "$REF" | tar -x -C "$tmp"
	(cd "$tmp" && go test -c -o "$tmp/ref.test" ./internal/board)
	go test -c -o "$tmp/this.test" ./internal/board
	cd internal/board
	for _ in $(seq "$RUNS"); do
		for x in ref this; do
			load=$(cut -d' ' -f1-3 /proc/loadavg)
			line=$("$tmp/$x.test" -test.run '^$' -test.bench 'Board/^nochecks$' -test.benchtime "${N}x" 2>&1 | grep -E '^Benchmark|FAIL' | tr -s ' \t' ' ')
			name=$REF
			[[ $x == this ]] && name="this tree"
			echo "$name | load $load | $line"
		done
	done
	exit 0
fi
echo "== board alone (no signature or proof checks), $N posts"
go test ./internal/board -run '^$' -bench 'Board/^nochecks$' -benchtime "${N}x" 2>&1 | grep -E '^Benchmark|^ok|FAIL'
echo "== with checks (real ballots, batched signature and proof checks), $M posts"
go test ./internal/board -run '^$' -bench 'Board/^checks$' -benchtime "${M}x" 2>&1 | grep -E '^Benchmark|^ok|FAIL'
