#!/bin/sh
# Crash safety of gan-train: tools/test-crash.sh [KILLS] (default 20; the suite runs 3).
# 1. An uninterrupted reference run. 2. The same run killed with SIGKILL at KILLS random moments
#    (uniform over a run's length, so they land during steps, checkpoint writes, sampling grids and
#    SWD), each followed by --resume; every checkpoint left behind must be readable (the resume
#    reads and validates it, and a resume that fails is a failure). 3. The finished run's
#    generator.safetensors and checkpoint.safetensors must equal the reference's bit for bit.
# 4. A full disk: a checkpoint write into an 8 MiB tmpfs that fills up fails with one line naming
#    the file and ENOSPC, and the previous checkpoint stays intact (needs root for mount).
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
KILLS=${1:-20}
case "$KILLS" in ''|*[!0-9]*) echo "usage: tools/test-crash.sh [KILLS]" >&2; exit 64 ;; esac
tools/install-deps.sh python3 >&2
[ -x .build/debug/gan-train ] || swift build >&2
GT=$(pwd)/.build/debug/gan-train
W=$(mktemp -d)
trap 'mountpoint -q "$W/full" 2>/dev/null && umount "$W/full"; rm -rf "$W"' EXIT
pass=0; fail=0
check() {  # check NAME STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1${3:+: $3}"; fi
}

# 256 images of 32x32 gray (uint8 .npy): the last 32 held out for SWD.
python3 - "$W/data.npy" <<'PY'
import struct, sys
header = "{'descr': '|u1', 'fortran_order': False, 'shape': (256, 32, 32), }"
while (10 + len(header) + 1) % 64: header += " "
header += "\n"
body = bytes(((i * 2654435761) >> 13) % 256 for i in range(256 * 1024))
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body)
PY
ITER=120
ARGS="--dataroot $W/data.npy --image-size 32 --batch-size 8 --nz 16 --ngf 16 --ndf 16 --manual-seed 11 --threads 2
      --iterations $ITER --checkpoint-every 2 --sample-every 3 --swd-every 10 --swd-images 32 --cache-dir $W/cache"

start=$(date +%s%N)
$GT $ARGS --outf "$W/ref" > "$W/ref.log" 2>&1
check "reference run" $? "$(tail -2 "$W/ref.log")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "reference run: $ITER iterations in $ms ms"

# Killed runs. Each attempt is killed after a random time in [0, min(2 ms / KILLS, ms / 4)) (a
# fixed-seed LCG, so a failing sequence replays): start-up, steps, grids, SWD and checkpoint
# writes are all hit, and the killed attempts never finish the run; a kill after the run ended
# is not counted.
seed=12345 kills=0 attempts=0 during_write=0 resumes_ok=0
while [ "$kills" -lt "$KILLS" ] && [ "$attempts" -lt $((KILLS * 4)) ]; do
  attempts=$((attempts + 1))
  seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
  window=$(( 2 * ms / KILLS )); [ "$window" -gt $((ms / 4)) ] && window=$((ms / 4))
  delay_ms=$(( seed % (window + 1) ))
  resume=""
  [ -f "$W/run/checkpoint.safetensors" ] && resume="--resume"
  $GT $ARGS --outf "$W/run" $resume >> "$W/run.log" 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    kills=$((kills + 1))
    # A temporary file left behind means the kill landed inside an atomic write.
    if ls "$W/run" 2>/dev/null | grep -q '\.tmp-'; then during_write=$((during_write + 1)); fi
    rm -f "$W/run"/*.tmp-* "$W/run"/snapshots/*.tmp-* 2>/dev/null || true
  else
    wait "$pid"
    check "attempt $attempts ran to the end" $? "$(tail -3 "$W/run.log")"
    [ -f "$W/run/generator.safetensors" ] && break
  fi
done
echo "killed $kills times ($during_write inside an atomic file write), $attempts attempts"
check "at least $KILLS kills landed" $([ "$kills" -ge "$KILLS" ] && echo 0 || echo 1) "$kills"
# Finish (resume until done; every resume must succeed, which also proves the checkpoint readable).
if [ ! -f "$W/run/generator.safetensors" ]; then
  resume=""
  [ -f "$W/run/checkpoint.safetensors" ] && resume="--resume"
  $GT $ARGS --outf "$W/run" $resume >> "$W/run.log" 2>&1
  check "final resume" $? "$(tail -3 "$W/run.log")"
fi
bad=$(grep -c -E "invalid|cannot|truncated|error" "$W/run.log" || true)
check "no resume found an unreadable checkpoint" "$bad" "$(grep -m3 -E "invalid|cannot|truncated|error" "$W/run.log")"
resumed=$(grep -c "^resumed from" "$W/run.log" || true)
echo "resumed $resumed times"
for f in generator.safetensors checkpoint.safetensors; do
  cmp -s "$W/ref/$f" "$W/run/$f"
  check "$f bitwise equal to the uninterrupted run's" $? "$(cmp "$W/ref/$f" "$W/run/$f" 2>&1)"
done

# Full disk: an 8 MiB tmpfs holding a good checkpoint plus filler, so the next write runs out.
mkdir -p "$W/full"
if mount -t tmpfs -o size=8m tmpfs "$W/full"; then
  FARGS="--dataroot $W/data.npy --image-size 32 --batch-size 8 --nz 16 --ngf 16 --ndf 16 --manual-seed 11
         --threads 2 --checkpoint-every 2 --sample-every 1000 --swd-every 0 --cache-dir $W/cache --outf $W/full/o"
  $GT $FARGS --iterations 2 > "$W/full.log" 2>&1
  check "checkpoint written on the small filesystem" $? "$(tail -2 "$W/full.log")"
  cp "$W/full/o/checkpoint.safetensors" "$W/good-checkpoint"
  rm -f "$W/full/o/generator.safetensors"
  # Fill all but 256 KiB (room for log.csv, not for a checkpoint), then train on: the next
  # checkpoint write must fail cleanly.
  free_k=$(df -k --output=avail "$W/full" | tail -1 | tr -d ' ')
  dd if=/dev/zero of="$W/full/filler" bs=1k count=$((free_k - 256)) 2>/dev/null
  echo "full disk: checkpoint $(wc -c < "$W/good-checkpoint") bytes, $(df -k --output=avail "$W/full" | tail -1 | tr -d ' ') KiB free" 
  $GT $FARGS --iterations 4 --resume > "$W/full2.log" 2> "$W/full2.err"
  st=$?
  check "full disk: non-zero exit" $([ "$st" -ne 0 ] && echo 0 || echo 1) "status $st"
  lines=$(wc -l < "$W/full2.err")
  check "full disk: one error line" $([ "$lines" -eq 1 ] && echo 0 || echo 1) "$(cat "$W/full2.err")"
  grep -q "checkpoint.safetensors.*No space left on device" "$W/full2.err"
  check "full disk: the line names the file and ENOSPC" $? "$(cat "$W/full2.err")"
  cmp -s "$W/good-checkpoint" "$W/full/o/checkpoint.safetensors"
  check "full disk: the previous checkpoint is intact" $?
  leftovers=$(ls "$W/full/o" | grep -c '\.tmp-' || true)
  check "full disk: no temporary file left" "$leftovers"
  echo "full disk: $(cat "$W/full2.err")"
  umount "$W/full"
else
  check "mount an 8 MiB tmpfs for the full-disk case (needs root)" 1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
