#!/usr/bin/env bash
# Every benchmark behind bench/README.md, with the commands it quotes.
# Usage: bash bench/run.sh [--peers]   (--peers also runs Belenios, which
# needs `apt-get install belenios-tool`). Results go to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== group (internal/group)"
go test ./internal/group -run '^$' -bench . -benchtime 200x
echo "== ballot crypto (ballot)"
go test ./ballot -run '^$' -bench 'Encrypt1of5|Verify1of5|Parse1of5|VerifyBatch256|ParseVerifyBatch256' -benchtime 20x
echo "== tally (tally)"
go test ./tally -run '^$' -bench . -benchtime 20x
echo "== observer: whole-election verification (client)"
go test ./client -run '^$' -bench VerifyElection1000 -benchmem -benchtime 3x
go test ./client -run '^$' -bench 'Verify1of5' -benchtime 3x -count 3
echo "== board (3-node cluster)"
bash bench/board.sh

if [ "${1:-}" = "--peers" ]; then
  echo "== Belenios 2.0 (belenios-tool), same election shape"
  bash ../shared/peers/belenios.sh 200 BELENIOS-2048 /tmp/belenios-bench-200
  bash ../shared/peers/belenios.sh 1000 BELENIOS-2048 /tmp/belenios-bench-1000
  echo "== Urna and Belenios side by side: verify, 1,000 ballots, 1-of-5"
  bash bench/vs-belenios.sh 1000 3
fi
