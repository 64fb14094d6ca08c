#!/bin/sh
# The whole test suite: installs missing system packages, builds, runs every Swift test target
# (XCTest), then the kernel tests without Swift natively and for aarch64 under qemu
# (tools/test-kernels.sh), then the Embedded board binary whole under qemu against the x86 one
# (tools/test-board.sh), then gan-serve in a real browser and under a short wrk load
# (tools/test-serve.sh), then gan-train killed with SIGKILL and resumed, and a full disk
# (tools/test-crash.sh 3), then data-parallel gan-train under Open MPI: 2 ranks against one
# process, a lost rank, two network namespaces over TCP (tools/test-mpi.sh). Ends with one
# summary line "N passed, N failed".
# tools/test.sh --sanitize runs tools/test-sanitize.sh instead (sanitizer builds, about 20 min).
set -e
cd "$(dirname "$0")/.."
[ "${1:-}" = --sanitize ] && exec tools/test-sanitize.sh
tools/install-deps.sh
swift build --build-tests
log=$(mktemp)
klog=$(mktemp)
blog=$(mktemp)
slog=$(mktemp)
clog=$(mktemp)
mlog=$(mktemp)
trap 'rm -f "$log" "$klog" "$blog" "$slog" "$clog" "$mlog"' EXIT
status=0
swift test --skip-build --disable-swift-testing 2>&1 | tee "$log" || status=$?
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1)
if [ -z "$summary" ]; then echo "0 passed, 1 failed"; exit 1; fi
total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
kstatus=0
tools/test-kernels.sh 2>&1 | tee "$klog" || kstatus=1
kline=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$klog" | tail -1)
if [ -z "$kline" ]; then kstatus=1; kpass=0; kfail=1; else
  kpass=$(echo "$kline" | cut -d' ' -f1); kfail=$(echo "$kline" | cut -d' ' -f3); fi
bstatus=0
tools/test-board.sh 2>&1 | tee "$blog" || bstatus=1
bline=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$blog" | tail -1)
if [ -z "$bline" ]; then bstatus=1; bpass=0; bfail=1; else
  bpass=$(echo "$bline" | cut -d' ' -f1); bfail=$(echo "$bline" | cut -d' ' -f3); fi
sstatus=0
tools/test-serve.sh 2>&1 | tee "$slog" || sstatus=1
sline=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$slog" | tail -1)
if [ -z "$sline" ]; then sstatus=1; spass=0; sfail=1; else
  spass=$(echo "$sline" | cut -d' ' -f1); sfail=$(echo "$sline" | cut -d' ' -f3); fi
cstatus=0
tools/test-crash.sh 3 2>&1 | tee "$clog" || cstatus=1
cline=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$clog" | tail -1)
if [ -z "$cline" ]; then cstatus=1; cpass=0; cfail=1; else
  cpass=$(echo "$cline" | cut -d' ' -f1); cfail=$(echo "$cline" | cut -d' ' -f3); fi
mstatus=0
tools/test-mpi.sh 2>&1 | tee "$mlog" || mstatus=1
mline=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$mlog" | tail -1)
if [ -z "$mline" ]; then mstatus=1; mpass=0; mfail=1; else
  mpass=$(echo "$mline" | cut -d' ' -f1); mfail=$(echo "$mline" | cut -d' ' -f3); fi
echo "Swift tests: $((total - failed)) passed, $failed failed; kernel checks (native, qemu A72, qemu A76): $kpass passed, $kfail failed; board binary under qemu (A53, A72, A76): $bpass passed, $bfail failed; gan-serve (browser, wrk): $spass passed, $sfail failed; crash safety (3 kills, full disk): $cpass passed, $cfail failed; MPI (2 ranks, lost rank, TCP namespaces): $mpass passed, $mfail failed"
echo "$((total - failed + kpass + bpass + spass + cpass + mpass)) passed, $((failed + kfail + bfail + sfail + cfail + mfail)) failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$kstatus" -eq 0 ] && [ "$kfail" -eq 0 ] && [ "$bstatus" -eq 0 ] && [ "$bfail" -eq 0 ] && [ "$sstatus" -eq 0 ] && [ "$sfail" -eq 0 ] && [ "$cstatus" -eq 0 ] && [ "$cfail" -eq 0 ] && [ "$mstatus" -eq 0 ] && [ "$mfail" -eq 0 ]
