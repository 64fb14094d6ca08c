#!/usr/bin/env python3
"""PyTorch reference of swift-gan's Wasserstein losses (gan-train --loss wgan-gp | wasserstein), the
executable form of issue 17, and the maker of their step-equivalence fixtures.

WGAN-GP (Gulrajani et al. 2017): critic loss E[D(G(z, y), y)] - E[D(x, y)] + lambda E[(||grad_xhat
D(xhat, y)||_2 - 1)^2] with xhat = a x + (1 - a) G(z, y), a ~ U(0, 1) per sample, the fakes detached
and taking the real batch's labels; G loss -E[D(G(z, y), y)]. In a D step the critic runs three
training-mode forwards in this order: the real batch, the fakes, the mixes (so spectral norm's power
iteration runs three times), and one backward of the whole critic loss (create_graph=True for the
penalty: PyTorch's double backward). The G step runs one.

Models: the conditional SAGAN of tools/sagan_reference.py, and the DCGAN of tools/make_fixtures.py
whose critic has no BatchNorm (WGAN-GP forbids it): Conv2d(4, 2, 1) + LeakyReLU(0.2) throughout,
the final Conv2d(4, 1, 0), conv weights at main.0, main.2, ... (an nn.Sequential of conv, LeakyReLU
pairs). `--loss wasserstein` (the original WGAN) clamps every critic parameter to [-clip, clip]
after each critic step and has no penalty.

    tools/setup-venv.sh && .venv-tools/bin/python tools/wgan_reference.py
writes Tests/GanTrainingTests/Fixtures/wgan3-{sagan32,dcgan32}.safetensors (three WGAN-GP
iterations: initial and final weights, batches, latents, labels, mixing weights, losses with the
penalty) and wgan_penalty.safetensors (the penalty and its gradient with respect to every critic
parameter, autograd, for a conditional SAGAN critic with attention gamma 0.5 and for the DCGAN
critic).
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sagan_reference as S  # noqa: E402
from make_fixtures import Generator as DCGANGenerator, weights_init  # noqa: E402

OUT = S.OUT


class DCGANCritic(nn.Module):
    """The DCGAN discriminator without BatchNorm (a WGAN-GP critic)."""

    def __init__(self, ndf, nc, size):
        super().__init__()
        n = size.bit_length() - 2
        mods = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
        mult = 1
        for _ in range(n - 2):
            mods += [nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
            mult *= 2
        mods += [nn.Conv2d(ndf * mult, 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*mods)

    def forward(self, x, y=None):
        return self.main(x).view(-1)


def gradient_penalty(D, real, fake, y, alpha):
    a = alpha.view(-1, 1, 1, 1)
    xhat = (a * real + (1 - a) * fake).requires_grad_(True)
    out = D(xhat, y)
    g = torch.autograd.grad(out.sum(), xhat, create_graph=True)[0]
    return ((g.view(g.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()


def models(kind, size, nc, nz, width, classes):
    if kind == "sagan":
        G, D = S.Generator(nz, width, nc, size, classes), S.Discriminator(width, nc, size, classes)
        S.init_weights(G)
        S.init_weights(D)
        return G, D, (lambda z, y: G(z, y))
    G, D = DCGANGenerator(nz, width, nc, size), DCGANCritic(width, nc, size)
    G.apply(weights_init)
    for m in D.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
    return G, D, (lambda z, y: G(z.view(z.shape[0], -1, 1, 1)))


def fixture(kind, size=32, nc=3, nz=8, width=8, classes=3, batch=4, seed=17, lam=10.0):
    torch.manual_seed(seed)
    classes = classes if kind == "sagan" else 0
    G, D, gen = models(kind, size, nc, nz, width, classes)
    lr_g, lr_d, betas = (1e-4, 4e-4, (0.0, 0.9)) if kind == "sagan" else (2e-4, 2e-4, (0.5, 0.999))
    d = {}
    d.update(S.state("G.", G))
    d.update(S.state("D.", D))
    optD = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)
    optG = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
    reals, noises, labels, alphas, stats = [], [], [], [], []
    for step in range(3):
        real = torch.tanh(torch.randn(batch, nc, size, size) * 1.5)
        y = torch.randint(0, max(classes, 1), (batch,))
        z = torch.randn(batch, nz)
        alpha = torch.rand(batch)
        reals.append(real); noises.append(z); labels.append(y); alphas.append(alpha)
        fake = gen(z, y)
        D.zero_grad()
        out_real = D(real, y)
        out_fake = D(fake.detach(), y)
        gp = gradient_penalty(D, real, fake.detach(), y, alpha)
        loss_d = out_fake.mean() - out_real.mean() + lam * gp
        loss_d.backward()
        optD.step()
        G.zero_grad()
        out = D(fake, y)
        loss_g = -out.mean()
        loss_g.backward()
        optG.step()
        stats.append([loss_d.item(), loss_g.item(), out_real.mean().item(), out_fake.mean().item(), out.mean().item(),
                      (lam * gp).item()])
    d["real"] = torch.stack(reals)
    d["noise"] = torch.stack(noises)
    d["labels"] = torch.stack(labels).float()
    d["alpha"] = torch.stack(alphas)
    # per step: L_D (with the penalty), L_G, mean D(x), mean D(G(z)) before and after, the penalty
    d["stats"] = torch.tensor(stats, dtype=torch.float32)
    d.update(S.state("after.G.", G))
    d.update(S.state("after.D.", D))
    arch = {"arch": kind, "image_size": size, "nz": nz, "ngf": width, "ndf": width, "nc": nc, "loss": "wgan-gp",
            "gp_lambda": lam, "lr_g": lr_g, "lr_d": lr_d, "beta1": betas[0], "beta2": betas[1]}
    if kind == "sagan":
        arch.update({"classes": classes, "attention_at": 16})
    else:
        arch["d_batchnorm"] = False
    return d, {"arch": json.dumps(arch), "batch": str(batch), "torch": torch.__version__,
               "generator": "tools/wgan_reference.py"}


def penalty_fixture():
    """lambda * penalty and its gradient with respect to every critic parameter (autograd), for a
    conditional SAGAN critic (attention gamma 0.5, so the attention block's second derivative
    matters) and the DCGAN critic; one training-mode forward (one power iteration)."""
    torch.manual_seed(23)
    d = {}
    for kind in ("sagan", "dcgan"):
        _, D, _ = models(kind, 32, 3, 8, 8, 3 if kind == "sagan" else 0)
        if kind == "sagan":
            with torch.no_grad():
                D.attention.gamma.fill_(0.5)
                for m in [D.attention.query, D.attention.key, D.attention.value]:
                    m.bias.normal_(0, 0.1)
        d.update(S.state(f"{kind}.D.", D))
        x = torch.tanh(torch.randn(4, 3, 32, 32) * 1.5)
        f = torch.tanh(torch.randn(4, 3, 32, 32))
        y = torch.randint(0, 3, (4,)) if kind == "sagan" else None
        alpha = torch.rand(4)
        D.zero_grad()
        gp = 10.0 * gradient_penalty(D, x, f, y, alpha)
        gp.backward()
        d[f"{kind}.real"] = x
        d[f"{kind}.fake"] = f
        d[f"{kind}.alpha"] = alpha
        if y is not None:
            d[f"{kind}.labels"] = y.float()
        d[f"{kind}.penalty"] = gp.detach().reshape(1)
        for name, p in D.named_parameters():
            d[f"{kind}.grad.{name}"] = p.grad.detach().clone()
        d.update(S.state(f"{kind}.after.D.", D))  # u, v after the one power iteration
    return {k: v.detach().contiguous().clone().float() for k, v in d.items()}


def main():
    from safetensors.torch import save_file
    for kind in ("sagan", "dcgan"):
        d, meta = fixture(kind)
        path = os.path.join(OUT, f"wgan3-{kind}32.safetensors")
        save_file(d, path, metadata=meta)
        print(path, os.path.getsize(path), "bytes; stats per step", d["stats"].tolist())
    path = os.path.join(OUT, "wgan_penalty.safetensors")
    save_file(penalty_fixture(), path, metadata={"torch": torch.__version__, "generator": "tools/wgan_reference.py"})
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
