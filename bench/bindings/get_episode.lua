-- Per-call cost of gm_get_episode through the LuaJIT binding: the same loop
-- as get_episode.c, through store:episode_view (gc-owned cdata, no copy) and
-- store:get_episode (copied into a table). Prints ns per call.
package.path = "bindings/lua/?.lua;" .. package.path
local gmstore = require("gmstore")
local ffi = require("ffi")
ffi.cdef("typedef struct { long tv_sec; long tv_nsec; } bench_timespec; int clock_gettime(int, bench_timespec *);")
local ts = ffi.new("bench_timespec")
local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9 end
local store = gmstore.open(arg[1])
local n = tonumber(arg[2])
local sum = 0
for variant = 1, 2 do
  local start
  for i = -math.floor(n / 10), n - 1 do
    if i == 0 then start = now() end
    local id = 1 + math.abs(i) % 1000
    if variant == 1 then
      local e = store:episode_view(id)
      sum = sum + tonumber(e.id)
      gmstore.C.gm_episode_free(ffi.gc(e, nil))
    else
      sum = sum + store:get_episode(id).id
    end
  end
  print((variant == 1 and "lua_view " or "lua_copy ") .. string.format("%.1f", (now() - start) / n * 1e9))
end
store:close()
os.exit(sum > 0 and 0 or 1)
