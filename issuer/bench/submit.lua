-- wrk script: POST /v1/credentials, one new sample each (a negative PCR
-- test), with the lab token in $ISSUER_BENCH_TOKEN. Argument after `--`:
-- a prefix for the sample ids, so runs never resend a sample.
local token = os.getenv("ISSUER_BENCH_TOKEN") or ""
local prefix, n = "W", 0

function init(args)
  if args[1] then prefix = args[1] end
end

request = function()
  n = n + 1
  local body = string.format(
    '{"sample_id":"%s-%d","kind":"test","holder":{"name":"Person %d","dob":"1990-05-01"},' ..
    '"test":{"test_type":"naat","result":"negative","sampled_at":"%s"}}',
    prefix, n, n, os.date("!%Y-%m-%dT%H:00:00Z", os.time() - 3600))
  return wrk.format("POST", "/v1/credentials", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end
