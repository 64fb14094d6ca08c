#!/bin/sh
# Data-parallel gan-train on this machine: time per iteration and bytes rank 0 sends per
# iteration for N = 1 and 2 ranks (2 ranks x 1 thread against 1 process x 2 threads: the same
# cores), DCGAN 64 px and 128 px (nz 100, ngf = ndf = 64, nc 3, batch 64) on random images.
# Prints a markdown table; docs/scaling.md models 8 and 64 ranks from it.
#   benchmarks/mpi/scaling.sh [iterations (default 8)] [rounds (default 3)]
set -e
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
IT=${1:-8}
ROUNDS=${2:-3}
tools/install-deps.sh openmpi-bin libopenmpi-dev >&2
swift build -c release --product gan-train >&2
GT=$ROOT/.build/release/gan-train
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
for s in 64 128; do
  header="{'descr': '|u1', 'fortran_order': False, 'shape': (128, $s, $s, 3), }"
  { printf '\223NUMPY\001\000\166\000'; printf '%s%*s\n' "$header" $((118 - ${#header} - 1)) ''
    head -c $((128 * s * s * 3)) /dev/urandom; } > data$s.npy
done
# seconds per iteration: the median of log.csv's train_seconds increments after the first
per_iteration() {
  tail -n +3 "$1/log.csv" | awk -F, '{ print $11 }' > t.txt
  awk 'NR > 1 { print $1 - p } { p = $1 }' t.txt | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
echo "| model | ranks x threads | s per iteration (median of $ROUNDS rounds) | bytes sent by rank 0 per iteration |"
echo "|---|---|---|---|"
for s in 64 128; do
  one=""; two=""; bytes=0
  for r in $(seq 1 "$ROUNDS"); do
    common="--dataroot data$s.npy --image-size $s --batch-size 64 --iterations $IT --manual-seed 1 --swd-every 0 \
      --sample-every 100000 --checkpoint-every 100000 --cache-dir cache"
    "$GT" $common --threads 2 --outf one$s-$r > one.log 2>&1
    one="$one $(per_iteration one$s-$r)"
    mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -n 2 "$GT" $common --threads 1 --outf two$s-$r \
      > two.log 2>&1
    two="$two $(per_iteration two$s-$r)"
    bytes=$(grep -o 'bytes per iteration' two.log > /dev/null && sed -n 's/.*, \([0-9]*\) bytes per iteration/\1/p' two.log)
  done
  m1=$(echo $one | tr ' ' '\n' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  m2=$(echo $two | tr ' ' '\n' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  echo "| DCGAN-$s | 1 x 2 | $m1 (rounds:$one) | 0 |"
  echo "| DCGAN-$s | 2 x 1 | $m2 (rounds:$two) | $bytes |"
done
