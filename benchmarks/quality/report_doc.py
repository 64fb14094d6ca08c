"""docs/quality.md and its sample grids, from results.json."""
import os
import subprocess

import common

from evaluation import equal_time_iterations, timing_runs  # noqa: E402

def grid(snapshot, config, framework, seed):
    os.makedirs(common.GRIDS, exist_ok=True)
    out = os.path.join(common.GRIDS, f"{config}-{framework}-s{seed}.png")
    subprocess.run([common.GAN_GEN, "--model", snapshot, "--count", "64", "--seed", "0", "--grid", "8", "--out", out],
                   check=True, stdout=subprocess.DEVNULL)


def write_doc(res):
    import numpy as np
    lines = ["# Image quality: swift-gan's trainer against PyTorch's DCGAN", "",
             "Written by `benchmarks/quality/quality.py report` from `benchmarks/quality/results.json`; see the",
             "script's header for the protocol. Both trainers: the pytorch/examples DCGAN (nz 100, ngf = ndf = 64),",
             "DCGAN init, Adam(2e-4, 0.5, 0.999), BCE on logits, batch 64, the same uint8 training array. PyTorch rows",
             "name their torch: PyPI's (oneDNN, MKL), the speed peer; rows without a version ran Debian's 1.13 (OpenBLAS,",
             "one BLAS thread; about 1.4x slower). Threads per run are in the table (results do not",
             "depend on them for swift-gan; two runs at 1 thread each shared the machine).",
             "Every generator is sampled by gan-gen (BatchNorm statistics re-estimated over 50 x 64 latents in both",
             f"trainers) on the same {common.EVAL_IMAGES} latents. FID and KID use tools/fid.py's Inception features; SWD",
             f"(x1e3, mean over pyramid levels) uses {common.SWD_IMAGES} images a side, 128 patches an image, 4 x 128 directions.",
             "Lower is better for all three. FID from 2,000 images reads higher than the usual 50,000-image figures",
             "(the estimator is biased upwards at small N): compare the rows with each other, not with papers.",
             "Training time counts training steps only (no sampling, no snapshots).", ""]
    for config, c in common.CONFIGS.items():
        r = res.get(config)
        if not r or not r.get("evals"):
            continue
        runs, ev = r["runs"], r["evals"]
        lines += [f"## {c['title']}", ""]
        if c.get("eval_images", common.EVAL_IMAGES) != common.EVAL_IMAGES:
            n = c["eval_images"]
            lines += [f"Evaluated on {n:,} generated against {n:,} real images a side (FID reads higher still at this N).", ""]
        dates = sorted({v["date"] for v in runs.values()})
        lines += [f"Runs: {', '.join(dates)} on {next(iter(runs.values()))['machine']}.", ""]
        notes = [f"{common.LABELS[runs[n]['framework']]} seed {runs[n]['seed']}: {runs[n]['note']}" for n in sorted(runs)
                 if runs[n].get("note")]
        if notes:
            lines += ["Which build trained what: " + "; ".join(notes) + ".", ""]
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
            torch = runs[name].get("torch")
            label = common.LABELS[fw] + (f" {torch.split('+')[0]}" if torch else "")
            lines.append(f"| {label} | {seed} | {runs[name].get('threads', 2)} | {it} | {t:.0f} | "
                         f"{rec} | {e['fid']:.2f} | {e['kid']:.4f} | {e['swd_mean']:.1f} |")
            if int(it) == c["iterations"]:
                final.setdefault(fw, []).append(e["fid"])
        lines.append("")
        timing = r.get("timing")
        eq = equal_time_iterations(config, runs, timing)
        best = {fw: r for fw, r in timing_runs(config, runs).items() if fw in common.COMPARED}
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
        if len(eq) == len(common.COMPARED) and all(f"{n}@{eq[runs[n]['framework']]}" in ev for n in runs
                                                    if runs[n]["framework"] in eq):
            lines.append(f"Rows at iteration {c['iterations']} are equal iterations. Equal time: the faster framework's "
                         f"{c['iterations']} iterations take {t:.0f} s of training; in that time "
                         + " and ".join(f"the {common.LABELS[fw]} run reached iteration {i}" for fw, i in sorted(eq.items()))
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
        if "swift-direct" in final and "swift" in final:
            w = np.mean(final["swift-direct"])
            wt = [runs[n]["snapshot_train_seconds"][str(c["iterations"])] for n in sorted(runs) if runs[n]["framework"] == "swift-direct"]
            same = [ev[f"swift-s{runs[n]['seed']}@{c['iterations']}"]["fid"] for n in sorted(runs)
                    if runs[n]["framework"] == "swift-direct" and f"swift-s{runs[n]['seed']}@{c['iterations']}" in ev]
            line = (f"gan-train --no-winograd (the direct kernels everywhere): mean FID {w:.2f} at "
                    f"{c['iterations']} iterations against the default's (Winograd) {np.mean(final['swift']):.2f} over all seeds"
                    + (f" ({np.mean(same):.2f} over the same seeds)" if same else ""))
            if "torch" in final:
                t = np.array(final["torch"])
                spread = max(0.1 * t.mean(), 2 * t.std(ddof=1)) if len(t) > 1 else 0.1 * t.mean()
                line += f" and PyTorch's {t.mean():.2f} (band +-{spread:.2f}: **{'within' if abs(w - t.mean()) <= spread else 'outside'}**)"
            line += (f"; training time per run {', '.join(f'{x:.0f}' for x in wt)} s (not interleaved with the default, "
                     "so not a speed comparison: benchmarks/peers/train_peers.py is).")
            lines += [line, ""]
        lines.append("| " + " | ".join(f"{common.LABELS[n.rsplit('-s', 1)[0]]} seed {n.rsplit('-s', 1)[1]}"
                                        for n in sorted(runs)) + " |")
        lines.append("|" + "---|" * len(runs))
        lines.append("| " + " | ".join(f"![{n}](quality/{config}-{n}.png)" for n in sorted(runs)) + " |")
        lines.append("")
    from cifar import section as cifar_section  # the CIFAR-10 experiment (benchmarks/quality/cifar.py)
    lines += cifar_section(res)
    os.makedirs(os.path.dirname(common.DOC), exist_ok=True)
    with open(common.DOC, "w") as f:
        f.write("\n".join(lines))
    common.log(f"wrote {common.DOC}")
