#!/usr/bin/env python3
"""The PyTorch side of the CIFAR-10 experiment (benchmarks/quality/cifar.py): trains one model on
the same uint8 arrays gan-train reads, with the same settings and snapshot protocol, under PyPI's
torch (oneDNN, MKL: the build users install, and the speed peer). Models:
  dcgan         pytorch/examples DCGAN (tools/make_fixtures.py), BCE, Adam(2e-4, 0.5, 0.999)
  sagan-hinge   the conditional SAGAN of tools/sagan_reference.py, hinge, TTUR 1e-4 / 4e-4, betas (0, 0.9)
  sagan-wgangp  the same with WGAN-GP (tools/wgan_reference.py's penalty, lambda 10)
Snapshots every --snapshot-every iterations: G with BatchNorm statistics re-estimated over 50 x 64
latents (momentum None; conditional: classes drawn uniformly), in safetensors with gan.arch, so
gan-gen samples both frameworks the same way. log.csv: iteration, losses, train_seconds.
checkpoint.pt every --checkpoint-every iterations (models, optimizers, data order, random states,
training seconds), and on SIGTERM / Ctrl-C after the iteration in flight; --resume continues from
it exactly, with log.csv cut back to its iteration.

    ~/torch-venv/bin/python benchmarks/quality/cifar_torch.py --model sagan-hinge --data DIR --out DIR \
        --iterations 5000 --seed 1 --threads 2
"""
import argparse
import json
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import sagan_reference as S  # noqa: E402
import wgan_reference as W  # noqa: E402
from make_fixtures import Discriminator, Generator, weights_init  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from training import write_safetensors  # noqa: E402  (the quality benchmark's one safetensors writer)


def snapshot(G, make, path, arch, classes, names, rng):
    # A fresh copy (deepcopy cannot copy spectral norm's computed weight), built under a forked
    # random state so that snapshots leave training's random stream (and a resume) alone.
    with torch.random.fork_rng():
        g = make()
    g.load_state_dict(G.state_dict())
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    g.train()
    with torch.no_grad():
        for _ in range(50):
            z = torch.randn(64, 100, generator=rng)
            if classes:
                g(z, torch.randint(0, classes, (64,), generator=rng))
            else:
                g(z.view(64, 100, 1, 1))
    # Spectral norm's u and v as trained (the re-estimation passes ran power iterations on the
    # copy; gan-train's export leaves them alone).
    state = {k: v.numpy() for k, v in g.state_dict().items() if v.dtype == torch.float32}
    for k, v in G.state_dict().items():
        if k.endswith("weight_u") or k.endswith("weight_v"):
            state[k] = v.numpy()
    meta = {"gan.arch": json.dumps(arch, separators=(",", ":")), "gan.trainer": f"torch {torch.__version__}"}
    if classes:
        meta["gan.classes"] = json.dumps(names, separators=(",", ":"))
    write_safetensors(path, state, meta)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=["dcgan", "sagan-hinge", "sagan-wgangp"], required=True)
    ap.add_argument("--data", required=True, help="folder with train.npy, train_labels.npy, classes.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--iterations", type=int, default=5000)
    ap.add_argument("--snapshot-every", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = torch.from_numpy(np.load(os.path.join(a.data, "train.npy"))).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(np.load(os.path.join(a.data, "train_labels.npy")).astype(np.int64))
    names = json.load(open(os.path.join(a.data, "classes.json")))
    sagan = a.model != "dcgan"
    classes = len(names) if sagan else 0
    if sagan:
        make = lambda: S.Generator(100, 64, 3, 32, classes)  # noqa: E731
        G, D = make(), S.Discriminator(64, 3, 32, classes)
        S.init_weights(G)
        S.init_weights(D)
        optD = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
        optG = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
        arch = {"arch": "sagan", "image_size": 32, "nz": 100, "ngf": 64, "ndf": 64, "nc": 3, "classes": classes,
                "attention_at": 16}
    else:
        make = lambda: Generator(100, 64, 3, 32)  # noqa: E731
        G, D = make(), Discriminator(64, 3, 32)
        G.apply(weights_init)
        D.apply(weights_init)
        optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        arch = {"image_size": 32, "nz": 100, "ngf": 64, "ndf": 64, "nc": 3}
    bce = nn.BCEWithLogitsLoss()
    snap_rng = torch.Generator().manual_seed(a.seed + 7777)
    os.makedirs(os.path.join(a.out, "snapshots"), exist_ok=True)
    B, per_epoch = 64, len(data) // 64
    stop = []  # the signal number once SIGTERM or SIGINT arrived: checkpoint after this iteration, then exit
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda n, _: stop.append(n))
    spent, it, order = 0.0, 0, None
    ckpt_path, log_path = os.path.join(a.out, "checkpoint.pt"), os.path.join(a.out, "log.csv")
    if a.resume:
        c = torch.load(ckpt_path)
        for m, k in ((G, "G"), (D, "D"), (optG, "optG"), (optD, "optD")):
            m.load_state_dict(c[k])
        it, spent, order = c["iteration"], c["train_seconds"], c["order"]
        torch.set_rng_state(c["rng"])
        snap_rng.set_state(c["snap_rng"])
        rows = open(log_path).read().splitlines()
        log = open(log_path, "w")
        log.write("\n".join(rows[:it + 1]) + "\n")  # the header and iterations 1...it
        print(f"resumed at iteration {it} from {ckpt_path}", flush=True)
    else:
        log = open(log_path, "w")
        log.write("iteration,Loss_D,Loss_G,D_x,D_G_z1,D_G_z2,train_seconds\n")
    print(f"torch {torch.__version__}, {a.threads} threads, {a.model}, {a.iterations} iterations, {len(data)} images",
          flush=True)
    while it < a.iterations:
        t0 = time.perf_counter()
        if it % per_epoch == 0:
            order = torch.randperm(len(data))
        idx = order[(it % per_epoch) * B:(it % per_epoch + 1) * B]
        real = data[idx].float().div_(127.5).sub_(1)
        y = labels[idx]
        z = torch.randn(B, 100)
        if sagan:
            fake = G(z, y)
            D.zero_grad()
            out_real = D(real, y)
            out_fake = D(fake.detach(), y)
            if a.model == "sagan-hinge":
                loss_d = F.relu(1 - out_real).mean() + F.relu(1 + out_fake).mean()
            else:
                alpha = torch.rand(B)
                loss_d = out_fake.mean() - out_real.mean() + 10.0 * W.gradient_penalty(D, real, fake.detach(), y, alpha)
            loss_d.backward()
            optD.step()
            G.zero_grad()
            out_g = D(fake, y)
            loss_g = -out_g.mean()
            loss_g.backward()
            optG.step()
            stats = (loss_d.item(), loss_g.item(), out_real.mean().item(), out_fake.mean().item(), out_g.mean().item())
        else:
            D.zero_grad()
            out_real = D(real)
            err_real = bce(out_real, torch.ones(B))
            err_real.backward()
            fake = G(z.view(B, 100, 1, 1))
            out_fake = D(fake.detach())
            err_fake = bce(out_fake, torch.zeros(B))
            err_fake.backward()
            optD.step()
            G.zero_grad()
            out_g = D(fake)
            err_g = bce(out_g, torch.ones(B))
            err_g.backward()
            optG.step()
            stats = ((err_real + err_fake).item(), err_g.item(), torch.sigmoid(out_real).mean().item(),
                     torch.sigmoid(out_fake).mean().item(), torch.sigmoid(out_g).mean().item())
        spent += time.perf_counter() - t0
        it += 1
        log.write(f"{it}," + ",".join(f"{v}" for v in stats) + f",{spent:.3f}\n")
        if it % 100 == 0:
            log.flush()
            print(f"it {it}/{a.iterations} Loss_D {stats[0]:.4f} Loss_G {stats[1]:.4f} {it * B / spent:.1f} img/s",
                  flush=True)
        if it % a.snapshot_every == 0 or it == a.iterations:
            snapshot(G, make, os.path.join(a.out, "snapshots", f"generator_iter_{it:07d}.safetensors"), arch, classes, names,
                     snap_rng)
        if it % a.checkpoint_every == 0 or it == a.iterations or stop:
            log.flush()
            state = {"G": G.state_dict(), "D": D.state_dict(), "optG": optG.state_dict(), "optD": optD.state_dict(),
                     "iteration": it, "train_seconds": spent, "order": order, "rng": torch.get_rng_state(),
                     "snap_rng": snap_rng.get_state()}
            with common.atomic_path(ckpt_path) as tmp:  # a kill mid-write leaves the previous checkpoint
                torch.save(state, tmp)
        if stop:
            print(f"stopped at iteration {it} ({stop[0]}): {ckpt_path} written; --resume continues", flush=True)
            sys.exit(128 + stop[0])
    log.close()


if __name__ == "__main__":
    main()
