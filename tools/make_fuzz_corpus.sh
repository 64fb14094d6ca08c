#!/bin/sh
# Writes the fuzzers' committed seed corpora (Fuzz/corpus/<target>/): small valid inputs of each
# kind, made with the package's own tools, plus the hostile fixtures. Needs a release build
# (swift build -c release) and python3 (standard library only).
set -eu
cd "$(dirname "$0")/.."
B=.build/release
C=Fuzz/corpus
H=Tests/GanDataTests/Fixtures/hostile
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rm -rf "$C"
mkdir -p "$C/safetensors" "$C/npy" "$C/idx" "$C/json" "$C/image" "$C/gan-gen-flags" "$C/gan-train-flags"

# A tiny model (32x32x1, nz 4, ngf 2, ndf 2: the fuzz-safetensors trainer's shape) on 8 images.
python3 - "$T" <<'PY'
import gzip, struct, sys
t = sys.argv[1]
header = "{'descr': '|u1', 'fortran_order': False, 'shape': (8, 32, 32), }"
while (10 + len(header) + 1) % 64: header += " "
header += "\n"
open(t + "/data.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() +
                                  bytes((i * 37) % 256 for i in range(8 * 1024)))
idx = struct.pack(">IIII", 0x803, 3, 4, 4) + bytes(range(48))
open(t + "/three.idx", "wb").write(idx)
open(t + "/three.idx.gz", "wb").write(gzip.compress(idx))
PY
$B/gan-train --dataroot "$T/data.npy" --image-size 32 --batch-size 2 --iterations 2 --nz 4 --ngf 2 --ndf 2 \
  --swd-every 0 --manual-seed 1 --threads 1 --outf "$T/run" --cache-dir "$T/cache" > /dev/null
$B/gan-quant --model "$T/run/generator.safetensors" --out "$T/run/g.int8.safetensors" --calibration-batches 1 \
  --bn-batches 1 --threads 1 > /dev/null 2>&1
cp "$T/run/generator.safetensors" "$C/safetensors/generator-fp32.safetensors"
cp "$T/run/g.int8.safetensors" "$C/safetensors/generator-int8.safetensors"
cp "$T/run/checkpoint.safetensors" "$C/safetensors/checkpoint.safetensors"
cp "$H"/*.safetensors "$C/safetensors/"

$B/gan-gen --model "$T/run/generator.safetensors" --count 2 --grid 2 --save-raw "$T/raw.npy" --out "$T/g.png" > /dev/null
cp "$T/raw.npy" "$C/npy/raw-float32.npy"
cp "$T/data.npy" "$C/npy/images-uint8.npy"
cp "$H"/*.npy "$C/npy/"

cp "$T/three.idx" "$T/three.idx.gz" "$H"/*.idx "$C/idx/"

cp Tests/GanDataTests/Fixtures/halves.jpg Tests/GanDataTests/Fixtures/red_half_alpha.png "$T/g.png" "$C/image/"
cp "$H"/*.png "$H"/*.jpg "$C/image/"

# JSON: safetensors headers as written, and the metadata values that are JSON themselves.
python3 - "$C" "$T/run/generator.safetensors" "$T/run/g.int8.safetensors" <<'PY'
import json, struct, sys
c = sys.argv[1]
for i, p in enumerate(sys.argv[2:]):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    text = b[8:8 + n]
    open(f"{c}/json/header{i}.json", "wb").write(text)
    for k, v in json.loads(text).get("__metadata__", {}).items():
        if v[:1] in "{[":
            open(f"{c}/json/meta{i}-{k.replace('.', '_')}.json", "w").write(v)
open(f"{c}/json/escapes.json", "w").write('{"a": [1, -2.5e3, true, false, null], "b\\"\\u00e9": {"c": "x\\ny"}}')
PY

# Flags: NUL-separated arguments, as the flag fuzzers split their input.
flags() { out=$1; shift; printf '%s\0' "$@" | head -c -1 > "$out"; }
flags "$C/gan-gen-flags/grid" --model g.safetensors --count 64 --grid 8 --out grid.png
flags "$C/gan-gen-flags/interp" --model=g.safetensors --interpolate slerp --steps 10 --from 3 --to 9 --seed 7
flags "$C/gan-gen-flags/bench" --model g.safetensors --bench --batch 1 --threads 2 --winograd --first-index 5
flags "$C/gan-gen-flags/latents" --model g --latents z.npy --save-raw x.npy --out pngs --help
flags "$C/gan-train-flags/demo" --dataroot fashion-mnist --image-size 32 --iterations 300 --outf out
flags "$C/gan-train-flags/full" --dataroot d --batch-size 16 --lr 0.001 --beta1 0.5 --nz 64 --ngf 32 --ndf 32 \
  --manual-seed 3 --threads 2 --sample-every 10 --checkpoint-every 20 --swd-every 0 --swd-images 64 --winograd
flags "$C/gan-train-flags/resume" --dataroot=d --resume --outf o --no-shuffle --noise z.npy --snapshot-every 5 \
  --channels 3 --cache-dir c --init x
echo "wrote $(find "$C" -type f | wc -l) seeds, $(du -sk "$C" | cut -f1) KiB, to $C"
