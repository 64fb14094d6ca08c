#!/usr/bin/env python3
"""gan-gen int8 against LiteRT int8 (ai-edge-litert, converted with TensorFlow's TFLite converter,
full-integer post-training quantization) and ONNX Runtime int8 (quantize_static, QDQ, per-channel),
on the same DCGAN-64 generator weights, 2 threads, interleaved rounds in the same minutes.
Prints batch-1 latency (median of calls), batch-64 img/s, fidelity of each int8 model against
its own fp32 (PSNR over 64 latents), and gan-gen's peak RSS for one int8 image.

LiteRT and TensorFlow want numpy 2, the tools venv (system torch 1.13) numpy 1, hence two venvs:
    tools/setup-venv.sh                       # .venv-tools: torch, safetensors (builds the model)
    python3 -m venv .venv-litert && .venv-litert/bin/pip install tensorflow-cpu ai-edge-litert onnx onnxruntime safetensors
    swift build -c release --product gan-gen --product gan-quant
    .venv-litert/bin/python benchmarks/peers/int8_peers.py [--rounds 3]
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
THREADS = 2
NZ = 100


def median_ms(f, calls):
    for _ in range(5):
        f()
    t = []
    for _ in range(calls):
        a = time.perf_counter(); f(); t.append(time.perf_counter() - a)
    t.sort()
    return t[len(t) // 2] * 1e3


def build_model(tmp):
    """g64.safetensors and g64.onnx from PyTorch (the tools venv), as gen_peers.py makes them."""
    code = ("import sys; sys.path.insert(0, %r); sys.path.insert(0, %r); import gen_peers; gen_peers.build_model(%r)"
            % (os.path.join(ROOT, "tools"), os.path.join(ROOT, "benchmarks", "peers"), tmp))
    subprocess.run([os.path.join(ROOT, ".venv-tools", "bin", "python"), "-c", code], check=True)
    return os.path.join(tmp, "g64.safetensors"), os.path.join(tmp, "g64.onnx")


def keras_generator(st):
    """The same generator in Keras (NHWC): PyTorch ConvTranspose2d(4, 2, 1) is Conv2DTranspose(4, 2,
    'same'); kernels (cin, cout, kh, kw) -> (kh, kw, cout, cin)."""
    import tensorflow as tf
    from safetensors.numpy import load_file
    w = load_file(st)
    z = tf.keras.Input((1, 1, NZ))
    x = z
    convs = sorted({int(k.split(".")[1]) for k in w if k.endswith(".weight") and w[k].ndim == 4})
    for n, ci in enumerate(convs):
        k = w[f"main.{ci}.weight"]
        conv = tf.keras.layers.Conv2DTranspose(k.shape[1], 4, strides=1 if n == 0 else 2,
                                               padding="valid" if n == 0 else "same", use_bias=False)
        x = conv(x)
        conv.set_weights([k.transpose(2, 3, 1, 0)])
        if n < len(convs) - 1:
            bn = tf.keras.layers.BatchNormalization(epsilon=1e-5)
            x = bn(x)
            p = f"main.{ci + 1}."
            bn.set_weights([w[p + "weight"], w[p + "bias"], w[p + "running_mean"], w[p + "running_var"]])
            x = tf.keras.layers.ReLU()(x)
        else:
            x = tf.keras.layers.Activation("tanh")(x)
    return tf.keras.Model(z, x)


def litert_model(keras, batch, tmp):
    """Full-integer int8 model for a fixed batch size: with a dynamic batch dimension the XNNPACK
    delegate does not take the int8 TRANSPOSE_CONVs (4.7 ms instead of 1.8 ms at batch 1 here)."""
    import tensorflow as tf
    z = tf.keras.Input((1, 1, NZ), batch_size=batch)
    model = tf.keras.Model(z, keras(z))
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    # 512 calibration latents, in batches of the model's fixed size.
    conv.representative_dataset = lambda: ([rng.standard_normal((batch, 1, 1, NZ)).astype(np.float32)]
                                           for _ in range(max(1, 512 // batch)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    path = os.path.join(tmp, f"g64.b{batch}.int8.tflite")
    with open(path, "wb") as f:
        f.write(conv.convert())
    return path


def litert_interpreter(path):
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=path, num_threads=THREADS)
    it.allocate_tensors()
    ops = {d["op_name"] for d in it._get_ops_details()}
    assert "DELEGATE" in ops, f"XNNPACK did not take the model: {ops}"
    return it


def bench_litert(paths):
    res = []
    for batch, calls in ((1, 300), (64, 15)):
        it = litert_interpreter(paths[batch])
        inp, out = it.get_input_details()[0], it.get_output_details()[0]
        z = np.random.randn(batch, 1, 1, NZ).astype(np.float32)
        if inp["dtype"] == np.int8:
            s, zp = inp["quantization"]
            z = np.clip(np.round(z / s + zp), -128, 127).astype(np.int8)
        it.set_tensor(inp["index"], z)
        res.append(median_ms(it.invoke, calls))
    return res[0], 64 / (res[1] / 1e3)


def litert_outputs(path, z):
    it = litert_interpreter(path)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    x = z.reshape(len(z), 1, 1, NZ)
    if inp["dtype"] == np.int8:
        s, zp = inp["quantization"]
        x = np.clip(np.round(x / s + zp), -128, 127).astype(np.int8)
    it.set_tensor(inp["index"], x)
    it.invoke()
    y = it.get_tensor(out["index"])
    if out["dtype"] == np.int8:
        s, zp = out["quantization"]
        y = (y.astype(np.float32) - zp) * s
    return y


def ort_int8(onnx_path, tmp):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.it = iter([{"z": rng.standard_normal((1, NZ, 1, 1)).astype(np.float32)} for _ in range(512)])

        def get_next(self):
            return next(self.it, None)
    q = os.path.join(tmp, "g64.int8.onnx")
    quantize_static(onnx_path, q, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return q


def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def bench_ort(path):
    s = ort_session(path)
    z1 = np.random.randn(1, NZ, 1, 1).astype(np.float32)
    z64 = np.random.randn(64, NZ, 1, 1).astype(np.float32)
    return median_ms(lambda: s.run(None, {"z": z1}), 200), 64 / (median_ms(lambda: s.run(None, {"z": z64}), 15) / 1e3)


def gan_gen(exe, model, tmp):
    def bench(batch, count):
        out = subprocess.run([exe, "--model", model, "--bench", "--batch", str(batch), "--count", str(count),
                              "--threads", str(THREADS)], capture_output=True, text=True, check=True).stdout
        return out
    out1, out64 = bench(1, 300), bench(64, 960)
    p50 = float(re.search(r"p50 ([0-9.]+)", out1).group(1))
    ips = float(re.search(r"throughput: ([0-9.]+) img/s at the median", out64).group(1))
    r = subprocess.run(["/usr/bin/time", "-v", exe, "--model", model, "--count", "1", "--threads", str(THREADS),
                        "--out", os.path.join(tmp, "one")], capture_output=True, text=True, check=True)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    return p50, ips, rss


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(4 / mse) if mse > 0 else float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    args = ap.parse_args()
    import ai_edge_litert
    import onnxruntime
    import tensorflow as tf
    with tempfile.TemporaryDirectory() as tmp:
        st, onnx_path = build_model(tmp)
        q8 = os.path.join(tmp, "g64.int8.safetensors")
        # --bn-batches 0: quantize the same fp32 model the peers get (re-estimation would change it).
        subprocess.run([os.path.join(args.bin, "gan-quant"), "--model", st, "--out", q8, "--threads", str(THREADS),
                        "--bn-batches", "0"], check=True, capture_output=True)
        keras = keras_generator(st)
        tfl = {b: litert_model(keras, b, tmp) for b in (1, 64)}
        ortq = ort_int8(onnx_path, tmp)
        # Fidelity on 64 latents: each int8 model against its own fp32 (gan-gen: the report's 256).
        z = np.random.default_rng(1).standard_normal((64, NZ)).astype(np.float32)
        ref_nhwc = keras(z.reshape(64, 1, 1, NZ)).numpy()
        ref_ort = ort_session(onnx_path).run(None, {"z": z.reshape(64, NZ, 1, 1)})[0].transpose(0, 2, 3, 1)
        keras_vs_ort = float(np.abs(ref_nhwc - ref_ort).max())
        fid_litert = psnr(litert_outputs(tfl[64], z), ref_nhwc)
        fid_ort = psnr(ort_session(ortq).run(None, {"z": z.reshape(64, NZ, 1, 1)})[0].transpose(0, 2, 3, 1), ref_ort)
        report = open(q8.replace(".safetensors", ".report.json")).read()
        fid_gg = float(re.search(r'"psnr_db":([0-9.]+)', report).group(1))
        rows = []
        for r in range(args.rounds):
            gg = gan_gen(os.path.join(args.bin, "gan-gen"), q8, tmp)
            gf = gan_gen(os.path.join(args.bin, "gan-gen"), st, tmp)
            lt = bench_litert(tfl)
            oq = bench_ort(ortq)
            rows.append((gg, gf, lt, oq))
            print(f"round {r + 1}: gan-gen int8 b1 {gg[0]:.3f} ms, {gg[1]:.0f} img/s | gan-gen fp32 b1 {gf[0]:.3f} ms, "
                  f"{gf[1]:.0f} img/s | LiteRT int8 b1 {lt[0]:.3f} ms, {lt[1]:.0f} img/s | ORT int8 b1 {oq[0]:.3f} ms, "
                  f"{oq[1]:.0f} img/s", flush=True)
        med = lambda xs: sorted(xs)[len(xs) // 2]
        print()
        print(f"DCGAN-64 generator (nz 100, ngf 64), {THREADS} threads, median of {args.rounds} interleaved rounds "
              f"(Keras fp32 vs ONNX fp32 max |diff| {keras_vs_ort:.2e}: same weights)")
        print("| runtime | batch-1 latency p50 (ms) | batch-64 img/s | int8 vs own fp32 PSNR (dB) |")
        print("|---|---|---|---|")
        print(f"| gan-gen int8 | {med([x[0][0] for x in rows]):.3f} | {med([x[0][1] for x in rows]):.0f} | {fid_gg:.1f} (256 latents) |")
        print(f"| gan-gen fp32 | {med([x[1][0] for x in rows]):.3f} | {med([x[1][1] for x in rows]):.0f} | - |")
        print(f"| LiteRT {ai_edge_litert.__version__} int8 (TF {tf.__version__} converter) | {med([x[2][0] for x in rows]):.3f} | {med([x[2][1] for x in rows]):.0f} | {fid_litert:.1f} |")
        print(f"| ONNX Runtime {onnxruntime.__version__} int8 (QDQ) | {med([x[3][0] for x in rows]):.3f} | {med([x[3][1] for x in rows]):.0f} | {fid_ort:.1f} |")
        print(f"gan-gen int8 one 64 px image: peak RSS {med([x[0][2] for x in rows]):.1f} MB "
              f"(fp32: {med([x[1][2] for x in rows]):.1f} MB); int8 file {os.path.getsize(q8)} bytes, fp32 {os.path.getsize(st)} bytes")


if __name__ == "__main__":
    main()
