#!/bin/sh
# The main job on the built-in data: installs what is missing, builds in release mode and trains a
# 32x32 DCGAN on Fashion-MNIST (Debian's dataset-fashion-mnist) for a few minutes on all cores.
# Extra arguments go to gan-train (e.g. --iterations 2000, --threads 4).
set -e
cd "$(dirname "$0")/.."
tools/install-deps.sh dataset-fashion-mnist
swift build -c release --product gan-train
OUT=${OUT:-out/fashion-mnist-32}
.build/release/gan-train --dataroot fashion-mnist --image-size 32 --iterations 400 --sample-every 100 \
  --checkpoint-every 200 --manual-seed 1 --outf "$OUT" "$@"
echo
echo "sample grids: $OUT/fake_samples_*.png (real data: $OUT/real_samples.png)"
echo "report:       $OUT/report.html"
echo "generator:    $OUT/generator.safetensors"
