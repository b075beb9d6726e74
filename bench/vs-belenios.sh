#!/usr/bin/env bash
# Urna against Belenios, side by side in one run, on the same election shape:
# one question, choose exactly 1 of 5; 3 trustees, threshold 2; N ballots
# (default 1,000), one per voter.
#
#   bash bench/vs-belenios.sh [N] [REPS]
#
# Belenios: the Debian package belenios-tool (installed with apt-get if
# missing), driven through a whole election by ../shared/peers/belenios.sh
# (not part of this repository: it lives beside the checkout, in the
# project's shared directory), then `belenios-tool election verify` timed
# REPS times (default 3) on that election.
# Urna: a record of the same shape built by bench/genrecord (deterministic
# keys, every ballot really encrypted and proved), then `urna verify FILE`
# timed REPS times.
# Prints every run (wall s, CPU s, max RSS) with the load average before
# and after it, then the medians and the ratios Belenios / Urna.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
REPS=${2:-3}
W=${BENCH_DIR:-/tmp/urna-vs-belenios}
PEERS=${PEERS:-../shared/peers}
mkdir -p "$W"

if ! command -v belenios-tool >/dev/null; then
  apt-get install -y belenios-tool >/dev/null
fi
if [ ! -x "$PEERS/belenios.sh" ]; then
  echo "vs-belenios: error: $PEERS/belenios.sh not found (set PEERS=DIR)" >&2
  exit 1
fi

load() { cut -d' ' -f1 /proc/loadavg; }

# run LABEL CMD...: one timed run; prints "LABEL wall cpu rss_kB load_before load_after"
run() {
  local label=$1; shift
  local lb; lb=$(load)
  /usr/bin/time -f '%e %U %S %M' -o "$W/time.txt" "$@" >/dev/null 2>"$W/stderr.txt" || {
    echo "vs-belenios: error: $label failed:" >&2; cat "$W/stderr.txt" >&2; exit 1; }
  read -r wall user sys rss < <(tail -n1 "$W/time.txt")
  printf '%s\t%s\t%.2f\t%s\t%s\t%s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" "$rss" "$lb" "$(load)" | tee -a "$W/runs.tsv"
}

echo "== building: urna, bench/genrecord, a $N-ballot Urna record, a $N-ballot Belenios election"
go build -o "$W/urna" ./cmd/urna
go build -o "$W/genrecord" ./bench/genrecord
REC="$W/urna-1of5-$N.rec"
[ -s "$REC" ] || "$W/genrecord" -ballots "$N" -o "$REC"
BW="$W/belenios-$N"
[ -s "$BW/phases.tsv" ] && grep -q verify_full "$BW/phases.tsv" || bash "$PEERS/belenios.sh" "$N" BELENIOS-2048 "$BW" >"$W/belenios-build.log" 2>&1

echo "== verifying, alternately, $REPS times each (nproc $(nproc))"
: > "$W/runs.tsv"
printf 'what\twall_s\tcpu_s\tmaxrss_kB\tload_before\tload_after\n'
for i in $(seq "$REPS"); do
  run urna "$W/urna" verify --progress never "$REC"
  run belenios bash -c "cd '$BW' && belenios-tool election verify"
done

median() { awk -v w="$1" -v c="$2" '$1==w {print $c}' "$W/runs.tsv" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
uw=$(median urna 2); bw=$(median belenios 2); uc=$(median urna 3); bc_=$(median belenios 3)
ur=$(median urna 4); br=$(median belenios 4)
echo "== medians over $REPS runs, $N ballots, 1-of-5, 3 trustees threshold 2"
printf 'urna verify:                  %6.2f s wall, %6.2f s CPU, %6d kB max RSS\n' "$uw" "$uc" "$ur"
printf 'belenios-tool election verify: %6.2f s wall, %6.2f s CPU, %6d kB max RSS\n' "$bw" "$bc_" "$br"
printf 'ratio belenios/urna: %.1fx wall, %.1fx CPU (target: >= 100x)\n' "$(echo "$bw / $uw" | bc -l)" "$(echo "$bc_ / $uc" | bc -l)"
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
