#!/bin/sh
# The board binary, whole, under qemu: builds gan-gen for aarch64 as Embedded Swift
# (tools/build-board.sh), then runs it under qemu-aarch64 as a Cortex-A53 (Pi Zero 2 W / Pi 3),
# A72 (Pi 4) and A76 (Pi 5) on fp32 models (a PyTorch state_dict and a gan-train generator) and
# int8 ones (gan-quant's, all-int8 and with fp32 layers), SAGANs (a conditional PyTorch state_dict
# with attention and its int8 file, an unconditional one; --class), every output mode, the bad-file and
# usage cases and --help, and compares with the x86 SwiftPM gan-gen (.build/debug, built first):
#   int8: every output file bitwise equal; fp32 (and int8 files with fp32 layers): raw outputs
#   within 1e-5 absolute;
#   errors and --help: the same exit status and the same text;
# and, independently of the x86 binary, the aarch64 outputs against PyTorch's (fp32 within 1e-4,
# int8 PSNR >= 30 dB), so a wrong line in the shared Swift code fails here too.
# qemu gives no speed figures. Ends with "N passed, N failed".
set -e
cd "$(dirname "$0")/.."
ROOT=$(pwd)
tools/install-deps.sh qemu-user >&2
[ -x .build/debug/gan-gen ] && [ -x .build/debug/gan-quant ] && [ -x .build/debug/gan-train ] || swift build >&2
tools/build-board.sh >&2
X86=$ROOT/.build/debug
BOARD=$ROOT/.build-board/aarch64/gan-gen
FIX=$ROOT/Tests/GanRuntimeTests/Fixtures
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
gcc -O2 -o "$W/npy_compare" tools/board/npy_compare.c -lm
CMP=$W/npy_compare

pass=0; fail=0
check() {  # check NAME CONDITION-EXIT-STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1${3:+: $3}"; fi
}

# --- Models: PyTorch's fixtures (DCGAN; conditional and unconditional SAGAN), a 2-iteration
# gan-train run, and gan-quant's int8 files.
mkdir -p "$W/models"
cp "$FIX/g64.safetensors" "$W/models/torch64.safetensors"
cp "$FIX/sagan_eval_cond32.safetensors" "$W/models/sagan32.safetensors"
cp "$FIX/sagan_eval_uncond64.safetensors" "$W/models/sagan64u.safetensors"
# A deterministic uint8 dataset (16 x 32 x 32 x 1): bytes of a committed fixture.
header="{'descr': '|u1', 'fortran_order': False, 'shape': (16, 32, 32, 1), }"
{ printf '\223NUMPY\001\000\166\000'  # format 1.0, header length 118: data at byte 128
  printf '%s%*s\n' "$header" $((118 - ${#header} - 1)) ''
  head -c 16384 Tests/GanTrainingTests/Fixtures/dcgan32.safetensors; } > "$W/data.npy"
"$X86/gan-train" --dataroot "$W/data.npy" --image-size 32 --batch-size 8 --nz 8 --ngf 8 --ndf 8 --iterations 2 \
  --manual-seed 3 --threads 2 --outf "$W/train" --cache-dir "$W/cache" > "$W/train.log" 2>&1 || { cat "$W/train.log"; exit 1; }
cp "$W/train/generator.safetensors" "$W/models/train32.safetensors"
"$X86/gan-quant" --model "$W/models/torch64.safetensors" --out "$W/models/torch64-int8.safetensors" --bn-batches 0 \
  --calibration-batches 2 > /dev/null
"$X86/gan-quant" --model "$W/models/torch64.safetensors" --out "$W/models/torch64-mixed.safetensors" --bn-batches 0 \
  --calibration-batches 2 --keep-fp32 0,4 > /dev/null
"$X86/gan-quant" --model "$W/models/train32.safetensors" --out "$W/models/train32-int8.safetensors" --bn-batches 2 \
  --calibration-batches 2 > /dev/null
"$X86/gan-quant" --model "$W/models/sagan32.safetensors" --out "$W/models/sagan32-int8.safetensors" --bn-batches 0 \
  --calibration-batches 2 > /dev/null
rm -f "$W"/models/*.report.json

# --- The runs: each in its own folder with relative paths, so stdout is comparable.
# run DIR CMD... : stdout, stderr and the exit status into DIR (stdin is /dev/null: the loops
# below read their cases from files).
run() {
  dir=$1; shift
  mkdir -p "$dir"
  ( cd "$dir" && if "$@" > stdout 2> stderr < /dev/null; then echo 0; else echo $?; fi > status )
}
cases() {  # cases MODEL: one case per line, "name|arguments"
  m=$1
  echo "folder|--model $m --count 7 --batch 3 --out png --save-raw raw.npy"
  echo "grid|--model $m --count 10 --grid 4 --out grid.png --save-raw raw.npy"
  echo "first-index|--model $m --first-index 3 --count 2 --batch 1 --threads 1 --out fi --save-raw raw.npy"
  echo "interpolate|--model $m --interpolate slerp --steps 5 --grid 5 --out walk.png --save-raw raw.npy"
  case "$m" in *torch64*) echo "latents|--model $m --latents $FIX/z64.npy --save-raw raw.npy --out zpng --batch 4" ;; esac
  case "$m" in *sagan32*)
    echo "latents|--model $m --latents $FIX/sagan_eval_cond32_z.npy --save-raw raw.npy --out zpng --batch 2"
    echo "class-all|--model $m --class all --grid 3 --out classes.png --save-raw raw.npy"
    echo "class|--model $m --class 2 --count 4 --batch 3 --out c2 --save-raw raw.npy" ;; esac
  case "$m" in *sagan64u*)
    echo "latents|--model $m --latents $FIX/sagan_eval_uncond64_z.npy --save-raw raw.npy --out zpng --batch 2" ;; esac
}
# Bad input: name|arguments|fragment expected in the error line.
head -c 20000 "$W/models/torch64.safetensors" > "$W/models/bad-truncated.safetensors"
{ printf '\023\000\000\000\000\000\000\000'; printf '{"main.0.weight": {'; } > "$W/models/bad-json.safetensors"
: > "$W/models/bad-empty.safetensors"
mkdir -p "$W/models/bad-dir.safetensors"
cat > "$W/errors.txt" <<EOF
missing|--model $W/models/none.safetensors --count 1|No such file or directory
directory|--model $W/models/bad-dir.safetensors --count 1|not a regular file
truncated|--model $W/models/bad-truncated.safetensors --count 1|outside
malformed-json|--model $W/models/bad-json.safetensors --count 1|not valid JSON
empty|--model $W/models/bad-empty.safetensors --count 1|empty file
wrong-nz|--model $W/models/train32.safetensors --latents $FIX/z64.npy|latents have nz 32, the model expects 8
latents-not-npy|--model $W/models/train32.safetensors --latents $W/models/bad-json.safetensors|not a .npy file
usage-threads|--model $W/models/train32.safetensors --threads 0|--threads 0: expected 1 to 1024
usage-threads-huge|--model $W/models/train32.safetensors --threads 100000|--threads 100000: expected 1 to 1024
usage-count|--model $W/models/train32.safetensors --count many|invalid value 'many' for '--count'
usage-flag|--modle x|unknown option '--modle'
usage-class|--model $W/models/sagan32.safetensors --class 3|--class 3: expected a class index from 0 to 2
usage-class-unconditional|--model $W/models/sagan64u.safetensors --class 1|the model is not class-conditional
help|--help|
EOF

echo "== x86_64 SwiftPM gan-gen (reference)"
MODELS="torch64 train32 sagan32 sagan64u torch64-int8 train32-int8 sagan32-int8 torch64-mixed"
for model in $MODELS; do
  m=$W/models/$model.safetensors
  cases "$m" > "$W/cases.txt"
  while IFS='|' read -r name args; do
    # shellcheck disable=SC2086
    run "$W/x86/$(basename "$m" .safetensors)/$name" "$X86/gan-gen" $args
  done < "$W/cases.txt"
done
while IFS='|' read -r name args fragment; do
  # shellcheck disable=SC2086
  run "$W/x86/errors/$name" "$X86/gan-gen" $args
done < "$W/errors.txt"

for cpu in cortex-a53 cortex-a72 cortex-a76; do
  echo "== aarch64 Embedded gan-gen under qemu -cpu $cpu"
  t0=$(date +%s)
  for model in $MODELS; do
    m=$W/models/$model.safetensors
    # All-int8 files: exact int32 sums and the same scalar epilogue on every ISA. A file with fp32
    # layers (mixed) sums those in the fp32 kernels' ISA-specific order: fp32 rules apply.
    # A SAGAN's int8 file keeps attention and conditional BatchNorm in fp32: fp32 rules too.
    int8=0; case "$model" in *sagan*) ;; *int8*) int8=1 ;; esac
    cases "$m" > "$W/cases.txt"
    while IFS='|' read -r name args; do
      ref=$W/x86/$model/$name; got=$W/$cpu/$model/$name
      # shellcheck disable=SC2086
      run "$got" "$ROOT/tools/board/qemu.sh" $cpu "$BOARD" $args
      what="$cpu $model $name"
      check "$what: exit status 0" "$([ "$(cat "$got/status")" = 0 ] && echo 0 || echo 1)" "$(cat "$got/stderr")"
      check "$what: same stdout" "$(cmp -s "$ref/stdout" "$got/stdout"; echo $?)" "$(cat "$got/stdout")"
      if [ "$int8" = 1 ]; then
        # Every file (PNGs, grid, raw) bitwise equal.
        s=0; diff -r -q -x stdout -x stderr -x status "$ref" "$got" > "$W/diff.txt" 2>&1 || s=$?
        check "$what: int8 output bitwise equal to x86" $s "$(head -3 "$W/diff.txt")"
      else
        s=0; r=$("$CMP" "$ref/raw.npy" "$got/raw.npy" 1e-5) || s=$?
        check "$what: fp32 raw within 1e-5 of x86" $s "$r"
        echo "   $what: raw vs x86 $r"
        n1=$(find "$ref" -name '*.png' | wc -l); n2=$(find "$got" -name '*.png' | wc -l)
        check "$what: same PNG files" "$([ "$n1" = "$n2" ] && [ "$n1" -gt 0 ] && echo 0 || echo 1)" "$n1 vs $n2"
      fi
    done < "$W/cases.txt"
  done
  # Against PyTorch's outputs, independently of the x86 binary.
  s=0; r=$("$CMP" "$FIX/out64.npy" "$W/$cpu/torch64/latents/raw.npy" 1e-4) || s=$?
  check "$cpu fp32 vs PyTorch (1e-4)" $s "$r"; echo "   fp32 vs PyTorch: $r"
  s=0; r=$("$CMP" "$FIX/out64.npy" "$W/$cpu/torch64-int8/latents/raw.npy" inf 30) || s=$?
  check "$cpu int8 vs PyTorch fp32 (PSNR >= 30 dB)" $s "$r"; echo "   int8 vs PyTorch: $r"
  for sg in sagan32:sagan_eval_cond32 sagan64u:sagan_eval_uncond64; do
    s=0; r=$("$CMP" "$FIX/${sg#*:}_out.npy" "$W/$cpu/${sg%%:*}/latents/raw.npy" 1e-4) || s=$?
    check "$cpu SAGAN ${sg%%:*} fp32 vs PyTorch eval mode (1e-4)" $s "$r"; echo "   SAGAN ${sg%%:*} vs PyTorch: $r"
  done
  s=0; r=$("$CMP" "$FIX/sagan_eval_cond32_out.npy" "$W/$cpu/sagan32-int8/latents/raw.npy" inf 30) || s=$?
  check "$cpu SAGAN int8 vs PyTorch fp32 (PSNR >= 30 dB)" $s "$r"; echo "   SAGAN int8 vs PyTorch: $r"
  while IFS='|' read -r name args fragment; do
    ref=$W/x86/errors/$name; got=$W/$cpu/errors/$name
    # shellcheck disable=SC2086
    run "$got" "$ROOT/tools/board/qemu.sh" $cpu "$BOARD" $args
    what="$cpu error case $name"
    check "$what: same exit status as x86 ($(cat "$ref/status"))" "$(cmp -s "$ref/status" "$got/status"; echo $?)" "got $(cat "$got/status")"
    check "$what: same stderr as x86" "$(cmp -s "$ref/stderr" "$got/stderr"; echo $?)" "$(cat "$got/stderr")"
    check "$what: same stdout as x86" "$(cmp -s "$ref/stdout" "$got/stdout"; echo $?)"
    if [ -n "$fragment" ]; then
      check "$what: one line naming the problem" "$([ "$(wc -l < "$got/stderr")" = 1 ] && grep -qF -- "$fragment" "$got/stderr" && echo 0 || echo 1)" "$(cat "$got/stderr")"
    else
      check "$what: prints the options" "$(grep -q -- '--model <path>' "$got/stdout" && echo 0 || echo 1)"
    fi
  done < "$W/errors.txt"
  echo "   $(( $(date +%s) - t0 )) s under qemu (no speed figure: qemu emulates)"
done
echo "board binary: $(wc -c < "$BOARD") bytes stripped (aarch64)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
