#!/usr/bin/env bash
# bench/board.sh: the board's throughput and checkpoint latency on a 3-node
# loopback cluster with fsync on (see bench/README.md, "Board").
#   bash bench/board.sh            # both runs
#   N=20000 bash bench/board.sh    # more posts in the run without checks
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
M=${M:-3000}
echo "== board alone (no signature or proof checks), $N posts"
go test ./internal/board -run '^$' -bench 'Board/^nochecks$' -benchtime "${N}x" 2>&1 | grep -E '^Benchmark|^ok|FAIL'
echo "== with checks (real ballots, batched signature and proof checks), $M posts"
go test ./internal/board -run '^$' -bench 'Board/^checks$' -benchtime "${M}x" 2>&1 | grep -E '^Benchmark|^ok|FAIL'
