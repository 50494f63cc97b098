-- wrk done() hook: prints one machine-readable line with exact latency percentiles (from
-- wrk's own microsecond-resolution histogram) and the error counters, for bench/http_load.py:
--   WRK_JSON {"requests":...,"duration_us":...,"latency_us":{"p50":...},"errors":{...}}
-- Used directly for GET runs (`wrk -s bench/wrk/report.lua ...`) and loaded by post_agent.lua.

-- Paced mode (http_load.py --rate): each connection waits $PINCER_BENCH_DELAY_MS (mean;
-- rounded stochastically, wrk's timer has 1 ms resolution) after each response before its next
-- request, so the offered load is about connections * 1000 / delay req/s instead of "as fast as
-- possible". Latency is still measured from each request's send (not wrk2's corrected latency).
local delay_ms = tonumber(os.getenv("PINCER_BENCH_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  delay = function()
    local whole = math.floor(delay_ms)
    if math.random() < delay_ms - whole then whole = whole + 1 end
    return whole
  end
end

local function pct(latency, p)
  return latency:percentile(p)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"bytes":%d,"duration_us":%d,' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"p50":%d,"p75":%d,"p90":%d,' ..
    '"p99":%d,"p99_9":%d,"max":%d},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.bytes, summary.duration,
    latency.min, latency.mean, latency.stdev, pct(latency, 50), pct(latency, 75),
    pct(latency, 90), pct(latency, 99), pct(latency, 99.9), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
