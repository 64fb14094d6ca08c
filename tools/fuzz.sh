#!/bin/sh
# tools/fuzz.sh TARGET SECONDS: builds the libFuzzer target fuzz-TARGET (Swift -sanitize=fuzzer
# plus AddressSanitizer; clang's for the C parts) and runs it for SECONDS on a working copy of
# its committed seeds (Fuzz/corpus/TARGET). TARGET is one of the names below, or "all" (each for
# SECONDS, one after another). Prints one summary line per target: executions, coverage, findings.
# Crashes, hangs (-timeout) and allocations over -malloc_limit_mb are written to
# .build-fuzz/artifacts/TARGET/; the script exits 1 when there is one. Findings become tests,
# and their inputs go into Fuzz/corpus/TARGET/, which Tests/FuzzCorpusTests replays in every run.
# The bodies are Fuzz/Bodies/FuzzBodies.swift; coverage flags for Swift are set in Package.swift.
set -u
cd "$(dirname "$0")/.."
TARGETS="safetensors npy idx json image gan-gen-flags gan-train-flags"
usage() { echo "usage: tools/fuzz.sh TARGET SECONDS (TARGET: $TARGETS, all)" >&2; exit 64; }
[ $# -eq 2 ] || usage
case "$2" in ''|*[!0-9]*) usage ;; esac
[ "$1" = all ] && set -- "$TARGETS" "$2"
for t in $1; do case " $TARGETS " in *" $t "*) ;; *) usage ;; esac; done

export SWIFT_GAN_FUZZ=1
BUILD=.build-fuzz
status=0
for t in $1; do
  swift build --sanitize fuzzer --sanitize address --build-path "$BUILD" --product "fuzz-$t" 2>&1 \
    | grep -v "Cannot export local symbol" | grep -E "error|Compiling|Build" | tail -2 >&2
  work="$BUILD/corpus/$t" art="$BUILD/artifacts/$t/" log="$BUILD/fuzz-$t.log"
  mkdir -p "$work" "$art"
  # -malloc_limit_mb: one allocation over 1 GiB is a finding (a size taken from the input, unchecked).
  # -timeout 10: an input that takes 10 s is a hang. -rss_limit_mb bounds the whole process.
  "$BUILD/debug/fuzz-$t" -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$art" "$work" "Fuzz/corpus/$t" > "$log" 2>&1
  rc=$?
  mkdir -p "$art"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  found=$(find "$art" -type f | wc -l)
  echo "fuzz $t: ${2} s, ${execs:-0} executions, coverage ${cov:-0} edges (${ft:-0} features), corpus $(ls "$work" | wc -l) inputs, findings $found"
  # libFuzzer exits non-zero on a crash, hang, leak or limit: a finding even without an artifact.
  if [ "$found" -gt 0 ] || [ "$rc" -ne 0 ]; then
    status=1
    grep -m3 -E "ERROR|Fatal error|SUMMARY" "$log" >&2 || true
    echo "  artifacts in $art; log in $log" >&2
  fi
done
exit $status
