#!/usr/bin/env python3
"""Golden fixtures from PyTorch for swift-gan's layer, network and optimizer tests.

Builds each layer, and a whole DCGAN G and D at batch 4, in PyTorch with fixed seeds, and writes
inputs, weights, outputs and all gradients (PyTorch layouts: NCHW activations, PyTorch weight
shapes) as safetensors under Tests/GanTrainingTests/Fixtures. Run once; the files are committed and
CI never needs PyTorch.

    tools/setup-venv.sh && .venv-tools/bin/python tools/make_fixtures.py
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "GanTrainingTests", "Fixtures")


def c(t):
    return t.detach().contiguous().clone().float()


def layers():
    torch.manual_seed(1234)
    d = {}
    # ConvTranspose2d(4, 2, 1): odd channels, non-square map, batch 2.
    x = torch.randn(2, 5, 3, 4, requires_grad=True)
    w = (torch.randn(5, 7, 4, 4) * 0.2).requires_grad_()
    y = F.conv_transpose2d(x, w, stride=2, padding=1)
    dy = torch.randn_like(y)
    y.backward(dy)
    d.update({"deconv.x": c(x), "deconv.w": c(w), "deconv.y": c(y), "deconv.dy": c(dy),
              "deconv.dx": c(x.grad), "deconv.dw": c(w.grad)})
    # Conv2d(4, 2, 1).
    x = torch.randn(2, 5, 6, 8, requires_grad=True)
    w = (torch.randn(7, 5, 4, 4) * 0.2).requires_grad_()
    y = F.conv2d(x, w, stride=2, padding=1)
    dy = torch.randn_like(y)
    y.backward(dy)
    d.update({"conv.x": c(x), "conv.w": c(w), "conv.y": c(y), "conv.dy": c(dy),
              "conv.dx": c(x.grad), "conv.dw": c(w.grad)})
    # ConvTranspose2d(4, 1, 0) from 1x1 (generator projection).
    x = torch.randn(3, 10, 1, 1, requires_grad=True)
    w = (torch.randn(10, 6, 4, 4) * 0.2).requires_grad_()
    y = F.conv_transpose2d(x, w, stride=1, padding=0)
    dy = torch.randn_like(y)
    y.backward(dy)
    d.update({"proj.x": c(x), "proj.w": c(w), "proj.y": c(y), "proj.dy": c(dy),
              "proj.dx": c(x.grad), "proj.dw": c(w.grad)})
    # Conv2d(4, 1, 0) to one logit (discriminator head).
    x = torch.randn(3, 6, 4, 4, requires_grad=True)
    w = (torch.randn(1, 6, 4, 4) * 0.2).requires_grad_()
    y = F.conv2d(x, w, stride=1, padding=0)
    dy = torch.randn_like(y)
    y.backward(dy)
    d.update({"final.x": c(x), "final.w": c(w), "final.y": c(y), "final.dy": c(dy),
              "final.dx": c(x.grad), "final.dw": c(w.grad)})
    # BatchNorm2d (train) + ReLU and + LeakyReLU(0.2); 20 channels (not a multiple of 16).
    for name, act in [("bn_relu", lambda t: F.relu(t)), ("bn_lrelu", lambda t: F.leaky_relu(t, 0.2))]:
        bn = nn.BatchNorm2d(20)
        with torch.no_grad():
            bn.weight.copy_(1 + 0.1 * torch.randn(20))
            bn.bias.copy_(0.1 * torch.randn(20))
            bn.running_mean.copy_(0.1 * torch.randn(20))
            bn.running_var.copy_(1 + 0.1 * torch.rand(20))
        d[f"{name}.running_mean0"] = c(bn.running_mean)
        d[f"{name}.running_var0"] = c(bn.running_var)
        x = (torch.randn(4, 20, 3, 5) * 2 + 0.5).requires_grad_()
        y = act(bn(x))
        dy = torch.randn_like(y)
        y.backward(dy)
        d.update({f"{name}.x": c(x), f"{name}.gamma": c(bn.weight), f"{name}.beta": c(bn.bias),
                  f"{name}.y": c(y), f"{name}.dy": c(dy), f"{name}.dx": c(x.grad),
                  f"{name}.dgamma": c(bn.weight.grad), f"{name}.dbeta": c(bn.bias.grad),
                  f"{name}.running_mean": c(bn.running_mean), f"{name}.running_var": c(bn.running_var)})
    # Tanh and LeakyReLU.
    x = (torch.randn(257) * 2).requires_grad_()
    y = torch.tanh(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    d.update({"tanh.x": c(x), "tanh.y": c(y), "tanh.dy": c(dy), "tanh.dx": c(x.grad)})
    x = torch.randn(257).requires_grad_()
    y = F.leaky_relu(x, 0.2)
    dy = torch.randn_like(y)
    y.backward(dy)
    d.update({"lrelu.x": c(x), "lrelu.y": c(y), "lrelu.dy": c(dy), "lrelu.dx": c(x.grad)})
    # BCE-with-logits (mean), targets 1 and 0.
    for target in (1.0, 0.0):
        x = (torch.randn(9) * 3).requires_grad_()
        loss = F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))
        loss.backward()
        tag = f"bce{int(target)}"
        d.update({f"{tag}.x": c(x), f"{tag}.loss": c(loss.reshape(1)), f"{tag}.dx": c(x.grad)})
    # Ten Adam steps (lr 2e-4, betas (0.5, 0.999)) on 37 parameters with given gradients; a few
    # gradients are tiny so bias correction and eps matter.
    p = nn.Parameter(torch.randn(37) * 0.05)
    d["adam.p0"] = c(p)
    opt = torch.optim.Adam([p], lr=2e-4, betas=(0.5, 0.999))
    grads, params = [], []
    for step in range(10):
        g = torch.randn(37) * 0.1
        g[:3] *= 1e-6
        p.grad = g.clone()
        opt.step()
        grads.append(g)
        params.append(c(p))
    d["adam.grads"] = torch.stack(grads)
    d["adam.params"] = torch.stack(params)
    return d


class Generator(nn.Module):
    """pytorch/examples dcgan Generator, generalized to 32/64/128 px."""

    def __init__(self, nz, ngf, nc, size):
        super().__init__()
        n = size.bit_length() - 2  # 32 -> 4, 64 -> 5 layers
        mult = 2 ** (n - 2)
        mods = [nn.ConvTranspose2d(nz, ngf * mult, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * mult), nn.ReLU(True)]
        for _ in range(n - 2):
            mods += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 4, 2, 1, bias=False),
                     nn.BatchNorm2d(ngf * mult // 2), nn.ReLU(True)]
            mult //= 2
        mods += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*mods)

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, ndf, nc, size):
        super().__init__()
        n = size.bit_length() - 2
        mods = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for _ in range(n - 2):
            mods += [nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 1, bias=False),
                     nn.BatchNorm2d(ndf * mult * 2), nn.LeakyReLU(0.2, inplace=True)]
            mult *= 2
        mods += [nn.Conv2d(ndf * mult, 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*mods)

    def forward(self, x):
        return self.main(x).view(-1)


def weights_init(m):
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def networks(size, nz, ngf, ndf, nc, seed):
    torch.manual_seed(seed)
    d = {}
    G = Generator(nz, ngf, nc, size)
    D = Discriminator(ndf, nc, size)
    G.apply(weights_init)
    D.apply(weights_init)
    # Larger weights than DCGAN's 0.02 so gradients are not all tiny.
    with torch.no_grad():
        for m in list(G.modules()) + list(D.modules()):
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.mul_(5)
    for k, v in G.state_dict().items():
        if v.dtype == torch.float32:
            d["G." + k] = c(v)
    for k, v in D.state_dict().items():
        if v.dtype == torch.float32:
            d["D." + k] = c(v)
    # Generator: train mode, given output gradient.
    z = torch.randn(4, nz, 1, 1)
    out = G(z)
    dout = torch.randn_like(out)
    out.backward(dout)
    d.update({"G.in.z": c(z), "G.out": c(out), "G.out.grad": c(dout)})
    for k, p in G.named_parameters():
        d["G.grad." + k] = c(p.grad)
    for k, v in G.state_dict().items():
        if "running" in k:
            d["G.after." + k] = c(v)
    # Discriminator: train mode, BCE-with-logits against 1, gradient to its input too.
    x = torch.tanh(torch.randn(4, nc, size, size) * 1.5).requires_grad_()
    logits = D(x)
    loss = F.binary_cross_entropy_with_logits(logits, torch.ones(4))
    loss.backward()
    d.update({"D.in.x": c(x), "D.out.logits": c(logits), "D.out.loss": c(loss.reshape(1)),
              "D.in.grad": c(x.grad)})
    for k, p in D.named_parameters():
        d["D.grad." + k] = c(p.grad)
    for k, v in D.state_dict().items():
        if "running" in k:
            d["D.after." + k] = c(v)
    return d


def main():
    os.makedirs(OUT, exist_ok=True)
    from safetensors.torch import save_file  # here: the networks above are imported where safetensors is not installed
    meta = {"torch": torch.__version__, "generator": "tools/make_fixtures.py"}
    save_file(layers(), os.path.join(OUT, "layers.safetensors"), metadata=meta)
    save_file(networks(32, 16, 8, 8, 3, seed=7), os.path.join(OUT, "dcgan32.safetensors"),
              metadata=dict(meta, arch='{"image_size":32,"nz":16,"ngf":8,"ndf":8,"nc":3}'))
    save_file(networks(64, 8, 4, 4, 1, seed=8), os.path.join(OUT, "dcgan64.safetensors"),
              metadata=dict(meta, arch='{"image_size":64,"nz":8,"ngf":4,"ndf":4,"nc":1}'))
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)), "bytes")


if __name__ == "__main__":
    sys.exit(main())
