"""The training data and the two trainers of the quality benchmark: gan-train, and the pytorch/examples
DCGAN loop with the same data, settings and snapshot protocol."""
import gzip
import json
import os
import shutil
import struct
import subprocess
import time

import common


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
    os.makedirs(common.DATA, exist_ok=True)
    train, real = os.path.join(common.DATA, config + "_train.npy"), os.path.join(common.DATA, config + "_real.npy")
    if os.path.exists(train) and os.path.exists(real):
        return train, real
    if config == "fashion32":
        src = "/usr/share/datasets/fashion-mnist"
        if not os.path.isdir(src):
            subprocess.run([os.path.join(common.ROOT, "tools", "install-deps.sh"), "dataset-fashion-mnist"], check=True)
        for name, out in (("train-images-idx3-ubyte.gz", train), ("t10k-images-idx3-ubyte.gz", real)):
            np.save(out, resize_all(read_idx(os.path.join(src, name)), 32)[..., None])
    elif config == "emoji64":
        folder = os.path.join(common.DATA, "emoji")
        if not os.path.isdir(folder):
            subprocess.run(["/usr/bin/python3", os.path.join(common.ROOT, "tools", "datasets", "emoji.py"), "--out", folder], check=True)
        from PIL import Image
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if f.endswith(".png"))
        arr = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
        np.save(train, arr)
        shutil.copyfile(train, real)
    common.log(f"data: {train} {np.load(train, mmap_mode='r').shape}, real set {np.load(real, mmap_mode='r').shape}")
    return train, real


# ------------------------------------------------------------------------------------ training



def train_swift(config, seed, out, direct=False):
    c = common.CONFIGS[config]
    train, _ = prepare(config)
    if not os.path.exists(common.GAN_TRAIN):
        subprocess.run(["swift", "build", "-c", "release", "--product", "gan-train"], cwd=common.ROOT, check=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "gan-gen"], cwd=common.ROOT, check=True)
    cmd = [common.GAN_TRAIN, "--dataroot", train, "--image-size", str(c["size"]), "--iterations", str(c["iterations"]),
           "--manual-seed", str(seed), "--threads", str(common.THREADS), "--swd-every", "0",
           "--snapshot-every", str(c["snapshot_every"]), "--sample-every", str(c["iterations"]),
           "--checkpoint-every", str(c["iterations"]), "--outf", out] + (["--no-winograd"] if direct else [])
    common.log(" ".join(cmd))
    subprocess.run(cmd, check=True)
    return {int(r["iteration"]): float(r["train_seconds"]) for r in common.log_rows(out)
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
    with common.atomic_path(path) as tmp, open(tmp, "wb") as f:
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


def train_torch(config, seed, out, torch_python=None):
    """The pytorch/examples DCGAN loop; under `torch_python` (PyPI's torch, the speed peer) in a child
    process running this file, or in this process (Debian's torch in .venv-fid) when None.
    Returns {snapshot iteration: training seconds}."""
    if torch_python is None:
        return train_torch_here(config, seed, out)
    if not os.access(torch_python, os.X_OK):
        raise SystemExit(f"{torch_python}: no such Python; make PyPI's torch there with `python3 -m venv "
                         f"~/torch-venv && ~/torch-venv/bin/pip install torch==2.15.0 numpy`, or pass --torch-python")
    c = common.CONFIGS[config]
    prepare(config)
    cmd = [torch_python, os.path.abspath(__file__), "--config", config, "--seed", str(seed), "--out", out,
           "--threads", str(common.THREADS), "--iterations", str(c["iterations"]),
           "--snapshot-every", str(c["snapshot_every"])]
    common.log(" ".join(cmd))
    env = dict(os.environ, OMP_NUM_THREADS=str(common.THREADS), MKL_NUM_THREADS=str(common.THREADS))
    subprocess.run(cmd, check=True, env=env)
    done = json.load(open(os.path.join(out, "times.json")))
    return {int(k): v for k, v in done["snapshot_train_seconds"].items()}


def torch_version(out):
    """The torch version a run's child process reported (None: an in-process run)."""
    p = os.path.join(out, "times.json")
    return json.load(open(p))["torch"] if os.path.exists(p) else None


def train_torch_here(config, seed, out):
    import numpy as np
    import torch
    import torch.nn as nn
    c = common.CONFIGS[config]
    train, _ = prepare(config)
    torch.set_num_threads(common.THREADS)
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
    common.log(f"torch {torch.__version__}, {common.THREADS} threads, {c['iterations']} iterations, {len(data)} images")
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
            common.log(f"it {it}/{c['iterations']} Loss_D {(err_real + err_fake).item():.4f} Loss_G {err_g.item():.4f} "
                f"{it * B / spent:.1f} img/s")
        if it % c["snapshot_every"] == 0 or it == c["iterations"]:
            torch_snapshot(G, os.path.join(out, "snapshots", f"generator_iter_{it:07d}.safetensors"), arch, snap_rng)
            times[it] = spent
    logf.close()
    return times


if __name__ == "__main__":
    # The child process of train_torch(torch_python=...): one run, its snapshot times to times.json.
    import argparse
    ap = argparse.ArgumentParser(description="one PyTorch run of the quality benchmark (see quality.py)")
    ap.add_argument("--config", choices=sorted(common.CONFIGS), required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--iterations", type=int, required=True)
    ap.add_argument("--snapshot-every", type=int, required=True)
    a = ap.parse_args()
    import torch
    common.THREADS = a.threads
    common.CONFIGS[a.config].update(iterations=a.iterations, snapshot_every=a.snapshot_every)
    times = train_torch_here(a.config, a.seed, a.out)
    with open(os.path.join(a.out, "times.json"), "w") as f:
        json.dump({"torch": torch.__version__, "snapshot_train_seconds": {str(k): v for k, v in times.items()}}, f)
