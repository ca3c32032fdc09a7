-- A LÖVE-style game loop remembering what happened: love.load opens the
-- memory, love.update runs every frame, love.draw would show the summary.
-- Run as a plain LuaJIT program (it drives the callbacks itself):
--   luajit examples/lua/love_loop.lua memory.db
-- In a LÖVE game, copy bindings/lua/gmstore*.lua next to main.lua and keep
-- only the callbacks.
package.path = "bindings/lua/?.lua;" .. package.path
local gmstore = require("gmstore")

local love = {}
local memory, frame, zone = nil, 0, "meadow"
local rewards = { meadow = 0.2, cave = 0.9, river = 0.5 }

function love.load(path)
  memory = gmstore.open(path)
end

function love.update(dt)
  frame = frame + 1
  local reward = rewards[zone] + (math.random() - 0.5) * 0.2
  memory:store_episode(string.format('{"zone": "%s", "frame": %d}', zone, frame), reward, zone)
  memory:store_learning_event("explore", reward, zone)
  if frame % 30 == 0 then
    zone = memory:suggest_strategy("explore", { "meadow", "cave", "river" }, "thompson", frame).strategy
  end
end

function love.draw()
  for _, s in ipairs(memory:strategy_stats("explore")) do
    print(string.format("%-7s %4d visits, mean %.3f, 95%% CI [%.3f, %.3f]", s.strategy, s.count, s.mean, s.ci_low, s.ci_high))
  end
end

math.randomseed(11)
love.load(arg[1] or "memory.db")
for _ = 1, 600 do love.update(1 / 60) end
love.draw()
local best = memory:strategy_stats("explore")[1].strategy
local episodes = memory:count_episodes()
memory:close()
local ok = best == "cave" and episodes >= 600
print(ok and ("Lua loop: ok (" .. episodes .. " episodes)") or "Lua loop: UNEXPECTED RESULT")
os.exit(ok and 0 or 1)
