#!/usr/bin/env python3
"""Sliced Wasserstein Distance as ProGAN describes it (Karras et al. 2018), written from the
paper's description with numpy only: the cross-check for GanTraining's SlicedWasserstein.

Per level of a Laplacian pyramid (5x5 binomial [1,4,6,4,1]/16 per axis, reflect-101 borders,
down to 16 px), 7x7 patches across 3 channels at given centres, each set normalized by its own
per-channel mean and std (ddof 0), projected on unit directions, sorted, mean |difference| x 1e3.

    python3 tools/swd.py            # writes Tests/GanTrainingTests/Fixtures/swd_*.npy
"""
import os
import numpy as np

K = np.array([1, 4, 6, 4, 1], dtype=np.float64) / 16


def mirror(i, n):
    while i < 0 or i >= n:
        i = -i if i < 0 else 2 * (n - 1) - i
    return i


def blur(x, gain):
    """5x5 binomial over the last two axes (any leading axes: images, channels)."""
    s = x.shape[-1]
    k = K * gain
    idx = np.array([[mirror(j + t - 2, s) for t in range(5)] for j in range(s)])
    rows = (x[..., :, idx] * k).sum(axis=-1)                  # along x
    return (rows[..., idx, :] * k[:, None]).sum(axis=-2)     # along y


def levels(size):
    n = 0
    while size >= 16:
        n += 1
        size //= 2
    return n


def pyramid(plane):
    """Laplacian pyramid over the last two axes of `plane` (leading axes are batched)."""
    L = levels(plane.shape[-1])
    g = [plane.astype(np.float64)]
    for _ in range(1, L):
        g.append(blur(g[-1], 1)[..., ::2, ::2])
    out = []
    for i in range(L):
        if i == L - 1:
            out.append(g[i])
            break
        z = np.zeros_like(g[i])
        z[..., ::2, ::2] = g[i + 1]
        out.append(g[i] - blur(z, 2))
    return out


def descriptors(images, centres):
    """images uint8 (N, S, S, C); centres per level int (N * P, 2) as (y, x)."""
    n, s = images.shape[0], images.shape[1]
    if images.shape[3] == 1:
        images = np.repeat(images, 3, axis=3)
    L = levels(s)
    per = centres[0].shape[0] // n
    out = [np.zeros((n * per, 147)) for _ in range(L)]
    for i in range(n):
        pyr = [pyramid(images[i, :, :, c]) for c in range(3)]
        for l in range(L):
            for q in range(per):
                y, x = centres[l][i * per + q]
                patch = np.stack([pyr[c][l][y - 3:y + 4, x - 3:x + 4] for c in range(3)])
                out[l][i * per + q] = patch.reshape(-1)
    return out


def normalize(d):
    d = d.reshape(-1, 3, 49)
    mean = d.mean(axis=(0, 2), keepdims=True)
    std = d.std(axis=(0, 2), keepdims=True)
    return ((d - mean) / std).reshape(-1, 147)


def distance(a, b, directions):
    pa = np.sort(a @ directions.T, axis=0)
    pb = np.sort(b @ directions.T, axis=0)
    return float(np.abs(pa - pb).mean() * 1e3)


def make_fixture(out_dir):
    rng = np.random.default_rng(7)
    n, s, per, ndir = 6, 32, 16, 64
    yy, xx = np.mgrid[0:s, 0:s]

    def shapes(count):
        imgs = np.zeros((count, s, s, 3), dtype=np.uint8)
        for i in range(count):
            img = np.full((s, s, 3), rng.integers(0, 80, 3), dtype=np.float64)
            for _ in range(3):
                cy, cx, r = rng.integers(4, s - 4), rng.integers(4, s - 4), rng.integers(3, 9)
                img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(100, 256, 3)
            imgs[i] = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
        return imgs
    a, b = shapes(n), shapes(n)
    L = levels(s)
    centres = [rng.integers(3, (s >> l) - 3, size=(n * per, 2)).astype(np.int32) for l in range(L)]
    dirs = rng.standard_normal((ndir, 147))
    dirs = (dirs / np.linalg.norm(dirs, axis=1, keepdims=True)).astype(np.float32)
    da, db = descriptors(a, centres), descriptors(b, centres)
    swd = np.array([distance(normalize(da[l]), normalize(db[l]), dirs.astype(np.float64)) for l in range(L)])
    np.save(os.path.join(out_dir, "swd_a.npy"), a)
    np.save(os.path.join(out_dir, "swd_b.npy"), b)
    for l in range(L):
        np.save(os.path.join(out_dir, f"swd_centres{l}.npy"), centres[l].astype(np.float32))
        np.save(os.path.join(out_dir, f"swd_pyramid{l}.npy"), np.stack([pyramid(a[0, :, :, c])[l] for c in range(3)]).astype(np.float32))
    np.save(os.path.join(out_dir, "swd_directions.npy"), dirs)
    np.save(os.path.join(out_dir, "swd_expected.npy"), swd.astype(np.float32))
    print("SWD x1e3 per level:", swd)


if __name__ == "__main__":
    make_fixture(os.path.join(os.path.dirname(__file__), "..", "Tests", "GanTrainingTests", "Fixtures"))
