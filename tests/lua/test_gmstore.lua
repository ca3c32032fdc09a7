-- The LuaJIT binding's tests, run by `make test-lua`:
--   luajit tests/lua/test_gmstore.lua <scratch dir>
package.path = "bindings/lua/?.lua;" .. package.path
local ffi = require("ffi")
local gmstore = require("gmstore")

local passed, failed = 0, 0
local function check(ok, what)
  if ok then passed = passed + 1 else failed = failed + 1; io.stderr:write("FAILED: " .. what .. "\n") end
end

local function raises(fn)
  local ok, err = pcall(fn)
  if ok then return nil end
  return err
end

local dir = assert(arg[1], "usage: test_gmstore.lua DIR")
local path = dir .. "/lua.db"
os.remove(path)
local store = gmstore.open(path)

-- every struct's size as the C compiler makes it
local structs = {}
for name in require("gmstore_cdef"):gmatch("typedef struct (gm_[%w_]+) {") do structs[#structs + 1] = name end
local src = io.open(dir .. "/sizes.c", "w")
src:write('#include <stdio.h>\n#include "gmstore.h"\nint main(void) {\n')
for _, name in ipairs(structs) do src:write(('printf("%%zu\\n", sizeof(%s));\n'):format(name)) end
src:write("return 0; }\n")
src:close()
assert(os.execute("cc -Wall -Werror -Iinclude " .. dir .. "/sizes.c -o " .. dir .. "/sizes") == 0)
local sizes_ok, i = #structs >= 30, 0
for line in io.popen(dir .. "/sizes"):lines() do
  i = i + 1
  if tonumber(line) ~= ffi.sizeof(structs[i]) then sizes_ok = false; io.stderr:write(structs[i] .. " differs\n") end
end
check(sizes_ok and i == #structs, "struct sizes match the C compiler (" .. #structs .. " structs)")
check(gmstore.version() == "0.2.0" and gmstore.C.gm_version() == 2000, "version")
check(gmstore.C.GM_ERR_INVALID_ARGUMENT == 2 and gmstore.C.GM_DTYPE_F32 == 10, "enum constants visible")

-- episodes: bytes with NULs survive, UTF-8 both ways
local data = "\0\1\2\255\0"
local id = store:store_episode(data, 0.85, "niveau_é_日本", '{"seed": 7}', 1234.5)
local e = store:get_episode(id)
check(e.experience_data == data and e.performance_score == 0.85 and e.timestamp == 1234.5 and
      e.context_hash == "niveau_é_日本" and e.metadata == '{"seed": 7}', "episode round trip")
check(store:get_episode(987654) == nil, "missing episode is nil")
local view = store:episode_view(id)
check(tonumber(view.id) == id and tonumber(view.experience_len) == 5, "episode view (gc-owned cdata)")
store:store_episode("x", 0.2, "ctx")
store:store_episode("y", 0.9, "ctx")
local by_ctx = store:get_episodes_by_context("ctx", 10, 0.5)
check(#by_ctx == 1 and by_ctx[1].experience_data == "y", "context query with min score")
check(store:count_episodes() == 3 and #store:get_recent_episodes(1e12, 10) == 3, "counts")

-- concepts, search and the graph: floats bit-exact
local a = store:store_concept("sword", { 0.1, -2.5, 1e-45, 3.4028234663852886e38 })
local b = store:store_concept("shield", { 1, 0, 0, 0 })
local c = store:get_concept_by_name("sword")
check(c.embedding[1] == tonumber(ffi.new("float", 0.1)) and c.embedding[4] == 3.4028234663852886e38 and
      c.access_count == 1, "concept floats bit-exact")
check(store:get_concept(424242) == nil and store:get_concept(a).name == "sword", "concept by id")
check(#store:search_concepts("sh%", 10) == 1 and store:embedding_dim() == 4, "search and dimension")
local near = store:nearest_concepts({ 1, 0, 0, 0 }, 1)
check(near[1].id == b and math.abs(near[1].score - 1) < 1e-9, "nearest concept")
store:add_relationship(a, b, "defends", 0.5)
check(store:get_relationships(a)[1].target_id == b, "relationship")
local ids, strength = store:strongest_path(a, b)
check(ids[1] == a and ids[2] == b and strength == 0.5, "strongest path")
check(store:strongest_path(b, a) == nil, "no path is nil")

-- learning
for _, d in ipairs({ 1.0, 2.0, 3.0, 4.0 }) do store:store_learning_event("task", d, "four", nil, d) end
store:store_learning_event("task", 10.0, "once")
check(store:get_best_strategies("task")[1].strategy == "once", "best strategies")
local stats = store:strategy_stats("task", { order = "lower_bound" })
check(stats[1].strategy == "four" and stats[1].count == 4 and stats[1].mean == 2.5 and
      math.abs(stats[1].ci_low - (2.5 - 3.182446305284263 * math.sqrt(5 / 3) / 2)) < 1e-12 and
      stats[2].std_dev ~= stats[2].std_dev, "strategy stats (lower-bound order, NaN spread for one use)")
local pick = store:suggest_strategy("task", { "four", "fresh" })
check(pick.strategy == "fresh" and pick.candidate_index == 2 and pick.score == math.huge, "UCB1 tries the untried")
check(store:suggest_strategy("task", nil, "thompson", 42).strategy == store:suggest_strategy("task", nil, "thompson", 42).strategy,
      "Thompson is seeded")

-- SQL, transactions, maintenance
check(store:execute("UPDATE episodes SET metadata = ? WHERE context_hash = ?", '{"k": 1}', "ctx") == 2, "execute")
local before = store:count_episodes()
local err = raises(function()
  store:transaction(function(s) s:store_episode("z", 0.5, "tx"); error("abort") end)
end)
check(err ~= nil and store:count_episodes() == before, "a raising transaction rolls back")
store:transaction(function(s) s:store_episode("z", 0.5, "tx") end)
check(store:count_episodes() == before + 1, "a transaction commits")
store:begin()
store:store_episode("w", 0.5, "tx")
local token = store:detach()
local co = coroutine.wrap(function() store:attach(token); store:commit() end)
co()
check(store:count_episodes() == before + 2, "detach and attach")
local problems, report = store:integrity_check()
check(problems == 0 and report == "ok", "integrity")
local backup = store:create_backup(dir .. "/lua_backup.db")
check(io.open(backup, "rb") ~= nil, "backup")
check(store:stats().episodes_count == before + 2, "stats")

-- bad input: status and message, nothing stored
local count = store:count_episodes()
err = raises(function() store:store_episode("x", 0 / 0, "c") end)
check(getmetatable(err) == gmstore.Error and err.status == "GM_ERR_INVALID_ARGUMENT" and err.code == 2 and
      err.message:find("performance_score", 1, true) and tostring(err):find("^GM_ERR_INVALID_ARGUMENT: "),
      "NaN score refused with status and message")
err = raises(function() store:store_concept("x", { 1, 2 }) end)
check(err and err.message:find("dimension", 1, true), "wrong dimension refused")
err = raises(function() store:add_relationship(a, 424242, "r", 0.5) end)
check(err and err.status == "GM_ERR_NOT_FOUND", "missing target")
err = raises(function() store:suggest_strategy("task", {}) end)
check(err and err.message:find("candidates", 1, true), "empty candidate list refused")
err = raises(function() store:store_episode("x", 1, "a\0b") end)
check(type(err) == "string" and err:find("context_hash", 1, true), "NUL inside a string refused")
err = raises(function() store:commit() end)
check(err and err.status == "GM_ERR_MISUSE", "commit without a transaction")
err = raises(function() gmstore.open(dir) end)
check(err and err.message:find("directory", 1, true), "opening a directory refused")
check(store:count_episodes() == count, "nothing stored by bad calls")

-- results are freed by the GC: many views, then a full collection
for i = 1, 20000 do store:episode_view(id) end
collectgarbage("collect")
check(store:get_episode(id).experience_data == data, "gc-freed views")
store:close()
err = raises(function() store:count_episodes() end)
check(err ~= nil, "a closed store refuses calls")

-- the k-NN matrix written at close is what the next handle's first search reads
local knn_path, snap = dir .. "/lua_knn.db", dir .. "/lua_knn.snap"
os.remove(knn_path)
os.remove(snap)
local k1 = gmstore.open(knn_path)
for i = 0, 19 do k1:store_concept("k" .. i, { i, 1, 0, 0 }) end
k1:set_knn_snapshot(snap)
check(k1:knn_matrix_source() == "not loaded", "matrix not loaded yet")
check(k1:nearest_concepts({ 19, 1, 0, 0 }, 1, "l2")[1].name == "k19", "nearest")
check(k1:knn_matrix_source() == "built", "matrix built")
k1:close()
local k2 = gmstore.open(knn_path)
k2:set_knn_snapshot(snap)
check(k2:nearest_concepts({ 7, 1, 0, 0 }, 1, "l2")[1].name == "k7", "nearest from the snapshot")
check(k2:knn_matrix_source() == "snapshot", "matrix read from the snapshot")
check(k2:save_knn_snapshot() == false, "nothing changed since")
k2:close()

-- replay sampling: actor priorities, draws without repeats, stale updates,
-- a checkpointed generator state
local replay_path = dir .. "/lua_replay.db"
os.remove(replay_path)
local r = gmstore.open(replay_path)
local ids = {}
for i = 1, 5 do ids[i] = r:store_episode("\1", i, i <= 4 and "play" or "other") end
check(r:set_episode_priorities({ ids[1] }, { 0 }) == 1, "actor priority stored")
local sampler = r:sampler({ alpha = 1.0, context = "play", seed = 3 })
local batch, size = sampler:sample(3, 0.5, false)
check(size == 4, "the sampler holds the context's episodes")
check(batch[1].id ~= batch[2].id and batch[2].id ~= batch[3].id and batch[1].id ~= batch[3].id, "no repeats")
for _, s in ipairs(batch) do
  check(s.id ~= ids[1] and math.abs(s.probability - 1 / 3) < 1e-12, "drawn at the maximum")
end
local stale = sampler:update_priorities({
  { id = batch[1].id, generation = batch[1].generation, priority = 2 },
  { id = batch[2].id, generation = batch[2].generation + 1, priority = 9 },
})
check(#stale == 1 and stale[1] == 2, "a wrong generation is stale")
check(sampler:flush() == 1, "one priority written")
local drawn, _, drawn_episodes = sampler:sample_episodes(5)
local aligned = #drawn_episodes == 5
for i = 1, 5 do aligned = aligned and drawn_episodes[i].id == drawn[i].id end
check(aligned, "episodes come with their samples, in draw order")
local state = sampler:rng_state()
check(#state == 32, "32-byte generator state")
local first = sampler:sample(8)
sampler:set_rng_state(state)
local again = sampler:sample(8)
local same = true
for i = 1, 8 do same = same and first[i].id == again[i].id end
check(same, "a saved generator state repeats the draws")
err = raises(function() sampler:sample(1, -1) end)
check(err ~= nil and err.message:find("beta", 1, true) ~= nil, "negative beta refused, naming beta")
sampler:close()
sampler:close()
r:close()

-- retention: the oldest evictable episode goes, a protected one stays,
-- a prune lists before it evicts
local keep_path = dir .. "/lua_retention.db"
os.remove(keep_path)
local k = gmstore.open(keep_path)
check(k:set_retention_policy({ max_episodes = 2, protect = { "demo", "true" } }).by_count == 0, "policy set")
local demo = k:store_episode("\1", 0, "play", '{"demo": true}')
local oldest = k:store_episode("\1", 0, "play")
k:store_episode("\1", 0, "play")
k:store_episode("\1", 0, "play")
check(k:last_evictions().by_count == 1, "the third unprotected episode evicts one")
check(k:get_episode(oldest) == nil and k:get_episode(demo) ~= nil, "the oldest went, the demonstration stayed")
k:execute("INSERT INTO episodes(timestamp, experience_data, performance_score, context_hash) VALUES (1, x'00', 0, 'raw')")
local planned, plan = k:prune(true)
check(#planned == 1 and plan.by_count == 1 and k:count_episodes() == 4, "a dry run lists and keeps")
local pruned = k:prune(false)
check(#pruned == 1 and pruned[1] == planned[1] and k:count_episodes() == 3, "a prune evicts the same")
err = raises(function() k:set_retention_policy({ max_episodes = 1, order = "newest" }) end)
check(err ~= nil and tostring(err):find("order", 1, true) ~= nil, "an unknown order refused, naming it")
err = raises(function() k:set_retention_policy({ max_episodes = -1 }) end)
check(err ~= nil and err.message:find("max_episodes", 1, true) ~= nil, "a negative maximum refused, naming it")
k:clear_retention_policy()
k:close()

print(passed .. " passed, " .. failed .. " failed")
os.exit(failed == 0 and 0 or 1)
