-- wrk script: GET /api/items/<n> with a changing id, so per-route labelling is exercised
-- with many distinct paths but one route template.
local n = 0
request = function()
  n = (n + 1) % 10000
  return wrk.format("GET", "/api/items/" .. n)
end
