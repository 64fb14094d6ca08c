-- wrk: GET /image.png with random seeds and indices (every request a cache miss), each wrk
-- thread seeded differently. Prints one summary line at the end.
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
end

function request()
  return wrk.format("GET", "/image.png?seed=" .. math.random(0, 2147483646) .. "&index=" .. math.random(0, 4095))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk: requests %d, socket errors %d, non-2xx %d, %.1f requests/s, p50 %.2f ms, " ..
                         "p99 %.2f ms\n", summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
                         summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000))
end
