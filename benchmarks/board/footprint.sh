#!/bin/sh
# Footprint of gan-gen, the x86_64 Embedded Swift build (tools/build-board.sh --arch x86_64)
# against the SwiftPM release build, on the same 64 px int8 model (DCGAN nz 100, ngf 64, from a
# 1-iteration gan-train run quantized by gan-quant; weights do not change the footprint):
#   stripped binary size; peak RSS for one image (/usr/bin/time -v); process start to the first
#   PNG written (the whole --count 1 run, wall clock); each a median of ROUNDS (default 5),
#   the two builds interleaved; and peak RSS of --count 20000 --batch 64 against --count 64
#   (memory must not grow with --count). Prints the aarch64 binary's size when it is built.
# Usage: benchmarks/board/footprint.sh [ROUNDS]. Needs about 3 minutes and 1 GB of /tmp.
set -e
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ROUNDS=${1:-5}
tools/install-deps.sh time >&2
swift build -c release >&2
tools/build-board.sh --arch x86_64 >&2
SPM=$ROOT/.build/release/gan-gen
EMB=$ROOT/.build-board/x86_64/gan-gen
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# 16 gray-128 64x64 RGB images as a uint8 .npy, one training iteration, quantize.
header="{'descr': '|u1', 'fortran_order': False, 'shape': (16, 64, 64, 3), }"
{ printf '\223NUMPY\001\000\166\000'
  printf '%s%*s\n' "$header" $((118 - ${#header} - 1)) ''
  head -c 196608 /dev/zero | tr '\000' '\200'; } > "$W/data.npy"
"$ROOT/.build/release/gan-train" --dataroot "$W/data.npy" --image-size 64 --batch-size 16 --iterations 1 \
  --manual-seed 1 --outf "$W/train" --cache-dir "$W/cache" > /dev/null
"$ROOT/.build/release/gan-quant" --model "$W/train/generator.safetensors" --out "$W/g64.int8.safetensors" \
  --bn-batches 1 --calibration-batches 1 > /dev/null
M=$W/g64.int8.safetensors

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
# rss BINARY ARGS...: peak RSS in KB of one run.
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident/ {print $6}'; }
# startms BINARY: ms from process start to exit of a --count 1 run (the PNG is written last).
startms() {
  t0=$(date +%s%N); "$1" --model "$M" --count 1 --out "$W/first" > /dev/null; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 ))
}
for b in spm emb; do : > "$W/$b.rss"; : > "$W/$b.start"; done
for r in $(seq "$ROUNDS"); do
  for b in spm emb; do
    bin=$SPM; [ $b = emb ] && bin=$EMB
    rss "$bin" --model "$M" --count 1 --out "$W/one" >> "$W/$b.rss"
    startms "$bin" >> "$W/$b.start"
  done
done
size() { s=$W/strip-$(basename "$(dirname "$1")"); cp "$1" "$s"; strip "$s"; wc -c < "$s"; }
ls "$M" > /dev/null
packed=$(wc -c < "$M")
echo "gan-gen footprint, 64 px int8 model ($packed bytes of int8 weights), median of $ROUNDS, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-34s %14s %14s\n' "" "SwiftPM" "Embedded"
printf '%-34s %14s %14s\n' "stripped binary (bytes)" "$(size "$SPM")" "$(size "$EMB")"
printf '%-34s %14s %14s\n' "peak RSS, one image (KB)" "$(median < "$W/spm.rss")" "$(median < "$W/emb.rss")"
printf '%-34s %14s %14s\n' "start to first PNG (ms)" \
  "$(median < "$W/spm.start" | awk '{printf "%.2f", $1 / 1000}')" "$(median < "$W/emb.start" | awk '{printf "%.2f", $1 / 1000}')"
for b in spm emb; do
  bin=$SPM; [ $b = emb ] && bin=$EMB
  a=$(rss "$bin" --model "$M" --count 64 --batch 64 --out "$W/c64")
  z=$(rss "$bin" --model "$M" --count 20000 --batch 64 --out "$W/c20000")
  rm -rf "$W/c64" "$W/c20000"
  echo "$b: peak RSS --count 64: $a KB, --count 20000: $z KB (difference $((z - a)) KB)"
done
[ -f .build-board/aarch64/gan-gen ] && echo "aarch64 board binary (stripped): $(wc -c < .build-board/aarch64/gan-gen) bytes"
exit 0
