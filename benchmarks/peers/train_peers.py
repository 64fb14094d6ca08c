#!/usr/bin/env python3
"""gan-train's training iteration against PyTorch's, side by side: the same DCGAN (pytorch/examples:
nz 100, ngf = ndf = 64, nc 3), batch 64, 2 threads, 32 and 64 px, rounds interleaved. swift-gan's
figure is train-probe's median `Trainer.step` (Winograd where the training table picks it, the
default, and the direct kernels, --no-winograd);
PyTorch's the median wall time of the pytorch/examples iteration (D on real, G, D on fake, D step,
D on the fake again, G step) after warm-up. Prints a markdown table with the ratio
swift-gan / PyTorch (below 1: swift-gan is faster).

The peer is PyPI's torch 2.15 (oneDNN, MKL), in a venv outside the repository; Debian's
python3-torch uses OpenBLAS without oneDNN and is about 1.4x slower, so it is no speed reference:

    python3 -m venv ~/torch-venv && ~/torch-venv/bin/pip install torch==2.15.0 numpy
    (cd benchmarks && swift build -c release --product train-probe)
    ~/torch-venv/bin/python benchmarks/peers/train_peers.py [--rounds 3] [--sizes 32,64]

--model sagan times the class-conditional SAGAN of tools/sagan_reference.py instead (nz 100,
ngf = ndf = 64, nc 3, 10 classes, attention at 16 px, hinge, TTUR; tools/sagan_reference.py's
iteration: G(z, y) once, D on real and on the detached fakes, D step, G step) against
sagan-probe's median GANTrainer.step (build it with --product sagan-probe); --loss wgan-gp adds
the gradient penalty (tools/wgan_reference.py: autograd's double backward; gan-train's exact one).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_fixtures import Discriminator, Generator, weights_init  # noqa: E402

THREADS = 2
PROBE = os.path.join(ROOT, "benchmarks", ".build", "release", "train-probe")
SAGAN_PROBE = os.path.join(ROOT, "benchmarks", ".build", "release", "sagan-probe")


def torch_iteration_seconds(size, iterations):
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    G, D = Generator(100, 64, 3, size), Discriminator(64, 3, size)
    G.apply(weights_init)
    D.apply(weights_init)
    criterion = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(64, 3, size, size) * 2 - 1
    ones, zeros = torch.ones(64), torch.zeros(64)
    times = []
    for i in range(iterations + 2):  # two warm-up iterations
        t0 = time.perf_counter()
        D.zero_grad()
        criterion(D(real), ones).backward()
        fake = G(torch.randn(64, 100, 1, 1))
        criterion(D(fake.detach()), zeros).backward()
        optD.step()
        G.zero_grad()
        criterion(D(fake), ones).backward()
        optG.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def torch_sagan_seconds(size, iterations, loss="hinge"):
    import sagan_reference as R
    import wgan_reference as WR
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    G, D = R.Generator(100, 64, 3, size, 10), R.Discriminator(64, 3, size, 10)
    R.init_weights(G)
    R.init_weights(D)
    optD = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
    optG = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    real = torch.rand(64, 3, size, size) * 2 - 1
    y = torch.arange(64) % 10
    times = []
    for i in range(iterations + 2):  # two warm-up iterations
        t0 = time.perf_counter()
        fake = G(torch.randn(64, 100), y)
        D.zero_grad()
        if loss == "hinge":
            torch.relu(1 - D(real, y)).mean().backward()
            torch.relu(1 + D(fake.detach(), y)).mean().backward()
        else:
            out_real, out_fake = D(real, y), D(fake.detach(), y)
            gp = WR.gradient_penalty(D, real, fake.detach(), y, torch.rand(64))
            (out_fake.mean() - out_real.mean() + 10.0 * gp).backward()
        optD.step()
        G.zero_grad()
        (-D(fake, y).mean()).backward()
        optG.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def swift_sagan_seconds(size, repeats, loss="hinge"):
    out = subprocess.run([SAGAN_PROBE, str(THREADS), "1", str(repeats), str(size), "1", loss], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"^\| SAGAN step \| ([0-9.]+) \|", out, re.M)
    if not m:
        sys.exit(f"sagan-probe printed no SAGAN step row:\n{out}")
    return float(m.group(1)) / 1e3


def sagan_main(a, sizes):
    if not os.access(SAGAN_PROBE, os.X_OK):
        sys.exit(f"{SAGAN_PROBE}: build it first: (cd benchmarks && swift build -c release --product sagan-probe)")
    res = {s: {"torch": [], "swift": []} for s in sizes}
    for r in range(a.rounds):
        for s in sizes:
            t = torch_sagan_seconds(s, a.iterations, a.loss)
            w = swift_sagan_seconds(s, a.iterations, a.loss)
            res[s]["torch"].append(t); res[s]["swift"].append(w)
            print(f"round {r} {s} px: torch {t * 1e3:.1f} ms, gan-train {w * 1e3:.1f} ms", file=sys.stderr)
    print(f"torch {torch.__version__} (MKL {torch.backends.mkl.is_available()}, oneDNN "
          f"{torch.backends.mkldnn.is_available()}), {THREADS} threads, batch 64, median of {a.rounds} interleaved rounds")
    print(f"| conditional SAGAN iteration ({a.loss}) | PyTorch | gan-train | ratio |")
    print("|---|---:|---:|---:|")
    for s in sizes:
        t, w = (statistics.median(res[s][k]) for k in ("torch", "swift"))
        print(f"| {s} px | {t * 1e3:.0f} ms | {w * 1e3:.0f} ms | {w / t:.2f}x |")


def swift_step_seconds(size, repeats):
    out = subprocess.run([PROBE, str(THREADS), "1", str(repeats), str(size)], check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r"^\| Trainer\.step \| ([0-9.]+) \| ([0-9.]+) \|", out, re.M)
    if not m:
        sys.exit(f"train-probe printed no Trainer.step row:\n{out}")
    return float(m.group(1)) / 1e3, float(m.group(2)) / 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="32,64")
    ap.add_argument("--iterations", type=int, default=5, help="timed PyTorch iterations per round")
    ap.add_argument("--model", choices=["dcgan", "sagan"], default="dcgan")
    ap.add_argument("--loss", choices=["hinge", "wgan-gp"], default="hinge", help="--model sagan's loss")
    a = ap.parse_args()
    if a.model == "sagan":
        return sagan_main(a, [int(s) for s in a.sizes.split(",")])
    if not os.access(PROBE, os.X_OK):
        sys.exit(f"{PROBE}: build it first: (cd benchmarks && swift build -c release --product train-probe)")
    sizes = [int(s) for s in a.sizes.split(",")]
    res = {s: {"torch": [], "direct": [], "winograd": []} for s in sizes}
    for r in range(a.rounds):
        for s in sizes:
            t = torch_iteration_seconds(s, a.iterations)
            d, w = swift_step_seconds(s, a.iterations)
            res[s]["torch"].append(t); res[s]["direct"].append(d); res[s]["winograd"].append(w)
            print(f"round {r} {s} px: torch {t * 1e3:.1f} ms, gan-train {w * 1e3:.1f} ms, --no-winograd {d * 1e3:.1f} ms",
                  file=sys.stderr)
    print(f"torch {torch.__version__} (MKL {torch.backends.mkl.is_available()}, oneDNN "
          f"{torch.backends.mkldnn.is_available()}), {THREADS} threads, batch 64, median of {a.rounds} interleaved rounds")
    print("| DCGAN iteration | PyTorch | gan-train (default: Winograd) | ratio | gan-train --no-winograd | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for s in sizes:
        t, d, w = (statistics.median(res[s][k]) for k in ("torch", "direct", "winograd"))
        print(f"| {s} px | {t * 1e3:.0f} ms | {w * 1e3:.0f} ms | {w / t:.2f}x | {d * 1e3:.0f} ms | {d / t:.2f}x |")


if __name__ == "__main__":
    main()
