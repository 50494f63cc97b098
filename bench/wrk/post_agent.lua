-- wrk script for POST /v1/agents: every request creates an agent.
-- The body comes from $PINCER_BENCH_AGENT_BODY (set by bench/http_load.py) or the default below.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

wrk.method = "POST"
wrk.body = os.getenv("PINCER_BENCH_AGENT_BODY") or
  '{"model":"claude-sonnet-4-5","name":"bench-agent","instructions":"You are a benchmark.",' ..
  '"tools":["bash","read","write"],"permissionPolicy":{"type":"always_ask"}}'
wrk.headers["Content-Type"] = "application/json"
