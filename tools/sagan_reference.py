#!/usr/bin/env python3
"""PyTorch reference of swift-gan's SAGAN family (gan-train --arch sagan), the executable form of
issue 16's definition, and the maker of its step-equivalence fixtures.

Model (state_dict names are what gan-train's --init reads and its export writes):
  G: ConvTranspose2d(nz, ngf*2^(L-2), 4, 1, 0) from the 1x1 latent, then ConvTranspose2d(4, 2, 1)
     blocks halving the channels; after each but the last, BatchNorm (conditional: BatchNorm2d
     without affine, then per-class gain and bias from embedding tables `gain`/`bias`, gain
     initialised to 1, bias to 0; unconditional: affine BatchNorm2d) and ReLU; the output block
     ConvTranspose2d(ngf, nc, 4, 2, 1) then Tanh. Spectral norm on every (de)convolution but the
     output one. No conv bias (as DCGAN).
       names: G.blocks.{i}.conv.{weight_orig,weight_u,weight_v}; conditional
       G.blocks.{i}.bn.norm.{running_mean,running_var,num_batches_tracked},
       G.blocks.{i}.bn.gain.weight, G.blocks.{i}.bn.bias.weight (classes x C); unconditional
       G.blocks.{i}.bn.{weight,bias,running_mean,running_var,num_batches_tracked};
       G.attention.{query,key,value}.{weight_orig,weight_u,weight_v,bias}, G.attention.gamma,
       G.output.weight
  D: Conv2d(nc, ndf, 4, 2, 1), then Conv2d(4, 2, 1) blocks doubling the channels, each followed by
     LeakyReLU(0.1), no BatchNorm, spectral norm on every conv; head psi = Conv2d(C, 1, 4, 1, 0)
     (SN) on the last 4x4 map h; conditional: logit = psi(h) + <embed(y), sum over positions of h>,
     embed an SN nn.Embedding(classes, C).
       names: D.blocks.{i}.conv.*, D.attention.*, D.head.*, D.embed.{weight_orig,weight_u,weight_v}
  Self-attention (Zhang et al. 2018, as heykeetae/Self-Attention-GAN): q, k = Conv1x1(C, C/8), v =
  Conv1x1(C, C), with bias and SN; A = softmax over j of q_i . k_j; o_i = sum_j A_ij v_j;
  y = gamma * o + x, gamma a scalar initialised to 0. After the block whose output is
  attention_at pixels wide, in G (after its ReLU) and in D (after its LeakyReLU).
  Init: conv weights N(0, 0.02) (weight_orig, the tensor SN normalizes), biases 0, the projection
  embedding N(0, 0.02). Spectral norm: torch.nn.utils.spectral_norm (1 power iteration, eps
  1e-12; dim 1 for ConvTranspose2d).
Training iteration (hinge loss, n_dis 1): fake = G(z, y) once; D step: D(real, y) and
D(fake.detach(), y) as two forwards, L_D = mean(relu(1 - D(x, y))) + mean(relu(1 + D(G(z, y), y)));
G step: L_G = -mean(D(fake, y)). Adam lr_g 1e-4, lr_d 4e-4, betas (0, 0.9).

    tools/setup-venv.sh && .venv-tools/bin/python tools/sagan_reference.py [--eval-only]
writes Tests/GanRuntimeTests/Fixtures/sagan_eval_{cond32,uncond64}.safetensors (a generator's
eval-mode output for gan-gen: the state_dict as a user saves it, latents, classes, output; the
latents and output also as _z.npy and _out.npy) and,
unless --eval-only, Tests/GanTrainingTests/Fixtures/sagan3-{32,64}.safetensors (three training
iterations: initial and final weights, batches, latents, labels, losses) and
sagan_layers.safetensors (each SAGAN kernel against autograd).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "GanTrainingTests", "Fixtures")


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.query = spectral_norm(nn.Conv2d(c, c // 8, 1))
        self.key = spectral_norm(nn.Conv2d(c, c // 8, 1))
        self.value = spectral_norm(nn.Conv2d(c, c, 1))
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        q = self.query(x).view(b, -1, h * w).permute(0, 2, 1)  # (b, N, C/8)
        k = self.key(x).view(b, -1, h * w)                      # (b, C/8, N)
        a = torch.softmax(torch.bmm(q, k), dim=-1)              # (b, N, N): row i over j
        v = self.value(x).view(b, -1, h * w)                    # (b, C, N)
        o = torch.bmm(v, a.permute(0, 2, 1)).view(b, c, h, w)   # o_i = sum_j A_ij v_j
        return self.gamma * o + x


class ConditionalBatchNorm(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.norm = nn.BatchNorm2d(c, affine=False)
        self.gain = nn.Embedding(classes, c)
        self.bias = nn.Embedding(classes, c)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x, y):
        return self.norm(x) * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]


class GBlock(nn.Module):
    def __init__(self, cin, cout, first, classes):
        super().__init__()
        self.conv = spectral_norm(nn.ConvTranspose2d(cin, cout, 4, 1 if first else 2, 0 if first else 1, bias=False),
                                  dim=1)
        self.bn = ConditionalBatchNorm(cout, classes) if classes else nn.BatchNorm2d(cout)
        self.conditional = bool(classes)

    def forward(self, x, y):
        h = self.conv(x)
        return F.relu(self.bn(h, y) if self.conditional else self.bn(h))


class Generator(nn.Module):
    def __init__(self, nz, ngf, nc, size, classes=0, attention_at=16):
        super().__init__()
        n = size.bit_length() - 2  # 32 -> 4 layers, 64 -> 5
        mult = 2 ** (n - 2)
        blocks, side, self.attend_after = [GBlock(nz, ngf * mult, True, classes)], 4, None
        for i in range(n - 2):
            blocks.append(GBlock(ngf * mult, ngf * mult // 2, False, classes))
            mult //= 2
            side *= 2
            if side == attention_at:
                self.attend_after = i + 1
        self.blocks = nn.ModuleList(blocks)
        c_att = ngf * 2 ** (n - 2) // (2 ** self.attend_after) if self.attend_after is not None else 0
        self.attention = SelfAttention(c_att) if self.attend_after is not None else None
        self.output = nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False)

    def forward(self, z, y):
        h = z.view(z.shape[0], -1, 1, 1)
        for i, b in enumerate(self.blocks):
            h = b(h, y)
            if i == self.attend_after:
                h = self.attention(h)
        return torch.tanh(self.output(h))


class Discriminator(nn.Module):
    def __init__(self, ndf, nc, size, classes=0, attention_at=16):
        super().__init__()
        n = size.bit_length() - 2
        blocks, side, mult, self.attend_after = [spectral_norm(nn.Conv2d(nc, ndf, 4, 2, 1, bias=False))], size // 2, 1, None
        if side == attention_at:
            self.attend_after = 0
        for i in range(n - 2):
            blocks.append(spectral_norm(nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 1, bias=False)))
            mult *= 2
            side //= 2
            if side == attention_at:
                self.attend_after = i + 1
        self.blocks = nn.ModuleList([nn.ModuleDict({"conv": b}) for b in blocks])
        c_att = ndf * 2 ** self.attend_after if self.attend_after is not None else 0
        self.attention = SelfAttention(c_att) if self.attend_after is not None else None
        self.head = spectral_norm(nn.Conv2d(ndf * mult, 1, 4, 1, 0, bias=False))
        self.embed = spectral_norm(nn.Embedding(classes, ndf * mult)) if classes else None

    def forward(self, x, y):
        h = x
        for i, b in enumerate(self.blocks):
            h = F.leaky_relu(b["conv"](h), 0.1)
            if i == self.attend_after:
                h = self.attention(h)
        logit = self.head(h).view(-1)
        if self.embed is not None:
            logit = logit + (self.embed(y) * h.sum(dim=(2, 3))).sum(dim=1)
        return logit


def init_weights(m):
    for name, p in m.named_parameters():
        if name.endswith("weight_orig") or (name.endswith("weight") and p.dim() == 4):
            nn.init.normal_(p, 0.0, 0.02)
        elif name.endswith(".bias") and p.dim() == 1 and "bn." not in name:
            nn.init.zeros_(p)
    if isinstance(m, Discriminator) and m.embed is not None:
        nn.init.normal_(m.embed.weight_orig, 0.0, 0.02)


def state(prefix, module):
    return {prefix + k: v.detach().contiguous().clone().float() for k, v in module.state_dict().items()}


def fixture(size, nc, nz=8, ngf=8, ndf=8, classes=3, batch=4, seed=16):
    torch.manual_seed(seed)
    G = Generator(nz, ngf, nc, size, classes)
    D = Discriminator(ndf, nc, size, classes)
    init_weights(G)
    init_weights(D)
    d = {}
    d.update(state("G.", G))
    d.update(state("D.", D))
    optD = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
    optG = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    reals, noises, labels, stats = [], [], [], []
    for step in range(3):
        real = torch.tanh(torch.randn(batch, nc, size, size) * 1.5)
        y = torch.randint(0, classes, (batch,))
        z = torch.randn(batch, nz)
        reals.append(real); noises.append(z); labels.append(y)
        fake = G(z, y)
        D.zero_grad()
        out_real = D(real, y)
        loss_real = F.relu(1 - out_real).mean()
        loss_real.backward()
        out_fake = D(fake.detach(), y)
        loss_fake = F.relu(1 + out_fake).mean()
        loss_fake.backward()
        optD.step()
        G.zero_grad()
        out = D(fake, y)
        loss_g = -out.mean()
        loss_g.backward()
        optG.step()
        stats.append([(loss_real + loss_fake).item(), loss_g.item(), out_real.mean().item(), out_fake.mean().item(),
                      out.mean().item()])
    d["real"] = torch.stack(reals)
    d["noise"] = torch.stack(noises)
    d["labels"] = torch.stack(labels).float()  # small integers, exact in float32
    d["stats"] = torch.tensor(stats, dtype=torch.float32)  # per step: L_D, L_G, mean D(x), mean D(G(z)) twice
    d.update(state("after.G.", G))
    d.update(state("after.D.", D))
    arch = {"arch": "sagan", "image_size": size, "nz": nz, "ngf": ngf, "ndf": ndf, "nc": nc, "classes": classes,
            "attention_at": 16, "loss": "hinge", "lr_g": 1e-4, "lr_d": 4e-4, "beta1": 0.0, "beta2": 0.9}
    return d, {"arch": json.dumps(arch), "batch": str(batch), "torch": torch.__version__,
               "generator": "tools/sagan_reference.py"}



def layer_fixture():
    """The SAGAN kernels one by one against autograd (Tests/GanTrainingTests/PyTorchSAGANLayerTests)."""
    torch.manual_seed(77)
    d = {}
    # Self-attention core on (b, N, c) tensors: A = softmax(q k^T), o = A v.
    q = torch.randn(2, 12, 3, requires_grad=True)
    k = torch.randn(2, 12, 3, requires_grad=True)
    v = torch.randn(2, 12, 6, requires_grad=True)
    a = torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)
    o = torch.bmm(a, v)
    do = torch.randn_like(o)
    o.backward(do)
    d.update({"att.q": q, "att.k": k, "att.v": v, "att.a": a, "att.o": o, "att.do": do, "att.dq": q.grad,
              "att.dk": k.grad, "att.dv": v.grad})
    # Spectral norm of a ConvTranspose2d(5, 7) (dim 1) and a Conv2d(5, 7) (dim 0) weight: one
    # training-mode power iteration, W / sigma, and the gradient of sum(G * W / sigma) to weight_orig.
    for name, layer, dim in [("sn_deconv", nn.ConvTranspose2d(5, 7, 4, 2, 1, bias=False), 1),
                             ("sn_conv", nn.Conv2d(5, 7, 4, 2, 1, bias=False), 0)]:
        m = spectral_norm(layer, dim=dim)
        d[f"{name}.weight_orig"] = m.weight_orig.detach().clone()
        d[f"{name}.u0"] = m.weight_u.detach().clone()
        d[f"{name}.v0"] = m.weight_v.detach().clone()
        m.train()
        m(torch.randn(1, 5, 4, 4))  # the forward pre-hook runs the power iteration and sets m.weight
        w_sn = m.weight
        g = torch.randn_like(w_sn)
        (w_sn * g).sum().backward()
        wmat = m.weight_orig.detach().transpose(0, 1).reshape(7, -1) if dim == 1 else m.weight_orig.detach().reshape(7, -1)
        sigma = torch.dot(m.weight_u, torch.mv(wmat, m.weight_v))
        d.update({f"{name}.u1": m.weight_u.detach().clone(), f"{name}.v1": m.weight_v.detach().clone(),
                  f"{name}.sigma": sigma.reshape(1), f"{name}.w_sn": w_sn.detach(), f"{name}.g": g,
                  f"{name}.dw_orig": m.weight_orig.grad})
    # Conditional BatchNorm + ReLU, training mode, 3 classes.
    cbn = ConditionalBatchNorm(5, 3)
    with torch.no_grad():
        cbn.gain.weight.copy_(1 + 0.3 * torch.randn(3, 5))
        cbn.bias.weight.copy_(0.3 * torch.randn(3, 5))
    x = (torch.randn(4, 5, 3, 2) * 2 + 0.5).requires_grad_()
    y_lab = torch.tensor([2, 0, 2, 1])
    out = F.relu(cbn(x, y_lab))
    dy = torch.randn_like(out)
    out.backward(dy)
    d.update({"cbn.x": x, "cbn.labels": y_lab.float(), "cbn.gain": cbn.gain.weight, "cbn.bias": cbn.bias.weight,
              "cbn.y": out, "cbn.dy": dy, "cbn.dx": x.grad, "cbn.dgain": cbn.gain.weight.grad,
              "cbn.dbias": cbn.bias.weight.grad})
    # Projection head: logit = <embed(y), sum over positions of h>.
    h = torch.randn(4, 6, 4, 4, requires_grad=True)
    embed = torch.randn(3, 6, requires_grad=True)
    logit = (embed[y_lab] * h.sum(dim=(2, 3))).sum(dim=1)
    dl = torch.randn_like(logit)
    logit.backward(dl)
    d.update({"proj.h": h, "proj.embed": embed, "proj.labels": y_lab.float(), "proj.logit": logit, "proj.dlogit": dl,
              "proj.dh": h.grad, "proj.dembed": embed.grad})
    return {k: v.detach().contiguous().clone().float() for k, v in d.items()}

def eval_fixture(size, nc, classes, nz=8, width=8, batch=5, seed=21):
    """A generator's eval-mode output (running statistics, stored u and v) for gan-gen's runtime:
    the state_dict as a PyTorch user saves it (no prefix, no metadata), latents, classes, output."""
    torch.manual_seed(seed)
    G = Generator(nz, width, nc, size, classes)
    init_weights(G)
    with torch.no_grad():
        G.attention.gamma.fill_(0.7)  # 0 at init would hide the attention block
        for b in G.blocks:
            if classes:
                b.bn.gain.weight.copy_(1 + 0.3 * torch.randn_like(b.bn.gain.weight))
                b.bn.bias.weight.copy_(0.3 * torch.randn_like(b.bn.bias.weight))
            else:
                b.bn.weight.copy_(1 + 0.3 * torch.randn_like(b.bn.weight))
                b.bn.bias.copy_(0.3 * torch.randn_like(b.bn.bias))
        G.train()  # training-mode passes: running statistics and power iterations move
        for _ in range(4):
            G(torch.randn(16, nz), torch.randint(0, max(classes, 1), (16,)))
    G.eval()
    z = torch.randn(batch, nz)
    y = torch.arange(batch) % max(classes, 1)
    with torch.no_grad():
        out = G(z, y)
    d = {k: v.detach().contiguous().clone() for k, v in G.state_dict().items()}
    d["test.z"] = z
    d["test.labels"] = y.float()
    d["test.output"] = out.contiguous()
    return d


def main():
    import sys
    from safetensors.torch import save_file
    os.makedirs(OUT, exist_ok=True)
    runtime = os.path.join(os.path.dirname(OUT), "..", "GanRuntimeTests", "Fixtures")
    import numpy as np
    for name, args in [("sagan_eval_cond32", (32, 3, 3)), ("sagan_eval_uncond64", (64, 1, 0))]:
        path = os.path.join(runtime, name + ".safetensors")
        d = eval_fixture(*args)
        save_file(d, path)
        print(path, os.path.getsize(path), "bytes")
        # The latents and output as .npy for tools/test-board.sh (the classes, arange % classes,
        # are gan-gen's default assignment).
        np.save(os.path.join(runtime, name + "_z.npy"), d["test.z"].numpy())
        np.save(os.path.join(runtime, name + "_out.npy"), d["test.output"].numpy())
    if "--eval-only" in sys.argv:
        return
    # Small enough to commit (~390 KB and ~300 KB): 64 px with ngf = ndf = 4 (attention on 8
    # channels, C/8 = 1) and batch 2.
    for size, nc, width, batch in [(32, 3, 8, 4), (64, 1, 4, 2)]:
        d, meta = fixture(size, nc, ngf=width, ndf=width, batch=batch)
        path = os.path.join(OUT, f"sagan3-{size}.safetensors")
        save_file(d, path, metadata=meta)
        print(path, os.path.getsize(path), "bytes;", len(d), "tensors; stats per step", d["stats"].tolist())
    path = os.path.join(OUT, "sagan_layers.safetensors")
    save_file(layer_fixture(), path, metadata={"torch": torch.__version__, "generator": "tools/sagan_reference.py"})
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
