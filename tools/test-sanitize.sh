#!/bin/sh
# tools/test.sh --sanitize: the kernel driver (every kernel, the thread pool) under GCC's
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer (any report fails), then
# the Swift tests under AddressSanitizer (swift test --sanitize address, in .build-asan; Swift on
# Linux has no UBSan for Swift code). Ends with "N passed, N failed". Takes about 20 minutes.
set -u
cd "$(dirname "$0")/.."
tools/install-deps.sh >&2
SRC=$(find Kernels -name '*.c' | sort)
OUT=.build-kernels
mkdir -p $OUT
pass=0; fail=0
for mode in "address,undefined -fno-sanitize-recover=all" "thread"; do
  name=$(echo "$mode" | cut -d' ' -f1)
  gcc -O1 -g -fno-omit-frame-pointer -fsanitize=$mode -ffp-contract=off -pthread -I Kernels/include \
    -I Tests/CGemmEdgeShapes/include Tests/kernel-driver/*.c $SRC -lm -o "$OUT/kernel-tests-$name" || { fail=$((fail + 1)); continue; }
  log=$("$OUT/kernel-tests-$name" 2>&1); st=$?
  reports=$(echo "$log" | grep -c "ERROR: AddressSanitizer\|runtime error\|WARNING: ThreadSanitizer")
  line=$(echo "$log" | grep -E "^[0-9]+ passed, [0-9]+ failed$" | tail -1)
  echo "kernel driver, -fsanitize=$name: ${line:-no summary}, $reports sanitizer reports"
  if [ "$st" -eq 0 ] && [ "$reports" -eq 0 ] && [ -n "$line" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "$log" | grep -m20 -A8 "ERROR: AddressSanitizer\|runtime error\|WARNING: ThreadSanitizer"; fi
done
swift build --build-tests --sanitize address --build-path .build-asan >&2
# The tools the tests launch inherit these. detect_leaks=0: LeakSanitizer's reports here are
# allocations alive at exit() (swift-argument-parser's parse state when a usage error exits,
# FoundationEssentials' read buffer, the GanServer objects tests never shut down), and a report
# turns a tool's exit status into 1, which the exit-status tests then misread. A small quarantine
# keeps the peak-RSS tests meaningful (SWIFT_GAN_SANITIZER doubles their bounds).
export ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=8:thread_local_quarantine_size_kb=64
export SWIFT_GAN_SANITIZER=address
if swift test --skip-build --disable-swift-testing --sanitize address --build-path .build-asan; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: swift test --sanitize address"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
