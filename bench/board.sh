#!/usr/bin/env bash
# bench/board.sh: the board's throughput and checkpoint latency on a 3-node
# loopback cluster with fsync on (see bench/README.md, "Board").
#   bash bench/board.sh            # both runs
#   N=20000 bash bench/board.sh    # more posts in the run without checks
#   REF=main RUNS=5 bash bench/board.sh compare
#       the board alone, this tree against commit REF: both test binaries
#       built first, then run alternately, each line with the load average
#       then the medians of each side (posts/s, cpu-µs/post, alloc-B/post, disk-B/post
#       and latencies; alloc-B/post moves least between runs)
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
			echo "$name | load $load | $line" | tee -a "$tmp/runs"
		done
	done
	# The medians of each side: single runs move ±10 % on a shared machine.
	for name in "$REF" "this tree"; do
		for metric in posts/s cpu-µs/post alloc-B/post disk-B/post p50-ms p99-ms; do
			grep -F "$name |" "$tmp/runs" | grep -oE "[0-9.]+ $metric" | cut -d' ' -f1 | sort -n |
				awk -v n="$name" -v m="$metric" '{v[NR]=$1} END {if (NR) printf "%s: median %s %s (%d runs, %s to %s)\n", n, (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2), m, NR, v[1], v[NR]}'
		done
	done
	exit 0
fi
echo "== board alone (no signature or proof checks), $N posts"
go test ./internal/board -run '^$' -bench 'Board/^nochecks$' -benchtime "${N}x" 2>&1 | grep -E '^Benchmark|^ok|FAIL'
echo "== with checks (real ballots, batched signature and proof checks), $M posts"
go test ./internal/board -run '^$' -bench 'Board/^checks$' -benchtime "${M}x" 2>&1 | grep -E '^Benchmark|^ok|FAIL'
