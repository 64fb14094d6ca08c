#!/bin/sh
# Load test of gan-serve with wrk on loopback: starts gan-serve (.build/release, else .build/debug)
# with MODEL and --max-batch B on a free port, runs `wrk -t2 -cC -dSs` on /image.png with random
# seeds ROUNDS times (bounded: S seconds each), and after each round prints wrk's figures, the mean
# batch size formed in that round (from /metrics) and gan-serve's resident memory (VmRSS).
#   usage: benchmarks/serve/load.sh MODEL [MAX_BATCH [SECONDS [CONNECTIONS [ROUNDS]]]]
# Defaults: 64, 20, 64, 2. Installs wrk when missing. Exit status 1 if any request failed.
set -e
cd "$(dirname "$0")/../.."
model=$1; batch=${2:-64}; seconds=${3:-20}; conns=${4:-64}; rounds=${5:-2}
[ -n "$model" ] || { echo "usage: $0 MODEL [MAX_BATCH [SECONDS [CONNECTIONS [ROUNDS]]]]" >&2; exit 64; }
tools/install-deps.sh wrk curl >&2
bin=.build/release/gan-serve; [ -x "$bin" ] || bin=.build/debug/gan-serve
log=$(mktemp)
"$bin" --model "$model" --port 0 --max-batch "$batch" > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT
i=0
until port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$'); do
  i=$((i + 1)); [ $i -lt 300 ] || { cat "$log" >&2; exit 1; }; sleep 0.1
done
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
status=0
r=1
while [ $r -le "$rounds" ]; do
  s0=$(metric gan_serve_batch_size_sum); n0=$(metric gan_serve_batch_size_count)
  out=$(timeout $((seconds + 30)) wrk -t2 -c"$conns" -d"${seconds}s" --timeout 10s \
        -s benchmarks/serve/random-images.lua "http://127.0.0.1:$port/" | grep '^wrk:')
  s1=$(metric gan_serve_batch_size_sum); n1=$(metric gan_serve_batch_size_count)
  rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status)
  mean=$(awk -v a="$s0" -v b="$s1" -v c="$n0" -v d="$n1" 'BEGIN { if (d > c) printf "%.1f", (b - a) / (d - c); else print "n/a" }')
  echo "round $r, --max-batch $batch: ${out#wrk: }, mean batch $mean, RSS $rss kB"
  case "$out" in *"socket errors 0, non-2xx 0,"*) ;; *) status=1 ;; esac
  r=$((r + 1))
done
exit $status
