#!/bin/sh
# The kernel tests without Swift: built natively, and cross-built for aarch64 and run under
# qemu-aarch64 as a Cortex-A72 (Raspberry Pi 4: NEON, no dot product) and a Cortex-A76 (Pi 5:
# NEON with sdot), so the NEON code paths run here without a board. Installs
# gcc-aarch64-linux-gnu and qemu-user when missing. Ends with "N passed, N failed".
set -e
cd "$(dirname "$0")/.."
tools/install-deps.sh gcc-aarch64-linux-gnu qemu-user >&2
SRC=$(find Kernels -name '*.c' | sort)
OUT=.build-kernels
mkdir -p $OUT
gcc -O2 -ffp-contract=off -pthread -I Kernels/include -I Tests/CGemmEdgeShapes/include Tests/kernel-driver/*.c $SRC -lm -o $OUT/kernel-tests-native
aarch64-linux-gnu-gcc -O2 -ffp-contract=off -pthread -I Kernels/include -I Tests/CGemmEdgeShapes/include Tests/kernel-driver/*.c $SRC -lm -o $OUT/kernel-tests-aarch64
total_pass=0; total_fail=0; status=0
run() {
  label=$1; shift
  echo "== $label"
  log=$("$@" 2>&1) || status=1
  echo "$log"
  line=$(echo "$log" | grep -E "^[0-9]+ passed, [0-9]+ failed$" | tail -1)
  if [ -z "$line" ]; then status=1; total_fail=$((total_fail + 1)); return; fi
  total_pass=$((total_pass + $(echo "$line" | cut -d' ' -f1)))
  total_fail=$((total_fail + $(echo "$line" | cut -d' ' -f3)))
}
run "native ($(uname -m))" $OUT/kernel-tests-native
run "aarch64 under qemu, -cpu cortex-a72" tools/board/qemu.sh cortex-a72 $OUT/kernel-tests-aarch64
run "aarch64 under qemu, -cpu cortex-a76" tools/board/qemu.sh cortex-a76 $OUT/kernel-tests-aarch64
echo "$total_pass passed, $total_fail failed"
exit $status
