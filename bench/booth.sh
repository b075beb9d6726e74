#!/usr/bin/env bash
# The booth on a simulated 10 Mbps link (bench/README.md, "The booth on a
# 10 Mbps link"): time to interactive cold and warm, bytes on the wire.
# Needs Chromium (URNA_CHROMIUM, default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s wasm
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./web -run '^$' -bench 'Booth10Mbps' -benchtime "${1:-5}x" -count 1
