#!/bin/sh
# gan-serve end to end: the page in a real browser (tools/browser/page_test.py: Debian's headless
# chromium, chromium-driver and python3-selenium, installed when missing), then a short bounded
# load test on loopback (benchmarks/serve/load.sh: wrk -t2 -c16, 3 s, twice, fp32 and int8
# models): no failed request, and resident memory after the second round within 8 MB of the first.
# The screenshot goes to ${SERVE_TEST_OUT:-.build/serve-test}/gan-serve-page.png.
# Ends with "N passed, N failed".
set -e
cd "$(dirname "$0")/.."
tools/install-deps.sh chromium chromium-driver python3-selenium wrk curl >&2
[ -x .build/debug/gan-serve ] && [ -x .build/debug/gan-quant ] || swift build >&2
out=${SERVE_TEST_OUT:-.build/serve-test}
mkdir -p "$out"
FIX=Tests/GanRuntimeTests/Fixtures
pass=0; fail=0
check() {  # check NAME CONDITION-EXIT-STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1${3:+: $3}"; fi
}
blog=$out/browser.log
bstatus=0
/usr/bin/python3 tools/browser/page_test.py .build/debug/gan-serve "$FIX/g64.safetensors" "$out" > "$blog" 2>&1 || bstatus=1
cat "$blog"
bline=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$blog" | tail -1)
if [ -z "$bline" ]; then check "browser test" 1 "no summary line"; else
  pass=$((pass + $(echo "$bline" | cut -d' ' -f1))); fail=$((fail + $(echo "$bline" | cut -d' ' -f3))); fi
[ "$bstatus" -eq 0 ] || [ -n "$bline" ] || check "browser test exit status" 1

qstatus=0
.build/debug/gan-quant --model "$FIX/g64.safetensors" --out "$out/g64.int8.safetensors" --calibration-batches 1 \
  --bn-batches 0 --threads 2 > "$out/quant.log" 2>&1 || qstatus=1
check "gan-quant made the int8 model for the load test" $qstatus "$(tail -1 "$out/quant.log")"
for model in "$FIX/g64.safetensors" "$out/g64.int8.safetensors"; do
  lstatus=0
  lout=$(benchmarks/serve/load.sh "$model" 64 3 16 2) || lstatus=1
  echo "$lout"
  check "load test on $(basename "$model"): every request answered 200" $lstatus
  rss1=$(echo "$lout" | sed -n '1s/.*RSS \([0-9]*\) kB.*/\1/p'); rss2=$(echo "$lout" | sed -n '2s/.*RSS \([0-9]*\) kB.*/\1/p')
  rstatus=0
  [ -n "$rss1" ] && [ -n "$rss2" ] && [ "$rss2" -le $((rss1 + 8192)) ] || rstatus=1
  check "load test on $(basename "$model"): RSS after round 2 within 8 MB of round 1" $rstatus "$rss1 -> $rss2 kB"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
