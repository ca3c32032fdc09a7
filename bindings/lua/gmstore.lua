-- gmstore for LuaJIT (LÖVE, Defold, OpenResty, plain luajit).
--
--   local gmstore = require("gmstore")          -- gmstore_cdef.lua beside it
--   local store = gmstore.open("memory.db")
--   local id = store:store_episode("\0\1\2", 0.85, "level_1")
--   print(store:get_episode(id).performance_score)
--
-- Over the generated declarations in gmstore_cdef.lua (do not edit that
-- file: `make header` writes it from include/gmstore.h). Every result the
-- library allocates is handed to ffi.gc at once, so the garbage collector
-- frees it; the friendly calls copy what they return into Lua values and
-- free at once. Errors are raised as a table {code=, status=, message=}
-- whose tostring is "GM_ERR_x: message". Ownership and threads:
-- docs/ABI.md. gmstore.C is the raw library for anything not wrapped here.

local ffi = require("ffi")
ffi.cdef(require("gmstore_cdef"))

local function load_library()
  local path = os.getenv("GMSTORE_LIB")
  if path then return ffi.load(path) end
  local ok, lib = pcall(ffi.load, "gmstore")
  if ok then return lib end
  return ffi.load("libgmstore.so.0")
end

local C = load_library()
local M = { C = C }

local Error = {}
Error.__index = Error
Error.__tostring = function(e) return e.status .. ": " .. e.message end
M.Error = Error

local function raise(code)
  error(setmetatable({
    code = tonumber(code),
    status = ffi.string(C.gm_status_name(code)),
    message = ffi.string(C.gm_last_error_message()),
  }, Error), 3)
end

local function check(code)
  if code ~= C.GM_OK then raise(code) end
end

-- One reusable out-parameter of each kind (calls copy out of them at once).
local out_ptr = ffi.new("void*[1]")
local out_i64 = ffi.new("int64_t[1]")
local out_u64 = ffi.new("uint64_t[1]")
local out_size = ffi.new("size_t[1]")

local function text(s, field)
  if s == nil then return nil end
  if type(s) ~= "string" then error(field .. ": must be a string, got " .. type(s), 3) end
  if s:find("\0", 1, true) then error(field .. ": must not contain NUL bytes", 3) end
  return s
end

local function opt_double(v)
  if v == nil then return nil end
  return ffi.new("double[1]", v)
end

local function span(p, n) return ffi.string(p, n) end

-- Takes ownership of a result pointer (written to out_ptr by the call).
local function take(ctype, free)
  local p = ffi.cast(ctype, out_ptr[0])
  if p == nil then return nil end
  return ffi.gc(p, free)
end

local function release(p, free)
  ffi.gc(p, nil)
  free(p)
end

local function episode_table(e)
  return {
    id = tonumber(e.id), timestamp = e.timestamp, performance_score = e.performance_score,
    created_at = e.created_at, experience_data = span(e.experience_data, e.experience_len),
    context_hash = span(e.context_hash, e.context_hash_len), metadata = span(e.metadata, e.metadata_len),
  }
end

local function concept_table(c)
  local embedding = {}
  for i = 0, tonumber(c.embedding_len) - 1 do embedding[i + 1] = c.embedding[i] end
  return {
    id = tonumber(c.id), name = span(c.name, c.name_len), embedding = embedding,
    creation_time = c.creation_time, access_count = tonumber(c.access_count), last_accessed = c.last_accessed,
    metadata = span(c.metadata, c.metadata_len),
  }
end

-- Copies a gm_*_list into a Lua array with `convert`, then frees it.
local function list(ctype, free, convert)
  local l = take(ctype, free)
  local result = {}
  for i = 0, tonumber(l.len) - 1 do result[i + 1] = convert(l.items[i]) end
  release(l, free)
  return result
end

local Store = {}
Store.__index = Store

--- Opens (or creates) a store. `options` may set any gm_options field.
function M.open(path, options)
  local opts = nil
  if options then
    opts = ffi.new("gm_options[1]")
    check(C.gm_options_init(opts))
    for k, v in pairs(options) do opts[0][k] = v end
  end
  local handle = ffi.new("gm_store*[1]")
  check(C.gm_open(text(path, "path"), opts, handle))
  return setmetatable({ handle = ffi.gc(handle[0], C.gm_close) }, Store)
end

function M.version() return ffi.string(C.gm_version_string()) end
function M.sqlite_version() return ffi.string(C.gm_sqlite_version()) end

--- Closes the store now (the garbage collector would otherwise).
function Store:close()
  if self.handle ~= nil then
    release(self.handle, C.gm_close)
    self.handle = nil
  end
end

function Store:h()
  if self.handle == nil then error("the store is closed", 3) end
  return self.handle
end

-- ---- episodes ----

function Store:store_episode(experience, performance_score, context_hash, metadata_json, timestamp)
  if type(experience) ~= "string" then error("experience_data: must be a string of bytes", 2) end
  local e = ffi.new("gm_episode_input")
  e.experience_data = ffi.cast("const uint8_t*", experience)
  e.experience_len = #experience
  e.performance_score = performance_score
  e.context_hash = text(context_hash, "context_hash")
  e.metadata = text(metadata_json, "metadata")
  if timestamp then e.timestamp, e.has_timestamp = timestamp, 1 end
  check(C.gm_store_episode(self:h(), e, out_i64))
  return tonumber(out_i64[0])
end

--- The episode as a table, or nil when there is none with this id.
function Store:get_episode(id)
  local status = C.gm_get_episode(self:h(), id, ffi.cast("gm_episode**", out_ptr))
  if status == C.GM_ERR_NOT_FOUND then return nil end
  check(status)
  local e = take("gm_episode*", C.gm_episode_free)
  local t = episode_table(e)
  release(e, C.gm_episode_free)
  return t
end

--- The episode as gm_episode* cdata without copying, freed by the GC.
function Store:episode_view(id)
  check(C.gm_get_episode(self:h(), id, ffi.cast("gm_episode**", out_ptr)))
  return take("gm_episode*", C.gm_episode_free)
end

function Store:get_episodes_by_context(context_hash, limit, min_score)
  check(C.gm_get_episodes_by_context(self:h(), text(context_hash, "context_hash"), limit or 100,
    opt_double(min_score), ffi.cast("gm_episode_list**", out_ptr)))
  return list("gm_episode_list*", C.gm_episode_list_free, episode_table)
end

function Store:get_recent_episodes(time_window, limit)
  check(C.gm_get_recent_episodes(self:h(), time_window or 3600, limit or 100, ffi.cast("gm_episode_list**", out_ptr)))
  return list("gm_episode_list*", C.gm_episode_list_free, episode_table)
end

function Store:count_episodes()
  check(C.gm_count_episodes(self:h(), out_i64))
  return tonumber(out_i64[0])
end

-- ---- concepts and the graph ----

function Store:store_concept(name, embedding, metadata_json, creation_time)
  local v = ffi.new("float[?]", #embedding, embedding)
  check(C.gm_store_concept(self:h(), text(name, "name"), v, #embedding, text(metadata_json, "metadata"),
    opt_double(creation_time), out_i64))
  return tonumber(out_i64[0])
end

local function one_concept(status)
  if status == C.GM_ERR_NOT_FOUND then return nil end
  check(status)
  local c = take("gm_concept*", C.gm_concept_free)
  local t = concept_table(c)
  release(c, C.gm_concept_free)
  return t
end

function Store:get_concept(id)
  return one_concept(C.gm_get_concept(self:h(), id, ffi.cast("gm_concept**", out_ptr)))
end

function Store:get_concept_by_name(name)
  return one_concept(C.gm_get_concept_by_name(self:h(), text(name, "name"), ffi.cast("gm_concept**", out_ptr)))
end

function Store:search_concepts(query, limit)
  check(C.gm_search_concepts(self:h(), text(query, "query"), limit or 10, ffi.cast("gm_concept_list**", out_ptr)))
  return list("gm_concept_list*", C.gm_concept_list_free, concept_table)
end

--- k nearest concepts: { {id=, name=, score=}, ... }, best first.
function Store:nearest_concepts(query, k, metric)
  local q = ffi.new("float[?]", #query, query)
  local code = ({ cosine = C.GM_METRIC_COSINE, dot = C.GM_METRIC_DOT, l2 = C.GM_METRIC_L2 })[metric or "cosine"]
  if not code then error("metric: must be cosine, dot or l2", 2) end
  check(C.gm_nearest_concepts(self:h(), q, #query, code, k or 10, nil, ffi.cast("gm_neighbor_list**", out_ptr)))
  return list("gm_neighbor_list*", C.gm_neighbor_list_free, function(n)
    return { id = tonumber(n.id), name = span(n.name, n.name_len), score = n.score }
  end)
end

--- Keeps the k-NN matrix in the file at `path` (nil: in no file): the next
--- search reads it instead of every concept if it is an intact snapshot of
--- this store; close writes it back. A cache: delete it at will.
function Store:set_knn_snapshot(path)
  check(C.gm_set_knn_snapshot(self:h(), path ~= nil and text(path, "path") or nil))
end

--- Writes the k-NN matrix to the snapshot file now if its rows changed;
--- true if it wrote.
function Store:save_knn_snapshot()
  local saved = ffi.new("uint8_t[1]")
  check(C.gm_save_knn_snapshot(self:h(), saved))
  return saved[0] == 1
end

--- "not loaded", "built" or "snapshot": where the k-NN matrix came from.
function Store:knn_matrix_source()
  local source = ffi.new("uint32_t[1]")
  check(C.gm_knn_matrix_source(self:h(), source))
  return ({ [C.GM_MATRIX_BUILT] = "built", [C.GM_MATRIX_SNAPSHOT] = "snapshot" })[tonumber(source[0])]
    or "not loaded"
end

--- Replay sampling: a sampler over this store's episodes, drawn in
--- proportion to priority^alpha (opts.alpha, default 0.6; opts.uniform =
--- true draws every episode alike), optionally opts.context and
--- opts.min_score / opts.max_score; opts.seed seeds it. An episode without
--- a priority of its own counts at the current maximum.
local Sampler = {}
Sampler.__index = Sampler
local RNG_STATE_BYTES = 32 -- GM_RNG_STATE_BYTES (a macro, which the cdef cannot see)

function Store:sampler(opts)
  opts = opts or {}
  local c = ffi.new("gm_sampler_config")
  if opts.uniform then
    c.weighting = C.GM_WEIGHTING_UNIFORM
  else
    c.weighting, c.alpha = C.GM_WEIGHTING_PRIORITIZED, opts.alpha or 0.6
  end
  local context = text(opts.context, "context")
  c.context = context
  if opts.min_score ~= nil then c.has_min_score, c.min_score = 1, opts.min_score end
  if opts.max_score ~= nil then c.has_max_score, c.max_score = 1, opts.max_score end
  c.seed = opts.seed or 0
  check(C.gm_sampler_new(self:h(), c, ffi.cast("gm_sampler**", out_ptr)))
  local handle = ffi.cast("gm_sampler*", out_ptr[0])
  -- `context` stays referenced until here; the library copied it.
  return setmetatable({ handle = ffi.gc(handle, C.gm_sampler_free), keep = context }, Sampler)
end

--- Draws `count` episodes (`replace` false: no repeats in the batch);
--- returns an array of { id, generation, probability, weight } and the
--- number of episodes the sampler held.
function Sampler:sample(count, beta, replace)
  local out = ffi.new("gm_sample[?]", math.max(count, 1))
  check(C.gm_sampler_sample(self.handle, count, beta or 0.4, replace == false and 0 or 1, out, out_u64))
  local batch = {}
  for i = 0, count - 1 do
    local s = out[i]
    batch[i + 1] = { id = tonumber(s.id), generation = s.generation, probability = s.probability, weight = s.weight }
  end
  return batch, tonumber(out_u64[0])
end

--- As sample, with the drawn episodes (tables as get_episode gives them)
--- in draw order as a third result: one call per learner step.
function Sampler:sample_episodes(count, beta, replace)
  local out = ffi.new("gm_sample[?]", math.max(count, 1))
  check(C.gm_sampler_sample_episodes(self.handle, count, beta or 0.4, replace == false and 0 or 1, out, out_u64,
    ffi.cast("gm_episode_list**", out_ptr)))
  local list = take("gm_episode_list*", C.gm_episode_list_free)
  local batch, episodes = {}, {}
  for i = 0, count - 1 do
    local s = out[i]
    batch[i + 1] = { id = tonumber(s.id), generation = s.generation, probability = s.probability, weight = s.weight }
    episodes[i + 1] = episode_table(list.items[i])
  end
  release(list, C.gm_episode_list_free)
  return batch, tonumber(out_u64[0]), episodes
end

--- Applies { id, generation, priority } updates where (id, generation)
--- still names what was drawn; returns the 1-based indexes that did not.
function Sampler:update_priorities(updates)
  local n = #updates
  local c = ffi.new("gm_priority_update[?]", math.max(n, 1))
  for i, u in ipairs(updates) do
    c[i - 1].id, c[i - 1].generation, c[i - 1].priority = u.id, u.generation, u.priority
  end
  local stale = ffi.new("uint8_t[?]", math.max(n, 1))
  check(C.gm_sampler_update_priorities(self.handle, c, n, stale, nil))
  local result = {}
  for i = 0, n - 1 do
    if stale[i] ~= 0 then result[#result + 1] = i + 1 end
  end
  return result
end

--- Writes pending priority updates now; returns how many.
function Sampler:flush()
  check(C.gm_sampler_flush(self.handle, out_size))
  return tonumber(out_size[0])
end

--- The generator's state (a 32-byte string), to save with a checkpoint.
function Sampler:rng_state()
  local buf = ffi.new("uint8_t[?]", RNG_STATE_BYTES)
  check(C.gm_sampler_rng_state(self.handle, buf, RNG_STATE_BYTES))
  return ffi.string(buf, RNG_STATE_BYTES)
end

--- Continues from a state `rng_state` returned.
function Sampler:set_rng_state(state)
  check(C.gm_sampler_set_rng_state(self.handle, state, #state))
end

--- Writes pending updates and frees the sampler. Idempotent.
function Sampler:close()
  if self.handle ~= nil then
    local h = self.handle
    self.handle = nil
    ffi.gc(h, nil)
    C.gm_sampler_free(h)
  end
end

--- Gives episodes priorities of their own (arrays of ids and priorities);
--- returns how many got one.
function Store:set_episode_priorities(ids, priorities)
  local n = #ids
  if #priorities ~= n then error("priorities: as many as ids, got " .. #priorities .. " for " .. n, 2) end
  local cids, cp = ffi.new("int64_t[?]", math.max(n, 1)), ffi.new("double[?]", math.max(n, 1))
  for i = 1, n do cids[i - 1], cp[i - 1] = ids[i], priorities[i] end
  check(C.gm_set_episode_priorities(self:h(), cids, cp, n, out_size))
  return tonumber(out_size[0])
end

--- Retention: a budget for the episodes, applied inside every episode
--- write. opts: max_episodes, max_experience_bytes, max_age_seconds,
--- keep_top_k (top_k_per_context = true for one per context),
--- protect = { key, json_value } (e.g. { "demonstration", "true" }),
--- order = "oldest" | "lowest_score" | "lowest_priority", eviction_batch.
--- Applies it at once; returns what that evicted. No limit removes it.
local EVICTION_ORDERS = { oldest = 0, lowest_score = 1, lowest_priority = 2 } -- GM_EVICT_* (macros)

local function evictions_table(e)
  return { by_age = tonumber(e.by_age), by_top_k = tonumber(e.by_top_k), by_count = tonumber(e.by_count),
           by_bytes = tonumber(e.by_bytes) }
end

function Store:set_retention_policy(opts)
  opts = opts or {}
  local p = ffi.new("gm_retention_policy")
  C.gm_retention_policy_init(p)
  local order = EVICTION_ORDERS[opts.order or "oldest"]
  if order == nil then error("order: " .. tostring(opts.order) .. " is not oldest, lowest_score or lowest_priority", 2) end
  p.order = order
  if opts.max_episodes ~= nil then p.has_max_episodes, p.max_episodes = 1, opts.max_episodes end
  if opts.max_experience_bytes ~= nil then
    p.has_max_experience_bytes, p.max_experience_bytes = 1, opts.max_experience_bytes
  end
  if opts.max_age_seconds ~= nil then p.has_max_age_seconds, p.max_age_seconds = 1, opts.max_age_seconds end
  if opts.keep_top_k ~= nil then p.has_keep_top_k, p.keep_top_k = 1, opts.keep_top_k end
  p.top_k_per_context = opts.top_k_per_context and 1 or 0
  p.eviction_batch = opts.eviction_batch or 0
  local key, value
  if opts.protect ~= nil then
    key, value = text(opts.protect[1], "protect_key"), text(opts.protect[2], "protect_value")
    p.protect_key, p.protect_value = key, value
  end
  local evicted = ffi.new("gm_evictions")
  check(C.gm_set_retention_policy(self:h(), p, evicted))
  return evictions_table(evicted)
end

--- Removes the retention policy.
function Store:clear_retention_policy()
  check(C.gm_set_retention_policy(self:h(), nil, nil))
end

--- What this thread's last episode write on this store evicted, by rule.
function Store:last_evictions()
  local evicted = ffi.new("gm_evictions")
  check(C.gm_last_evictions(self:h(), evicted))
  return evictions_table(evicted)
end

--- Evicts what the policy no longer allows (dry_run: only lists it);
--- returns the ids in eviction order and the counts by rule.
function Store:prune(dry_run)
  check(C.gm_prune(self:h(), dry_run and 1 or 0, ffi.cast("gm_pruned**", out_ptr)))
  local r = take("gm_pruned*", C.gm_pruned_free)
  local ids = {}
  for i = 0, tonumber(r.count) - 1 do ids[i + 1] = tonumber(r.ids[i]) end
  local evicted = evictions_table(r.evictions)
  release(r, C.gm_pruned_free)
  return ids, evicted
end

function Store:add_relationship(source_id, target_id, relationship_type, strength)
  check(C.gm_add_relationship(self:h(), source_id, target_id, text(relationship_type, "relationship_type"),
    strength or 1.0))
end

function Store:get_relationships(concept_id, relationship_type)
  check(C.gm_get_relationships(self:h(), concept_id, text(relationship_type, "relationship_type"),
    ffi.cast("gm_relationship_list**", out_ptr)))
  return list("gm_relationship_list*", C.gm_relationship_list_free, function(r)
    return { target_id = tonumber(r.target_id), strength = r.strength,
             relationship_type = span(r.relationship_type, r.relationship_type_len) }
  end)
end

--- The strongest path: ids (a Lua array) and the product of strengths, or nil.
function Store:strongest_path(from_id, to_id, relationship_type, min_strength)
  check(C.gm_strongest_path(self:h(), from_id, to_id, text(relationship_type, "relationship_type"),
    min_strength or 0, ffi.cast("gm_path**", out_ptr)))
  local p = take("gm_path*", C.gm_path_free)
  if p == nil then return nil end
  local ids = {}
  for i = 0, tonumber(p.len) - 1 do ids[i + 1] = tonumber(p.ids[i]) end
  local strength = p.strength
  release(p, C.gm_path_free)
  return ids, strength
end

-- ---- learning ----

function Store:store_learning_event(task_type, performance_delta, strategy_used, parameters_json, timestamp)
  check(C.gm_store_learning_event(self:h(), text(task_type, "task_type"), performance_delta,
    text(strategy_used, "strategy_used"), text(parameters_json, "parameters"), opt_double(timestamp), out_i64))
  return tonumber(out_i64[0])
end

function Store:get_best_strategies(task_type, limit)
  check(C.gm_get_best_strategies(self:h(), text(task_type, "task_type"), limit or 10,
    ffi.cast("gm_strategy_list**", out_ptr)))
  return list("gm_strategy_list*", C.gm_strategy_list_free, function(s)
    return { strategy = span(s.strategy, s.strategy_len), avg_delta = s.avg_delta, usage_count = tonumber(s.usage_count) }
  end)
end

function Store:strategy_stats(task_type, query)
  local q = nil
  if query then
    q = ffi.new("gm_strategy_query")
    if query.since then q.since, q.has_since = query.since, 1 end
    q.order = query.order == "lower_bound" and C.GM_STRATEGY_ORDER_LOWER_BOUND or C.GM_STRATEGY_ORDER_MEAN
    q.min_count, q.limit = query.min_count or 0, query.limit or 0
  end
  check(C.gm_strategy_stats(self:h(), text(task_type, "task_type"), q, ffi.cast("gm_strategy_summary_list**", out_ptr)))
  return list("gm_strategy_summary_list*", C.gm_strategy_summary_list_free, function(s)
    return { strategy = span(s.strategy, s.strategy_len), count = tonumber(s.count), mean = s.mean,
             std_dev = s.std_dev, std_error = s.std_error, ci_low = s.ci_low, ci_high = s.ci_high,
             first_used = s.first_used, last_used = s.last_used }
  end)
end

--- The strategy to try next: {strategy=, score=, count=, mean=, candidate_index=}
--- (a 1-based index into `candidates`, or nil). method: "ucb1" or "thompson".
function Store:suggest_strategy(task_type, candidates, method, seed)
  local names, n = nil, 0
  if candidates then
    n = #candidates
    names = ffi.new("const char*[?]", math.max(n, 1))
    for i, c in ipairs(candidates) do names[i - 1] = text(c, "candidates[" .. (i - 1) .. "]") end
  end
  local o = ffi.new("gm_suggest_options")
  o.method = method == "thompson" and C.GM_SUGGEST_THOMPSON or C.GM_SUGGEST_UCB1
  o.seed = seed or 0
  check(C.gm_suggest_strategy(self:h(), text(task_type, "task_type"), names, n, o, ffi.cast("gm_suggestion**", out_ptr)))
  local s = take("gm_suggestion*", C.gm_suggestion_free)
  local t = { strategy = span(s.strategy, s.strategy_len), score = s.score, count = tonumber(s.count), mean = s.mean,
              candidate_index = s.candidate_index >= 0 and tonumber(s.candidate_index) + 1 or nil }
  release(s, C.gm_suggestion_free)
  return t
end

-- ---- SQL, maintenance, transactions ----

--- One SQL statement with bound parameters (numbers, strings, true/false, nil
--- needs gmstore.NULL); returns the rows changed. Integers pass as int64.
M.NULL = setmetatable({}, { __tostring = function() return "gmstore.NULL" end })
function Store:execute(sql, ...)
  local args = { ... }
  local values = ffi.new("gm_value[?]", math.max(#args, 1))
  for i, v in ipairs(args) do
    local slot = values[i - 1]
    if v == M.NULL then slot.kind = C.GM_VALUE_NULL
    elseif type(v) == "number" and v == math.floor(v) and math.abs(v) < 2^53 then
      slot.kind, slot.int_value = C.GM_VALUE_INTEGER, v
    elseif type(v) == "number" then slot.kind, slot.real_value = C.GM_VALUE_REAL, v
    elseif type(v) == "string" then slot.kind, slot.data, slot.len = C.GM_VALUE_TEXT, ffi.cast("const uint8_t*", v), #v
    else error("params[" .. (i - 1) .. "]: a " .. type(v) .. " cannot be bound", 2) end
  end
  check(C.gm_execute(self:h(), text(sql, "sql"), values, #args, out_i64))
  return tonumber(out_i64[0])
end

function Store:stats()
  check(C.gm_get_stats(self:h(), ffi.cast("gm_stats**", out_ptr)))
  local s = take("gm_stats*", C.gm_stats_free)
  local t = {}
  for _, k in ipairs({ "episodes_count", "concepts_count", "learning_events_count", "relationships_count",
                       "schema_version", "page_size", "page_count", "freelist_count" }) do
    t[k] = tonumber(s[k])
  end
  t.db_size_mb, t.embedding_dim = s.db_size_mb, tonumber(s.embedding_dim)
  release(s, C.gm_stats_free)
  return t
end

local function take_string()
  local p = ffi.cast("char*", out_ptr[0])
  if p == nil then return nil end
  local s = ffi.string(p)
  C.gm_string_free(p)
  return s
end

function Store:create_backup(path)
  check(C.gm_create_backup(self:h(), text(path, "backup_path"), ffi.cast("char**", out_ptr)))
  return take_string()
end

function Store:integrity_check()
  check(C.gm_integrity_check(self:h(), out_i64, ffi.cast("char**", out_ptr)))
  return tonumber(out_i64[0]), take_string()
end

function Store:begin() check(C.gm_begin(self:h())) end
function Store:commit() check(C.gm_commit(self:h())) end
function Store:rollback() check(C.gm_rollback(self:h())) end

--- Runs fn(store) in a transaction: commits when it returns, rolls back
--- and re-raises when it raises. Nests (inner ones are savepoints).
function Store:transaction(fn)
  self:begin()
  local ok, err = pcall(fn, self)
  if ok then self:commit() else self:rollback(); error(err, 0) end
end

--- Hands this thread's open transaction to a coroutine scheduler or
--- another thread: detach returns a token, attach(token) continues it.
function Store:detach()
  check(C.gm_transaction_detach(self:h(), out_u64))
  return out_u64[0]
end
function Store:attach(token) check(C.gm_transaction_attach(self:h(), token)) end

function Store:embedding_dim()
  check(C.gm_embedding_dim(self:h(), out_size))
  return tonumber(out_size[0])
end

return M
