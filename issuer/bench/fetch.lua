-- wrk script: GET /v1/retrieve/{code} with the retrieval codes in codes.txt
-- (one per line, as `issuer import` writes them). Arguments after `--`:
--   once      each code in file order, one request each: every request is
--             that code's first fetch (the file must hold more codes than
--             the run makes requests, or it starts again from the top)
--   again N   codes drawn at random from the first N lines
local codes = {}
for line in io.lines("codes.txt") do codes[#codes + 1] = line end
local once, limit, at = false, #codes, 0

function init(args)
  if args[1] == "once" then
    once = true
  elseif args[1] == "again" and tonumber(args[2]) then
    limit = math.min(tonumber(args[2]), #codes)
  end
  math.randomseed(os.time())
end

request = function()
  local code
  if once then
    at = at % #codes + 1
    code = codes[at]
  else
    code = codes[math.random(limit)]
  end
  return wrk.format("GET", "/v1/retrieve/" .. code)
end
