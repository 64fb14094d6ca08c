#!/bin/sh
# swift-gan GEMM kernels against numpy/OpenBLAS on 2 threads, interleaved three times so both
# see the same machine load. Run from benchmarks/.
set -e
cd "$(dirname "$0")/.."
swift build -c release --product gemm-probe >/dev/null
for round in $(seq 1 ${ROUNDS:-3}); do
  echo "== round $round"
  .build/release/gemm-probe 2 21
  OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 python3 peers/gemm_openblas.py 21
done
