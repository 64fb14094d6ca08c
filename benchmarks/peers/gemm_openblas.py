#!/usr/bin/env python3
"""numpy/OpenBLAS float32 matmul on the shapes gemm-probe times (median GFLOP/s).

G2..G5 are timed as four phase GEMMs (M = 64*h*w, K = 4*cin, N = cout) on already-gathered
operands, so OpenBLAS does no im2col work while swift-gan's figure includes its gather.
Usage: OPENBLAS_NUM_THREADS=2 python3 gemm_openblas.py [repeats]
"""
import sys
import time

import numpy as np

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 21


def median(f):
    f(); f()
    t = []
    for _ in range(repeats):
        a = time.perf_counter(); f(); t.append(time.perf_counter() - a)
    return sorted(t)[len(t) // 2]


def report(name, flops, s):
    print(f"{name:34s} {s * 1e3:.3f} ms  {flops / s * 1e-9:.1f} GFLOP/s")


cfg = np.show_config(mode="dicts") if "mode" in np.show_config.__code__.co_varnames else None
blas = cfg["Build Dependencies"]["blas"]["name"] + " " + cfg["Build Dependencies"]["blas"].get("version", "") if cfg else "?"
print(f"numpy {np.__version__} ({blas}), median of {repeats}")
rng = np.random.default_rng(0)
a = rng.random((256, 2048), dtype=np.float32); b = rng.random((2048, 1024), dtype=np.float32)
report("gemm M256 N1024 K2048", 2 * 256 * 1024 * 2048, median(lambda: a @ b))
a = rng.random((64, 100), dtype=np.float32); b = rng.random((100, 8192), dtype=np.float32)
report("G1 b64 (M64 N8192 K100)", 2 * 64 * 100 * 8192, median(lambda: a @ b))
for name, side, cin, cout in [("G2", 4, 512, 256), ("G3", 8, 256, 128), ("G4", 16, 128, 64), ("G5", 32, 64, 3)]:
    m = 64 * side * side
    xs = [rng.random((m, 4 * cin), dtype=np.float32) for _ in range(4)]
    ws = [rng.random((4 * cin, cout), dtype=np.float32) for _ in range(4)]
    report(f"{name} b64 (4x M{m} N{cout} K{4 * cin})", 2 * 4 * m * cout * 4 * cin,
           median(lambda: [x @ w for x, w in zip(xs, ws)]))
# The same G5 shape again, for the line gemm-probe times with its direct narrow kernel.
m = 64 * 32 * 32
xs = [rng.random((m, 256), dtype=np.float32) for _ in range(4)]
ws = [rng.random((256, 3), dtype=np.float32) for _ in range(4)]
report(f"G5 b64 narrow (4x M{m} N3 K256)", 2 * 4 * m * 3 * 256, median(lambda: [x @ w for x, w in zip(xs, ws)]))
