#!/bin/sh
# End to end with and without Winograd, same binaries, rounds interleaved (medians printed):
# gan-gen fp32 and int8 (gan-quant of the same model) DCGAN-64 latency at batch 1 and throughput at
# batch 64, and gan-train seconds per
# iteration (median over iterations 6-25) for a 64x64 RGB DCGAN (ngf = ndf = 64, batch 64) on
# random images.
# Usage: benchmarks/winograd/e2e.sh [model.safetensors] [rounds] [build dir]
set -e
cd "$(dirname "$0")/../.."
MODEL=${1:-}
ROUNDS=${2:-3}
BUILD=${3:-.build/release}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ -z "$MODEL" ]; then
  # A DCGAN-64 generator straight from gan-train (2 iterations): the speed does not depend on the weights.
  python3 - "$TMP/data.npy" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(0).integers(0, 256, (640, 64, 64, 3), dtype=np.uint8))
PY
  "$BUILD/gan-train" --dataroot "$TMP/data.npy" --image-size 64 --iterations 2 --swd-every 0 --outf "$TMP/m" > /dev/null
  MODEL=$TMP/m/generator.safetensors
fi
"$BUILD/gan-quant" --model "$MODEL" --out "$TMP/m8.safetensors" --calibration-batches 2 --bn-batches 0 > /dev/null
MODEL8=$TMP/m8.safetensors
[ -f "$TMP/data.npy" ] || python3 - "$TMP/data.npy" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(0).integers(0, 256, (640, 64, 64, 3), dtype=np.uint8))
PY
for r in $(seq "$ROUNDS"); do
  for mode in direct winograd; do
    flag=""; [ "$mode" = winograd ] && flag="--winograd"
    tflag="--no-winograd"; [ "$mode" = winograd ] && tflag="--winograd"  # gan-train's default is Winograd
    b1=$("$BUILD/gan-gen" --model "$MODEL" --bench --batch 1 --count 300 --threads 2 $flag | sed -n 's/.*p50 \([0-9.]*\).*/\1/p')
    b64=$("$BUILD/gan-gen" --model "$MODEL" --bench --batch 64 --count 1280 --threads 2 $flag | sed -n 's/throughput: \([0-9.]*\) img.*/\1/p')
    q1=$("$BUILD/gan-gen" --model "$MODEL8" --bench --batch 1 --count 300 --threads 2 $flag | sed -n 's/.*p50 \([0-9.]*\).*/\1/p')
    q64=$("$BUILD/gan-gen" --model "$MODEL8" --bench --batch 64 --count 1280 --threads 2 $flag | sed -n 's/throughput: \([0-9.]*\) img.*/\1/p')
    rm -rf "$TMP/t"
    "$BUILD/gan-train" --dataroot "$TMP/data.npy" --image-size 64 --iterations 25 --swd-every 0 --threads 2 \
      --sample-every 1000 --checkpoint-every 1000 --outf "$TMP/t" $tflag > /dev/null
    spi=$(python3 - "$TMP/t/log.csv" <<'PY'
import csv, sys
import statistics
rows = {int(r["iteration"]): float(r["train_seconds"]) for r in csv.DictReader(open(sys.argv[1]))}
print(f"{statistics.median(rows[i] - rows[i - 1] for i in range(6, 26)):.4f}")  # median step: robust to stalls
PY
)
    echo "round $r $mode: gan-gen fp32 b1 p50 $b1 ms, b64 $b64 img/s; int8 b1 p50 $q1 ms, b64 $q64 img/s; gan-train $spi s/iteration"
    echo "$mode $b1 $b64 $q1 $q64 $spi" >> "$TMP/all"
  done
done
python3 - "$TMP/all" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    m, *v = line.split()
    rows.setdefault(m, []).append([float(x) for x in v])
med = {m: [st.median(x[i] for x in v) for i in range(5)] for m, v in rows.items()}
print("| | fp32 b1 p50 ms | fp32 b64 img/s | int8 b1 p50 ms | int8 b64 img/s | gan-train 64px s/iteration |")
print("|---|---|---|---|---|---|")
for m in ("direct", "winograd"):
    d = med[m]
    print(f"| {m} | {d[0]:.3f} | {d[1]:.1f} | {d[2]:.3f} | {d[3]:.1f} | {d[4]:.4f} |")
d, w = med["direct"], med["winograd"]
def faster(r):  # r = direct time / winograd time
    return f"{r:.2f}x faster" if r >= 1 else f"{1 / r:.2f}x slower"
print(f"| winograd / direct | {faster(d[0] / w[0])} | {faster(w[1] / d[1])} | {faster(d[2] / w[2])} | {faster(w[3] / d[3])} | {faster(d[4] / w[4])} |")
PY
