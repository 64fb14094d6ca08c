#!/usr/bin/env python3
"""PyTorch references for gan-gen: random DCGAN generators (32 px gray and 64 px RGB) with
non-trivial BatchNorm running statistics, run in eval mode on fixed latents.

Writes Tests/GanRuntimeTests/Fixtures/: g32.safetensors (state_dict with main.N. names, including
num_batches_tracked), g64.safetensors (bare N. names, as an nn.Sequential saves), and for each
z*.npy latents (N, nz) and out*.npy outputs (N, C, H, W).

    tools/setup-venv.sh && .venv-tools/bin/python tools/make_gen_fixtures.py
"""
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import Generator, weights_init  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "GanRuntimeTests", "Fixtures")


def make(size, nz, ngf, nc, seed, bare):
    torch.manual_seed(seed)
    G = Generator(nz, ngf, nc, size)
    G.apply(weights_init)
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, torch.nn.ConvTranspose2d):
                m.weight.mul_(4)
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.3 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
                m.num_batches_tracked.fill_(123)
    G.eval()
    z = torch.randn(10, nz)
    with torch.no_grad():
        out = G(z.view(10, nz, 1, 1))
    sd = {k: v.contiguous() for k, v in G.state_dict().items()}
    if bare:
        sd = {k[len("main."):]: v for k, v in sd.items()}
    tag = f"g{size}"
    save_file(sd, os.path.join(OUT, f"{tag}.safetensors"), metadata={"torch": torch.__version__})
    np.save(os.path.join(OUT, f"z{size}.npy"), z.numpy().astype(np.float32))
    np.save(os.path.join(OUT, f"out{size}.npy"), out.numpy().astype(np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    make(32, 100, 16, 1, seed=31, bare=False)
    make(64, 32, 8, 3, seed=64, bare=True)
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)), "bytes")


if __name__ == "__main__":
    main()
