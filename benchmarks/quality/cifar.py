#!/usr/bin/env python3
"""The CIFAR-10 experiment (issue 17): swift-gan against the PyTorch reference of the same models and
settings, at equal iterations and equal training time, on CIFAR-10 32x32:
  dcgan         the pytorch/examples DCGAN, BCE (unconditional)
  sagan-hinge   the class-conditional SAGAN (tools/sagan_reference.py), hinge, TTUR 1e-4 / 4e-4, betas (0, 0.9)
  sagan-wgangp  the same with WGAN-GP, lambda 10 (tools/wgan_reference.py; exact double backward in gan-train)
nz 100, ngf = ndf = 64, batch 64, one D step per G step. Both frameworks read the same uint8 arrays
(the 50,000 training JPEGs decoded once) and write a generator every 1,000 iterations with the
BatchNorm statistics re-estimated over 50 x 64 latents (conditional: uniformly drawn classes); gan-gen
samples every snapshot on the same latents, so the two differ only in training. The PyTorch side runs
under PyPI's torch (oneDNN, MKL; --torch-python, default ~/torch-venv/bin/python), as the speed peer.

Scores: FID and KID of 5,000 generated images (conditional: 500 a class, class i mod 10) against the
10,000 test images, whose Inception features are computed once and cached (papers often use 50,000
samples and the training set: these figures read higher), and for the conditional models per-class
FID (500 generated against the class's 1,000 test images). Equal time: each framework's last
snapshot within the faster framework's total training time, from `time` (short runs back to back
on an idle machine).

    benchmarks/quality/cifar.py prepare [--tarball ../shared/data/cifar10-jpeg.tar.gz]
    benchmarks/quality/cifar.py run --model sagan-hinge --framework swift|torch --seed 1 [--threads 1] [--resume]
    benchmarks/quality/cifar.py time --model sagan-hinge        # s/iteration of both, idle machine
    benchmarks/quality/cifar.py report                          # evaluates, then rewrites docs/quality.md

Data, runs and caches go to benchmarks/quality/data and runs (not in git); scores to results.json.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

import common

MODELS = {
    "dcgan": {"title": "DCGAN (BCE), unconditional", "flags": []},
    "sagan-hinge": {"title": "conditional SAGAN, hinge loss",
                    "flags": ["--arch", "sagan", "--conditional", "--loss", "hinge", "--lr-g", "1e-4", "--lr-d", "4e-4",
                              "--beta1", "0", "--beta2", "0.9"]},
    "sagan-wgangp": {"title": "conditional SAGAN, WGAN-GP (lambda 10)",
                     "flags": ["--arch", "sagan", "--conditional", "--loss", "wgan-gp", "--gp-lambda", "10", "--lr-g",
                               "1e-4", "--lr-d", "4e-4", "--beta1", "0", "--beta2", "0.9"]},
}
ITERATIONS, SNAPSHOT_EVERY, EVAL_IMAGES, CLASSES = 5000, 1000, 5000, 10
DATA = os.path.join(common.DATA, "cifar10")
TARBALL = os.path.join(common.ROOT, "..", "shared", "data", "cifar10-jpeg.tar.gz")
KEY = "cifar10"


def prepare(tarball=TARBALL):
    """train.npy / test.npy (uint8 N, 32, 32, 3), their labels and classes.json, once."""
    import numpy as np
    from PIL import Image
    done = os.path.join(DATA, "test_labels.npy")
    if os.path.exists(done):
        return DATA
    if not os.path.exists(tarball):
        raise SystemExit(f"{tarball}: no such file (the CIFAR-10 JPEGs: cifar10/{{train,test}}/<class>/NNNN.jpg)")
    # The JPEGs go to a scratch folder outside the repository and are removed once decoded.
    with tempfile.TemporaryDirectory(prefix="cifar10-jpeg-") as scratch:
        with tarfile.open(tarball) as t:
            # Python 3.12's safe filter where this Python has it (Debian 12's 3.11.2 does not).
            t.extractall(scratch, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        root = os.path.join(scratch, "cifar10")
        names = sorted(os.listdir(os.path.join(root, "train")))
        os.makedirs(DATA, exist_ok=True)
        for split in ("train", "test"):
            images, labels = [], []
            for k, name in enumerate(names):
                folder = os.path.join(root, split, name)
                for f in sorted(os.listdir(folder)):
                    images.append(np.asarray(Image.open(os.path.join(folder, f)).convert("RGB")))
                    labels.append(k)
            np.save(os.path.join(DATA, f"{split}.npy"), np.stack(images))
            np.save(os.path.join(DATA, f"{split}_labels.npy"), np.array(labels, dtype=np.uint8))
            common.log(f"{split}: {len(images)} images, {len(names)} classes")
    json.dump(names, open(os.path.join(DATA, "classes.json"), "w"))
    return DATA


def run_dir(model, framework, seed):
    return os.path.join(common.RUNS, KEY, f"{model}-{framework}-s{seed}")


def snapshot_path(model, framework, seed, it):
    return os.path.join(run_dir(model, framework, seed), "snapshots", f"generator_iter_{it:07d}.safetensors")


def train(model, framework, seed, out, iterations=ITERATIONS, snapshot_every=SNAPSHOT_EVERY, threads=2,
          torch_python=None, resume=False):
    data = prepare()
    if framework == "swift":
        for product in ("gan-train", "gan-gen"):
            subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=common.ROOT, check=True)
        cmd = [common.GAN_TRAIN, "--dataroot", os.path.join(data, "train.npy"), "--image-size", "32",
               "--iterations", str(iterations), "--manual-seed", str(seed), "--threads", str(threads), "--swd-every", "0",
               "--snapshot-every", str(snapshot_every), "--sample-every", str(iterations),
               "--checkpoint-every", str(min(500, iterations)), "--cache-dir", os.path.join(common.DATA, "cache"), "--outf", out]
        cmd += MODELS[model]["flags"]
        if model != "dcgan":
            cmd += ["--labels", os.path.join(data, "train_labels.npy")]
    else:
        cmd = [torch_python, os.path.join(common.HERE, "cifar_torch.py"), "--model", model, "--data", data, "--out", out,
               "--iterations", str(iterations), "--snapshot-every", str(snapshot_every), "--seed", str(seed),
               "--threads", str(threads)]
    if resume:
        cmd.append("--resume")
    common.log(" ".join(cmd))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    subprocess.run(cmd, check=True, env=env)
    return common.train_seconds(out)


def cmd_run(a):
    out = run_dir(a.model, a.framework, a.seed)
    checkpoint = os.path.join(out, "checkpoint.safetensors" if a.framework == "swift" else "checkpoint.pt")
    resume = a.resume and os.path.exists(checkpoint)
    if a.resume and not resume:
        common.log(f"{checkpoint}: no checkpoint yet, starting from iteration 0")
    if not resume:
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
    started = time.time()
    seconds = train(a.model, a.framework, a.seed, out, threads=a.threads, torch_python=a.torch_python, resume=resume)
    snaps = {str(i): s for i, s in seconds.items() if i % SNAPSHOT_EVERY == 0 or i == ITERATIONS}
    json.dump({"model": a.model, "framework": a.framework, "seed": a.seed, "threads": a.threads,
               "snapshot_train_seconds": snaps, "wall_seconds": time.time() - started, "resumed": resume,
               "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": common.machine()}, open(os.path.join(out, "run.json"), "w"), indent=1)


def cmd_time(a):
    """Seconds per iteration of both frameworks, interleaved short runs (median over rounds)."""
    import numpy as np
    per = {"swift": [], "torch": []}
    for r in range(a.rounds):
        for fw in ("swift", "torch"):
            out = os.path.join(common.RUNS, KEY, "timing", f"{a.model}-{fw}")
            if os.path.exists(out):
                shutil.rmtree(out)
            os.makedirs(out)
            s = train(a.model, fw, 1, out, iterations=a.iterations, snapshot_every=10 ** 9, threads=2,
                      torch_python=a.torch_python)
            warm = 10
            per[fw].append((s[a.iterations] - s[warm]) / (a.iterations - warm))
            common.log(f"timing round {r + 1}: {fw} {per[fw][-1]:.4f} s/iteration")
    res = common.load_results()
    t = res.setdefault(KEY, {}).setdefault("timing", {})
    t[a.model] = {fw: {"seconds_per_iteration": float(np.median(v)), "rounds": v} for fw, v in per.items()}
    t[a.model]["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t[a.model]["machine"] = common.machine()
    common.save_results(res)


# ------------------------------------------------------------------------------------ evaluation

def sample(snapshot, conditional, seed=common.EVAL_SEED):
    """gan-gen's 5,000 images as uint8 (N, 32, 32, 3); conditional models: image i of class i mod 10."""
    import numpy as np
    tmp = os.path.join(common.RUNS, "tmp")
    os.makedirs(tmp, exist_ok=True)
    raw = os.path.join(tmp, "raw.npy")
    subprocess.run([common.GAN_GEN, "--model", snapshot, "--count", str(EVAL_IMAGES), "--seed", str(seed),
                    "--threads", "2", "--grid", "100", "--out", os.path.join(tmp, "grid.png"), "--save-raw", raw],
                   check=True, stdout=subprocess.DEVNULL)
    x = np.load(raw)
    return np.clip(np.rint((x.astype(np.float64) + 1) * 127.5), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def evaluate(snapshot, conditional, real_features, real_labels):
    import numpy as np
    from evaluation import fidtool, inception
    t0 = time.time()
    fake = sample(snapshot, conditional)
    f = inception(fake)
    k, kstd = fidtool.kid(real_features, f)
    r = {"fid": fidtool.fid(real_features, f), "kid": k, "kid_std": kstd, "n_fake": len(fake),
         "n_real": len(real_features)}
    if conditional:
        fake_labels = np.arange(len(fake)) % CLASSES
        r["fid_per_class"] = [fidtool.fid(real_features[real_labels == c], f[fake_labels == c]) for c in range(CLASSES)]
    common.log(f"  {os.path.relpath(snapshot, common.ROOT)}: FID {r['fid']:.2f} KID {k:.4f} ({time.time() - t0:.0f} s)")
    return r


CURVE_WINDOW = 1000
CURVE_COLUMNS = ("Loss_D", "Loss_G", "D_x", "D_G_z1")


def curve(out):
    """Means of log.csv's losses and critic outputs over windows of CURVE_WINDOW iterations: both
    trainers write these columns (the critic's raw output for hinge and WGAN-GP, sigmoid for DCGAN)."""
    windows = {}
    for row in common.log_rows(out):
        w = (int(row["iteration"]) - 1) // CURVE_WINDOW
        windows.setdefault(w, []).append([float(row[c]) for c in CURVE_COLUMNS])
    return [{"first": w * CURVE_WINDOW + 1, "last": w * CURVE_WINDOW + len(v),
             **{c: sum(x[i] for x in v) / len(v) for i, c in enumerate(CURVE_COLUMNS)}}
            for w, v in sorted(windows.items())]


def equal_time(model, runs, timing):
    """Per framework, the last snapshot within the faster framework's 5,000 iterations' time."""
    t = timing.get(model) if timing else None
    if not t or not all(fw in runs for fw in ("swift", "torch")):
        return {}
    spi = {fw: t[fw]["seconds_per_iteration"] for fw in ("swift", "torch")}
    total = min(spi.values()) * ITERATIONS
    return {fw: int(total / spi[fw] + 1e-6) // SNAPSHOT_EVERY * SNAPSHOT_EVERY for fw in ("swift", "torch")}


def grid(snapshot, name, conditional):
    os.makedirs(common.GRIDS, exist_ok=True)
    out = os.path.join(common.GRIDS, f"cifar10-{name}.png")
    args = ["--class", "all", "--grid", "8"] if conditional else ["--count", "64", "--grid", "8"]
    subprocess.run([common.GAN_GEN, "--model", snapshot, "--seed", "0", "--out", out] + args, check=True,
                   stdout=subprocess.DEVNULL)


def cmd_report(a):
    import numpy as np
    from evaluation import inception
    res = common.load_results()
    r = res.setdefault(KEY, {})
    cdir = os.path.join(common.RUNS, KEY)
    for name in sorted(os.listdir(cdir)) if os.path.isdir(cdir) else []:
        p = os.path.join(cdir, name, "run.json")
        if os.path.exists(p):
            old = r.setdefault("runs", {}).get(name, {})
            run = r["runs"][name] = json.load(open(p))
            # The logs stay in runs/ (not committed): a report without them keeps the stored curve.
            if os.path.exists(os.path.join(cdir, name, "log.csv")):
                run["curve"] = curve(os.path.join(cdir, name))
            elif "curve" in old:
                run["curve"] = old["curve"]
    data = prepare()
    real_labels = np.load(os.path.join(data, "test_labels.npy"))
    cache = os.path.join(common.DATA, "cifar10_test_inception.npy")
    real_features = None
    # Every run's final snapshot first (equal iterations), then the equal-time ones: each evaluation
    # takes minutes and is saved as it ends, so an interrupted report keeps the ones that matter most.
    todo = []
    for name, run in sorted(r.get("runs", {}).items()):
        model, fw, seed = run["model"], run["framework"], run["seed"]
        its = {ITERATIONS}
        eq = equal_time(model, {x["framework"]: x for x in r["runs"].values() if x["model"] == model}, r.get("timing"))
        if fw in eq:
            its.add(eq[fw])
        todo += [(it != ITERATIONS, name, model, fw, seed, it) for it in its]
    for _, name, model, fw, seed, it in sorted(todo):
        key = f"{name}@{it}"
        if key in r.setdefault("evals", {}) or a.no_eval:
            continue
        snap = snapshot_path(model, fw, seed, it)
        if not os.path.exists(snap):
            common.log(f"  {key}: snapshot missing ({snap})")
            continue
        if real_features is None:
            if os.path.exists(cache):
                real_features = np.load(cache)
            else:
                common.log("  Inception features of the 10,000 test images (once)")
                real_features = inception(np.load(os.path.join(data, "test.npy")))
                np.save(cache, real_features)
        r["evals"][key] = evaluate(snap, model != "dcgan", real_features, real_labels)
        common.save_results(res)
        if it == ITERATIONS:
            grid(snap, name, model != "dcgan")
    common.save_results(res)
    from report_doc import write_doc
    write_doc(res)


def section(res):
    """docs/quality.md's CIFAR-10 section (report_doc.write_doc appends it)."""
    import numpy as np
    r = res.get(KEY)
    if not r or not r.get("evals"):
        return []
    runs, ev, timing = r["runs"], r["evals"], r.get("timing", {})
    names = json.load(open(os.path.join(DATA, "classes.json"))) if os.path.exists(os.path.join(DATA, "classes.json")) \
        else [str(c) for c in range(CLASSES)]
    lines = ["## CIFAR-10 32x32: DCGAN, conditional SAGAN with hinge loss, conditional SAGAN with WGAN-GP", "",
             "Written by `benchmarks/quality/cifar.py report` (see its header for the protocol). Both frameworks train the",
             "same models with the same settings on the same 50,000 decoded training images, one D step per G step, batch",
             "64, 5,000 iterations; PyTorch is PyPI's torch (oneDNN, MKL). FID and KID: 5,000 generated images (conditional:",
             "500 a class) against the 10,000 test images, their Inception features computed once and cached. Papers",
             "usually report FID of 50,000 samples against the training set: these figures read higher; compare the rows",
             "with each other. Per-class FID: 500 generated against the class's 1,000 test images (higher still).",
             "\"training s\" is the run's own clock (log.csv train_seconds): the two frameworks of a model trained side",
             "by side at 1 thread each, sharing the machine, so they compare with each other; the speed of record and",
             "equal time come from `cifar.py time` (2 threads, idle machine).", ""]
    dates = sorted({x["date"] for x in runs.values()})
    lines += [f"Runs: {dates[0]} to {dates[-1]} on {next(iter(runs.values()))['machine']}.", ""]
    for model, m in MODELS.items():
        mruns = {n: x for n, x in runs.items() if x["model"] == model}
        if not mruns:
            continue
        lines += [f"### {m['title']}", "", "| framework | seed | threads | iteration | training s (this run) | FID | KID |",
                  "|---|---|---|---|---|---|---|"]
        final = {}
        for key in sorted(k for k in ev if k.split("@")[0] in mruns):
            name, it = key.split("@")
            run, e = mruns[name], ev[key]
            t = run["snapshot_train_seconds"].get(it)
            lines.append(f"| {common.LABELS[run['framework']]} | {run['seed']} | {run['threads']} | {it} | "
                         f"{t:.0f} | {e['fid']:.2f} | {e['kid']:.4f} |")
            if int(it) == ITERATIONS:
                final.setdefault(run["framework"], []).append(e)
        lines.append("")
        t = timing.get(model)
        if t:
            spi = {fw: t[fw]["seconds_per_iteration"] for fw in ("swift", "torch")}
            eq = equal_time(model, {x["framework"]: x for x in mruns.values()}, timing)
            lines.append(f"Speed of record ({t['date']}, idle machine, {len(t['swift']['rounds'])} interleaved rounds, "
                         f"2 threads each): swift-gan {spi['swift']:.3f} s/iteration, PyTorch {spi['torch']:.3f} "
                         f"(swift-gan takes {spi['swift'] / spi['torch']:.2f}x PyTorch's time)." + (
                             f" Equal time: in the faster one's {ITERATIONS} iterations " + " and ".join(
                                 f"{common.LABELS[fw]} reaches iteration {i}" for fw, i in sorted(eq.items())) + "."
                             if eq else ""))
            lines.append("")
        if "swift" in final and "torch" in final:
            s = np.mean([e["fid"] for e in final["swift"]])
            tt = np.array([e["fid"] for e in final["torch"]])
            spread = max(0.1 * tt.mean(), 2 * tt.std(ddof=1)) if len(tt) > 1 else 0.1 * tt.mean()
            verdict = "within" if abs(s - tt.mean()) <= spread else \
                ("outside, lower (better)" if s < tt.mean() else "outside, higher (worse)")
            lines.append(f"Equal iterations: swift-gan FID {s:.2f} against PyTorch's {tt.mean():.2f}; the band is "
                         f"+-{spread:.2f} (the larger of 10% and 2 sigma over {len(tt)} seed(s)): **{verdict}** "
                         f"({s - tt.mean():+.2f}, {100 * (s - tt.mean()) / tt.mean():+.1f}%).")
            lines.append("")
            if "fid_per_class" in final["swift"][0]:
                lines += ["| class | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
                for fw in ("swift", "torch"):
                    per = np.mean([e["fid_per_class"] for e in final[fw]], axis=0)
                    lines.append(f"| {common.LABELS[fw]} | " + " | ".join(f"{v:.1f}" for v in per) + " |")
                lines.append("")
        curves = [(n, x) for n, x in sorted(mruns.items()) if x.get("curve")]
        if curves:
            out = "sigmoid of D's logit" if model == "dcgan" else "the critic's raw output"
            lines += [f"Training curves (each run's log.csv, means over {CURVE_WINDOW:,}-iteration windows; D(x) and "
                      f"D(G(z)) in the D step, {out}):", "",
                      "| framework | seed | iterations | Loss_D | Loss_G | D(x) | D(G(z)) |", "|---|---|---|---|---|---|---|"]
            for n, x in curves:
                for w in x["curve"]:
                    lines.append(f"| {common.LABELS[x['framework']]} | {x['seed']} | {w['first']}-{w['last']} | " +
                                 " | ".join(f"{w[c]:.3f}" for c in CURVE_COLUMNS) + " |")
            lines.append("")
        lines.append("| " + " | ".join(f"{common.LABELS[x['framework']]} seed {x['seed']}" for _, x in sorted(mruns.items()))
                     + " |")
        lines.append("|" + "---|" * len(mruns))
        lines.append("| " + " | ".join(f"![{n}](quality/cifar10-{n}.png)" for n in sorted(mruns)) + " |")
        lines.append("")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="decode the CIFAR-10 JPEGs into uint8 arrays (once)")
    p.add_argument("--tarball", default=TARBALL)
    r = sub.add_parser("run", help="train one model with one framework and seed")
    r.add_argument("--model", choices=sorted(MODELS), required=True)
    r.add_argument("--framework", choices=["swift", "torch"], required=True)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its checkpoint (every 500 iterations), else start afresh")
    t = sub.add_parser("time", help="seconds per iteration of both frameworks, interleaved (idle machine)")
    t.add_argument("--model", choices=sorted(MODELS), required=True)
    t.add_argument("--iterations", type=int, default=60)
    t.add_argument("--rounds", type=int, default=3)
    rp = sub.add_parser("report", help="evaluate new snapshots, then rewrite docs/quality.md")
    rp.add_argument("--no-eval", action="store_true")
    for s in (r, t):
        s.add_argument("--torch-python", default=os.path.expanduser("~/torch-venv/bin/python"),
                       help="the Python of a venv with PyPI's torch (the speed peer)")
    a = ap.parse_args()
    # numpy, PIL and the Inception features: tools/fid.py's venv (it re-runs this script there).
    from evaluation import fidtool
    fidtool.ensure_venv()
    if a.command == "prepare":
        prepare(a.tarball)
        return
    {"run": cmd_run, "time": cmd_time, "report": cmd_report}[a.command](a)


if __name__ == "__main__":
    main()
