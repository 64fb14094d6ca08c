#!/usr/bin/env python3
"""PyTorch reference for gan-train's step equivalence test.

Runs three iterations of the pytorch/examples dcgan loop (BCE-with-logits, Adam lr 2e-4,
betas (0.5, 0.999)) on a small 32x32 gray DCGAN and writes, as safetensors:
initial G and D weights (G./D. prefixes), the three real batches and latents, PyTorch's losses
and D outputs per step, and the weights after three steps (after.G./after.D.).

    tools/setup-venv.sh && .venv-tools/bin/python tools/make_train_fixture.py
"""
import os
import sys

import torch
import torch.nn as nn
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import Discriminator, Generator, weights_init, c  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "GanTrainingTests", "Fixtures",
                   "train3.safetensors")


def main():
    torch.manual_seed(2024)
    size, nz, ngf, ndf, nc, batch = 32, 16, 8, 8, 1, 8
    G, D = Generator(nz, ngf, nc, size), Discriminator(ndf, nc, size)
    G.apply(weights_init)
    D.apply(weights_init)
    d = {}
    for k, v in G.state_dict().items():
        if v.dtype == torch.float32:
            d["G." + k] = c(v)
    for k, v in D.state_dict().items():
        if v.dtype == torch.float32:
            d["D." + k] = c(v)
    criterion = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    reals, noises, stats = [], [], []
    for step in range(3):
        real = torch.tanh(torch.randn(batch, nc, size, size) * 1.5)
        noise = torch.randn(batch, nz, 1, 1)
        reals.append(real)
        noises.append(noise.view(batch, nz))
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        D.zero_grad()
        out = D(real)
        err_real = criterion(out, torch.full((batch,), 1.0))
        err_real.backward()
        d_x = torch.sigmoid(out).mean().item()
        fake = G(noise)
        out = D(fake.detach())
        err_fake = criterion(out, torch.full((batch,), 0.0))
        err_fake.backward()
        d_g_z1 = torch.sigmoid(out).mean().item()
        err_d = err_real + err_fake
        optD.step()
        # (2) Update G: maximize log(D(G(z)))
        G.zero_grad()
        out = D(fake)
        err_g = criterion(out, torch.full((batch,), 1.0))
        err_g.backward()
        d_g_z2 = torch.sigmoid(out).mean().item()
        optG.step()
        stats.append([err_d.item(), err_g.item(), d_x, d_g_z1, d_g_z2])
    d["real"] = torch.stack(reals)
    d["noise"] = torch.stack(noises)
    d["stats"] = torch.tensor(stats, dtype=torch.float32)
    for k, v in G.state_dict().items():
        if v.dtype == torch.float32:
            d["after.G." + k] = c(v)
    for k, v in D.state_dict().items():
        if v.dtype == torch.float32:
            d["after.D." + k] = c(v)
    save_file(d, OUT, metadata={"arch": '{"image_size":32,"nz":16,"ngf":8,"ndf":8,"nc":1}', "batch": str(batch),
                                "torch": torch.__version__})
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
