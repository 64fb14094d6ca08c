#!/bin/sh
# The whole product on the built-in data: installs what is missing, builds in release mode, trains
# a 32x32 DCGAN on Fashion-MNIST (Debian's dataset-fashion-mnist) for a few minutes on all cores,
# quantizes the generator to int8 (gan-quant) and writes fp32 and int8 sample grids with gan-gen.
# Extra arguments go to gan-train (e.g. --iterations 2000, --threads 4).
set -e
cd "$(dirname "$0")/.."
tools/install-deps.sh dataset-fashion-mnist
swift build -c release --product gan-train
swift build -c release --product gan-quant
swift build -c release --product gan-gen
OUT=${OUT:-out/fashion-mnist-32}
.build/release/gan-train --dataroot fashion-mnist --image-size 32 --iterations 400 --sample-every 100 \
  --checkpoint-every 200 --manual-seed 1 --outf "$OUT" "$@"
echo
.build/release/gan-quant --model "$OUT/generator.safetensors" --out "$OUT/generator.int8.safetensors"
.build/release/gan-gen --model "$OUT/generator.safetensors" --count 64 --grid 8 --out "$OUT/gan-gen-fp32.png"
.build/release/gan-gen --model "$OUT/generator.int8.safetensors" --count 64 --grid 8 --out "$OUT/gan-gen-int8.png"
echo
echo "sample grids:   $OUT/fake_samples_*.png (real data: $OUT/real_samples.png)"
echo "report:         $OUT/report.html"
echo "generator:      $OUT/generator.safetensors (fp32, PyTorch names)"
echo "int8 generator: $OUT/generator.int8.safetensors (fidelity report: $OUT/generator.int8.report.json)"
echo "gan-gen grids:  $OUT/gan-gen-fp32.png and $OUT/gan-gen-int8.png (the same 64 latents)"
echo "on a board:     tools/build-board.sh, then copy .build-board/aarch64/gan-gen and the .safetensors file"
