#!/usr/bin/env python3
"""Image quality of swift-gan's trainer against PyTorch's DCGAN (pytorch/examples), same data and
settings: FID, KID and SWD at equal iterations and at equal training time, with sample grids, in
docs/quality.md.

    benchmarks/quality/quality.py run --config fashion32 --framework swift --seed 1
    benchmarks/quality/quality.py run --config fashion32 --framework torch --seed 1
    benchmarks/quality/quality.py run --config fashion32 --framework swift-direct --seed 1  # gan-train --no-winograd
    benchmarks/quality/quality.py time --config fashion32   # s/iteration of both, on an idle machine
    benchmarks/quality/quality.py report          # evaluates what is new, rewrites docs/quality.md

PyTorch runs under PyPI's torch (--torch-python, default ~/torch-venv/bin/python; runs before
2026-12-06 used Debian's python3-torch with one OpenBLAS thread: results.json records each run's torch).

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
import json
import os
import shutil
import subprocess
import time

import common
from evaluation import evaluate, fidtool, needed
from report_doc import grid, write_doc
from training import torch_version, train_swift, train_torch


def torch_python(args):
    """None: Debian's torch in this process (--torch-python debian); otherwise that Python."""
    return None if args.torch_python == "debian" else args.torch_python


def source_commit():
    """The checkout's commit (with "+changes" when the tree differs from it), or None outside git: the
    gan-train that trains is this tree's release build."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=common.ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "Sources", "Kernels"],
                               cwd=common.ROOT, capture_output=True, text=True).stdout.strip()
        return head + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def cmd_run(args):
    common.THREADS = args.threads
    out = common.run_dir(args.config, args.framework, args.seed)
    if os.path.exists(out):
        shutil.rmtree(out)
    # The replaced run's record and cached evaluations go with it (report would reuse them).
    res = common.load_results()
    name, cres = f"{args.framework}-s{args.seed}", res.get(args.config, {})
    cres.get("runs", {}).pop(name, None)
    for key in [k for k in cres.get("evals", {}) if k.startswith(name + "@")]:
        del cres["evals"][key]
    common.save_results(res)
    os.makedirs(out)
    started = time.time()
    commit = source_commit()
    if args.framework == "torch":
        times = train_torch(args.config, args.seed, out, torch_python=torch_python(args))
    else:
        times = train_swift(args.config, args.seed, out, direct=args.framework == "swift-direct")
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump({"config": args.config, "framework": args.framework, "seed": args.seed,
                   "snapshot_train_seconds": {str(k): v for k, v in sorted(times.items())},
                   "wall_seconds": time.time() - started, "threads": common.THREADS,
                   "torch": torch_version(out) if args.framework == "torch" else None,
                   "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   "machine": common.machine(), "note": f"commit {commit}" if commit else None}, f, indent=1)
    common.log(f"{out}: {max(times)} iterations, {times[max(times)]:.1f} s of training")


def cmd_time(args):
    """Seconds per training iteration of both frameworks, measured back to back on a quiet machine
    (short runs, interleaved, median over rounds): the timing of record for the equal-time rows,
    so that the long runs may share the machine."""
    import numpy as np
    c = common.CONFIGS[args.config]
    its, per = args.iterations, {"swift": [], "torch": []}
    for r in range(args.rounds):
        for fw in ("swift", "torch"):
            out = os.path.join(common.RUNS, "timing", f"{args.config}-{fw}")
            if os.path.exists(out):
                shutil.rmtree(out)
            os.makedirs(out)
            saved = dict(c)
            c.update(iterations=its, snapshot_every=10 ** 9)
            try:
                if fw == "swift":
                    train_swift(args.config, 1, out)
                else:
                    train_torch(args.config, 1, out, torch_python=torch_python(args))
            finally:
                c.clear()
                c.update(saved)
            seconds = common.train_seconds(out)
            warm = 20
            per[fw].append((seconds[its] - seconds[warm]) / (its - warm))
            common.log(f"timing round {r + 1}: {fw} {per[fw][-1]:.4f} s/iteration")
    res = common.load_results()
    res.setdefault(args.config, {})["timing"] = {
        fw: {"seconds_per_iteration": float(np.median(v)), "rounds": v} for fw, v in per.items()}
    res[args.config]["timing"]["iterations"] = its
    res[args.config]["timing"]["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    common.save_results(res)


def cmd_report(args):
    res = common.load_results()
    for config in common.CONFIGS:
        cdir = os.path.join(common.RUNS, config)
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
                                           key=lambda x: (x[1], x[2] == common.CONFIGS[config]["iterations"], x[0]))):
            key = f"{framework}-s{seed}@{it}"
            if key in res[config].setdefault("evals", {}):
                continue
            snap = common.snapshot_path(config, framework, seed, it)
            if not os.path.exists(snap):
                common.log(f"  {key}: snapshot missing ({snap}); run it again to evaluate")
                continue
            common.log(f"{config} {key}")
            res[config]["evals"][key] = evaluate(snap, config)
            common.save_results(res)
            if it == common.CONFIGS[config]["iterations"]:
                grid(snap, config, framework, seed)
    common.save_results(res)
    write_doc(res)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train one configuration with one framework and seed (replaces an earlier run)")
    r.add_argument("--config", choices=sorted(common.CONFIGS), required=True)
    r.add_argument("--framework", choices=sorted(common.LABELS), required=True,
                   help="swift (gan-train's default: Winograd passes where its table picks them), swift-direct "
                        "(gan-train --no-winograd) or torch (the pytorch/examples DCGAN)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--threads", type=int, default=common.THREADS,
                   help="training threads (default 2; results do not depend on it for swift-gan, and only in "
                        "rounding for PyTorch, so two runs may share the machine at 1 thread each)")
    rp = sub.add_parser("report", help="evaluate new snapshots (cached in results.json) and rewrite docs/quality.md")
    rp.add_argument("--no-eval", action="store_true", help="only rewrite docs/quality.md from results.json")
    t = sub.add_parser("time", help="seconds per iteration of both frameworks, back to back (run on an idle machine)")
    t.add_argument("--config", choices=sorted(common.CONFIGS), required=True)
    t.add_argument("--iterations", type=int, default=150)
    t.add_argument("--rounds", type=int, default=2)
    for p in (r, t):
        p.add_argument("--torch-python", default=common.TORCH_PYTHON,
                       help="the Python whose torch trains the PyTorch side: PyPI's torch 2.15 (oneDNN, MKL), the "
                            "speed peer (default %(default)s); 'debian' runs Debian's python3-torch (OpenBLAS, "
                            "about 1.4x slower: fine for quality, wrong for speed) in this process")
    args = ap.parse_args()
    # Debian's torch links OpenBLAS's pthread build: with its own threads under torch's 2 the
    # PyTorch step is 1.75x slower here (0.74 against 0.42 s an iteration), so one BLAS thread.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    fidtool.ensure_venv()
    {"run": cmd_run, "report": cmd_report, "time": cmd_time}[args.command](args)


if __name__ == "__main__":
    main()
