#!/usr/bin/env python3
"""gan-gen against ONNX Runtime and ncnn on the same DCGAN-64 generator (nz 100, ngf 64, nc 3),
2 threads, in the same minutes. Prints a markdown table: batch-1 latency (median and p90 of calls),
batch-64 throughput, and for gan-gen the peak RSS and process start to first PNG for one image.

    tools/setup-venv.sh && .venv-tools/bin/pip install onnx onnxruntime ncnn pnnx
    swift build -c release --product gan-gen
    .venv-tools/bin/python benchmarks/peers/gen_peers.py [--rounds 3]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_fixtures import Generator, weights_init  # noqa: E402

THREADS = 2


def median_ms(f, calls):
    for _ in range(5):
        f()
    t = []
    for _ in range(calls):
        a = time.perf_counter(); f(); t.append(time.perf_counter() - a)
    t.sort()
    return t[len(t) // 2] * 1e3, t[int(len(t) * 0.9)] * 1e3


def build_model(tmp):
    from safetensors.torch import save_file
    torch.manual_seed(0)
    G = Generator(100, 64, 3, 64)
    G.apply(weights_init)
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
    G.eval()
    st = os.path.join(tmp, "g64.safetensors")
    save_file({k: v.contiguous() for k, v in G.state_dict().items()}, st)
    onnx_path = os.path.join(tmp, "g64.onnx")
    torch.onnx.export(G, torch.randn(1, 100, 1, 1), onnx_path, input_names=["z"], output_names=["img"],
                      dynamic_axes={"z": {0: "n"}, "img": {0: "n"}}, opset_version=13)
    return G, st, onnx_path


def bench_ort(onnx_path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    z1 = np.random.randn(1, 100, 1, 1).astype(np.float32)
    z64 = np.random.randn(64, 100, 1, 1).astype(np.float32)
    lat = median_ms(lambda: s.run(None, {"z": z1}), 200)
    b64 = median_ms(lambda: s.run(None, {"z": z64}), 15)
    return lat, 64 / (b64[0] / 1e3), ort.__version__


def bench_ncnn(G, tmp):
    try:
        import ncnn
        import pnnx
    except ImportError as e:
        return None, f"not installed ({e})"
    try:
        ts = os.path.join(tmp, "g64.pt")
        torch.jit.trace(G, torch.randn(1, 100, 1, 1)).save(ts)
        pnnx.convert(ts, [torch.randn(1, 100, 1, 1)])
        param, binf = os.path.join(tmp, "g64.ncnn.param"), os.path.join(tmp, "g64.ncnn.bin")
        if not os.path.exists(param):
            return None, "pnnx produced no ncnn model"
        net = ncnn.Net()
        net.opt.num_threads = THREADS
        net.load_param(param)
        net.load_model(binf)
        z = np.random.randn(100, 1, 1).astype(np.float32)

        def one():
            ex = net.create_extractor()
            ex.input("in0", ncnn.Mat(z))
            ex.extract("out0")

        def batch64():
            for _ in range(64):
                one()
        lat = median_ms(one, 200)
        b64 = median_ms(batch64, 5)
        return (lat, 64 / (b64[0] / 1e3)), ncnn.__version__
    except Exception as e:  # the wheel or converter may not work on this machine
        return None, f"failed: {e}"


def gan_gen(exe, st, tmp):
    out1 = subprocess.run([exe, "--model", st, "--bench", "--batch", "1", "--count", "300", "--threads", str(THREADS)],
                          capture_output=True, text=True, check=True).stdout
    out64 = subprocess.run([exe, "--model", st, "--bench", "--batch", "64", "--count", "960", "--threads", str(THREADS)],
                           capture_output=True, text=True, check=True).stdout
    out64w = subprocess.run([exe, "--model", st, "--bench", "--batch", "64", "--count", "960", "--threads", str(THREADS),
                             "--winograd"], capture_output=True, text=True, check=True).stdout
    ips_w = float(re.search(r"throughput: ([0-9.]+) img/s at the median", out64w).group(1))
    p50 = float(re.search(r"p50 ([0-9.]+)", out1).group(1))
    p90 = float(re.search(r"p90 ([0-9.]+)", out1).group(1))
    ips = float(re.search(r"throughput: ([0-9.]+) img/s at the median", out64).group(1))
    # One image: peak RSS and wall time from process start to the PNG on disk.
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", exe, "--model", st, "--count", "1", "--threads", str(THREADS),
                        "--out", os.path.join(tmp, "one")], capture_output=True, text=True, check=True)
    first_png = (time.perf_counter() - t0) * 1e3
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    return (p50, p90), ips, rss, first_png, ips_w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gan-gen", default=os.path.join(ROOT, ".build", "release", "gan-gen"))
    args = ap.parse_args()
    torch.set_num_threads(THREADS)
    with tempfile.TemporaryDirectory() as tmp:
        G, st, onnx_path = build_model(tmp)
        rows = []
        for r in range(args.rounds):
            gg = gan_gen(args.gan_gen, st, tmp)
            ort_lat, ort_ips, ort_v = bench_ort(onnx_path)
            nc, nc_v = bench_ncnn(G, tmp)
            rows.append((gg, (ort_lat, ort_ips), nc))
            print(f"round {r + 1}: gan-gen b1 {gg[0][0]:.3f} ms, {gg[1]:.0f} img/s b64 ({gg[4]:.0f} --winograd) | ORT {ort_v} b1 {ort_lat[0]:.3f} ms, "
                  f"{ort_ips:.0f} img/s | ncnn {nc_v}: " + (f"b1 {nc[0][0]:.3f} ms, {nc[1]:.0f} img/s" if nc else "-"), flush=True)
        med = lambda xs: sorted(xs)[len(xs) // 2]
        print()
        print(f"DCGAN-64 generator (nz 100, ngf 64), {THREADS} threads, median of {args.rounds} rounds")
        print("| runtime | batch-1 latency p50 (ms) | p90 (ms) | batch-64 img/s |")
        print("|---|---|---|---|")
        print(f"| gan-gen | {med([x[0][0][0] for x in rows]):.3f} | {med([x[0][0][1] for x in rows]):.3f} | {med([x[0][1] for x in rows]):.0f} |")
        print(f"| gan-gen --winograd | | | {med([x[0][4] for x in rows]):.0f} |")
        print(f"| ONNX Runtime {ort_v} | {med([x[1][0][0] for x in rows]):.3f} | {med([x[1][0][1] for x in rows]):.3f} | {med([x[1][1] for x in rows]):.0f} |")
        if all(x[2] for x in rows):
            print(f"| ncnn {nc_v} | {med([x[2][0][0] for x in rows]):.3f} | {med([x[2][0][1] for x in rows]):.3f} | {med([x[2][1] for x in rows]):.0f} |")
        else:
            print(f"| ncnn | {nc_v} | | |")
        print(f"gan-gen one 64 px image: peak RSS {med([x[0][2] for x in rows]):.1f} MB, process start to first PNG {med([x[0][3] for x in rows]):.1f} ms")


if __name__ == "__main__":
    main()
