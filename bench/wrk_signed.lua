-- wrk script: POST pre-signed Stripe events, a distinct event per request.
-- wrk's Lua has no HMAC, so bench/loadgen.py signs the events beforehand into a file of lines
-- "signature<TAB>body"; this script cycles through them (the file holds more than a run sends).
-- Usage: wrk -t1 -c32 -d10s -s bench/wrk_signed.lua http://127.0.0.1:PORT/webhooks/stripe_connect -- FILE

local signatures, bodies = {}, {}
local index = 0

function init(args)
  local f = assert(io.open(args[1], "rb"))
  for line in f:lines() do
    local tab = line:find("\t", 1, true)
    signatures[#signatures + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  f:close()
end

function request()
  index = index + 1
  if index > #bodies then index = 1 end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Stripe-Signature"] = signatures[index]}, bodies[index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"non2xx":%d,"errors":%d,"seconds":%.6f,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
