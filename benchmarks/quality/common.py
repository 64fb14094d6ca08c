"""Paths, configurations and shared helpers of the quality benchmark (see quality.py)."""
import contextlib
import json
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))

RUNS = os.path.join(HERE, "runs")
DATA = os.path.join(HERE, "data")
RESULTS = os.path.join(HERE, "results.json")
DOC = os.path.join(ROOT, "docs", "quality.md")
GRIDS = os.path.join(ROOT, "docs", "quality")
GAN_TRAIN = os.path.join(ROOT, ".build", "release", "gan-train")
GAN_GEN = os.path.join(ROOT, ".build", "release", "gan-gen")
# PyPI's torch (oneDNN, MKL): the speed peer, in a venv outside the repository (issue 19).
TORCH_PYTHON = os.path.expanduser("~/torch-venv/bin/python")

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

# "swift" is gan-train's default (DCGAN: Winograd passes where the training table picks them);
# "swift-direct" is gan-train --no-winograd, the direct kernels everywhere: a check that both learn
# alike, reported beside the two frameworks but kept out of the equal-time comparison (which is
# swift against torch).
LABELS = {"swift": "swift-gan", "swift-direct": "swift-gan --no-winograd", "torch": "PyTorch"}
COMPARED = ("swift", "torch")


def log(msg):
    print(msg, flush=True)


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


def run_dir(config, framework, seed):
    return os.path.join(RUNS, config, f"{framework}-s{seed}")


def snapshot_path(config, framework, seed, it):
    return os.path.join(run_dir(config, framework, seed), "snapshots", f"generator_iter_{it:07d}.safetensors")


def log_rows(out):
    """A run folder's log.csv as dicts (both trainers write one: iteration, losses, train_seconds)."""
    import csv
    with open(os.path.join(out, "log.csv")) as f:
        return list(csv.DictReader(f))


def train_seconds(out):
    """Training seconds at each logged iteration of the run in `out`."""
    return {int(r["iteration"]): float(r["train_seconds"]) for r in log_rows(out)}


def load_results():
    return json.load(open(RESULTS)) if os.path.exists(RESULTS) else {}


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` to write; renamed onto `path` only once the block ends
    without an error, so a kill mid-write leaves the previous file whole."""
    tmp = path + ".tmp"
    yield tmp
    os.replace(tmp, path)


def save_results(res):
    with atomic_path(RESULTS) as tmp, open(tmp, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
