#!/usr/bin/env bash
# Urna's verifiable shuffle against Belenios' shuffle, side by side in one
# run, on the same shape: N ballots (default 1,000) of one ranked question of
# 5 options, i.e. N rows of 5 ciphertexts, shuffled by one mixer with a
# Terelius–Wikström proof (both implement it), then the proof verified.
#
#   bash bench/vs-belenios-shuffle.sh [N] [REPS]
#
# Belenios: the Debian package belenios-tool (installed with apt-get if
# missing). This script drives the tool only (no Belenios code): an election
# with one NonHomomorphic question of 5 answers and one trustee, N ballots
# made with `election generate-ballot` (ranking [1,2,3,4,5]) and appended to
# the archive, then `election shuffle` (shuffle + proof) timed REPS times, and
# the shuffle proof's verification timed as the difference between
# `election verify` with one Shuffle event and without it (the rest of verify
# is the same N ballots). Group: RFC-3526-2048, the only group of the Debian
# 2.0 build that non-homomorphic questions accept (BELENIOS-2048 fails with
# "Group_field.of_bits: missing parameters"; Ed25519 is "unknown group").
# Urna: bench/mixbench -rows N -width 5 -mixers 1 (shuffle, prove, verify
# from bytes), REPS times. Belenios runs on one core, Urna on all (nproc).
# Prints every run with the load average, then medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
REPS=${2:-3}
W=${BENCH_DIR:-/tmp/urna-vs-belenios-shuffle}
G=RFC-3526-2048
mkdir -p "$W"
export BELENIOS_USE_URANDOM=1 TERM=dumb

if ! command -v belenios-tool >/dev/null; then
  apt-get install -y belenios-tool >/dev/null
fi
load() { cut -d' ' -f1 /proc/loadavg; }

echo "== building: bench/mixbench, a $N-ballot Belenios election (one ranked question, 5 answers)"
go build -o "$W/mixbench" ./bench/mixbench
BW="$W/belenios-$N"
if [ ! -s "$BW/ready" ]; then
  rm -rf "$BW"; mkdir -p "$BW"
  (
    cd "$BW"
    BT=belenios-tool
    UUID=$($BT setup generate-token)
    $BT setup generate-credentials --uuid "$UUID" --group $G --count "$N" >/dev/null
    mv ./*.pubcreds public_creds.json; mv ./*.privcreds private_creds.txt
    $BT setup generate-trustee-key --group $G >/dev/null 2>&1
    cat ./*.pubkey > public_keys.jsons
    $BT setup make-trustees
    echo '{"description":"bench","name":"bench","questions":[{"type":"NonHomomorphic","value":{"answers":["A","B","C","D","E"],"question":"Rank the options"}}]}' > template.json
    $BT setup make-election --uuid "$UUID" --group $G --template template.json
    $BT archive init 2>/dev/null
    rm -f election.json trustees.json public_creds.json
    i=0
    awk '{print $2}' private_creds.txt | while read -r cred; do
      $BT election generate-ballot --privcred <(echo "$cred") --ballot <(echo "[[1,2,3,4,5]]") > b.json 2>/dev/null
      $BT archive add-event --type=Ballot < b.json 2>/dev/null
      i=$((i+1))
    done
    $BT archive add-event --type=EndBallots < /dev/null 2>/dev/null
    echo "$UUID" > ready
  )
fi

# run LABEL CMD...: one timed run; prints "LABEL wall cpu rss_kB load_before load_after"
run() {
  local label=$1; shift
  local lb; lb=$(load)
  /usr/bin/time -f '%e %U %S %M' -o "$W/time.txt" "$@" >"$W/stdout.txt" 2>"$W/stderr.txt" || {
    echo "vs-belenios-shuffle: error: $label failed:" >&2; cat "$W/stderr.txt" >&2; exit 1; }
  read -r wall user sys rss < <(tail -n1 "$W/time.txt")
  printf '%s\t%s\t%.2f\t%s\t%s\t%s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" "$rss" "$lb" "$(load)" | tee -a "$W/runs.tsv"
}

echo "== running, alternately, $REPS times each (nproc $(nproc))"
: > "$W/runs.tsv"
: > "$W/urna.tsv"
printf 'what\twall_s\tcpu_s\tmaxrss_kB\tload_before\tload_after\n'
UUID=$(cat "$BW/ready")
for i in $(seq "$REPS"); do
  run urna_all "$W/mixbench" -rows "$N" -width 5 -mixers 1
  grep -E '^(shuffle|prove|verify)' "$W/stdout.txt" | sed 's/^/urna_/' | tee -a "$W/urna.tsv"
  run belenios_shuffle bash -c "cd '$BW' && belenios-tool election shuffle --trustee-id 1 > shuffle.json"
  run belenios_verify_without bash -c "cd '$BW' && belenios-tool election verify"
  cp "$BW/$UUID.bel" "$W/with.bel"
  (cd "$BW" && belenios-tool archive add-event --type=Shuffle < shuffle.json 2>/dev/null)
  run belenios_verify_with bash -c "cd '$BW' && belenios-tool election verify"
  mv "$W/with.bel" "$BW/$UUID.bel"   # back to the archive without the shuffle
done

median() { awk -v w="$1" -v c="$2" '$1==w {print $c}' "$3" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
us=$(median urna_shuffle 3 "$W/urna.tsv"); up=$(median urna_prove 3 "$W/urna.tsv"); uv=$(median urna_verify 3 "$W/urna.tsv")
usc=$(median urna_shuffle 4 "$W/urna.tsv"); upc=$(median urna_prove 4 "$W/urna.tsv"); uvc=$(median urna_verify 4 "$W/urna.tsv")
bs=$(median belenios_shuffle 2 "$W/runs.tsv"); bsc=$(median belenios_shuffle 3 "$W/runs.tsv")
bw=$(median belenios_verify_with 2 "$W/runs.tsv"); bo=$(median belenios_verify_without 2 "$W/runs.tsv")
bwc=$(median belenios_verify_with 3 "$W/runs.tsv"); boc=$(median belenios_verify_without 3 "$W/runs.tsv")
bv=$(echo "$bw - $bo" | bc -l); bvc=$(echo "$bwc - $boc" | bc -l)
ug=$(echo "$us + $up" | bc -l); ugc=$(echo "$usc + $upc" | bc -l)
echo "== medians over $REPS runs, $N ballots, one ranked question of 5 options (rows of 5 ciphertexts)"
printf 'urna shuffle + prove:       %7.2f s wall, %7.2f s CPU (%.3f ms wall per ballot)\n' "$ug" "$ugc" "$(echo "1000 * $ug / $N" | bc -l)"
printf 'belenios election shuffle:  %7.2f s wall, %7.2f s CPU (%.3f ms wall per ballot)\n' "$bs" "$bsc" "$(echo "1000 * $bs / $N" | bc -l)"
printf 'urna verify (from bytes):   %7.2f s wall, %7.2f s CPU (%.3f ms wall per ballot)\n' "$uv" "$uvc" "$(echo "1000 * $uv / $N" | bc -l)"
printf 'belenios verify, shuffle:   %7.2f s wall, %7.2f s CPU (verify with it %.2f s − without %.2f s)\n' "$bv" "$bvc" "$bw" "$bo"
printf 'ratio belenios/urna: generation %.1fx wall, %.1fx CPU; verification %.1fx wall, %.1fx CPU (target: >= 10x)\n' \
  "$(echo "$bs / $ug" | bc -l)" "$(echo "$bsc / $ugc" | bc -l)" "$(echo "$bv / $uv" | bc -l)" "$(echo "$bvc / $uvc" | bc -l)"
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
