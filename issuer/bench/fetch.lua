-- wrk script: GET /v1/retrieve/{code}, codes drawn at random from codes.txt
-- (one retrieval code per line, as `issuer import` writes them).
local codes = {}
for line in io.lines("codes.txt") do codes[#codes + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/retrieve/" .. codes[math.random(#codes)])
end
