"""The Lua scripts that change a checkpoint in one step inside Redis.

A script runs to the end with nothing in between, so a claim, a clock change or a rebuild
never skips an attempt that someone wrote meanwhile (WATCH would make us give up or loop)
and never creates half an attempt hash. Times are epoch milliseconds; Lua numbers are
doubles, exact for them, and ``%.0f`` writes them back without an exponent.
"""

from __future__ import annotations

# KEYS[1] attempt hash. ARGV: conn, device, worker, attempt id, events channel.
# Returns {generation, previous worker, previous conn}; generation 0: no such hash.
CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, '', ''} end
local prev = redis.call('HMGET', KEYS[1], 'w', 'conn')
redis.call('HSET', KEYS[1], 'conn', ARGV[1], 'device', ARGV[2], 'w', ARGV[3])
local g = redis.call('HINCRBY', KEYS[1], 'claim_n', 1)
redis.call('PUBLISH', ARGV[5], '{"t":"replaced","a":' .. ARGV[4] .. ',"c":"' .. ARGV[1]
  .. '","g":' .. g .. '}')
return {g, prev[1] or '', prev[2] or ''}
"""

# KEYS[1] deadlines, KEYS[2] changes stream, KEYS[3..] attempt hashes.
# ARGV: action (pause|resume|extend), now, extra ms, events channel, then one id per hash.
# Returns one word per attempt: changed, unchanged, submitted or missing.
CHANGE_CLOCK = """
local action, now, extra = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for i = 3, #KEYS do
  local key, id = KEYS[i], ARGV[i + 2]
  local f = redis.call('HMGET', key, 'submitted', 'starts_ms', 'deadline_ms', 'paused_at_ms')
  if not f[2] then
    out[#out + 1] = 'missing'
  elseif f[1] == '1' then
    out[#out + 1] = 'submitted'
  else
    local deadline, paused = tonumber(f[3]), tonumber(f[4] or '0')
    local nd, np = deadline, paused
    if action == 'pause' then
      if paused == 0 then np = now end
    elseif action == 'resume' then
      if paused ~= 0 then nd = deadline + (now - paused); np = 0 end
    else
      nd = deadline + extra
    end
    if nd == deadline and np == paused then
      out[#out + 1] = 'unchanged'
    else
      local v = redis.call('HINCRBY', key, 'clock_v', 1)
      local sd, sp = string.format('%.0f', nd), string.format('%.0f', np)
      redis.call('HSET', key, 'deadline_ms', sd, 'paused_at_ms', sp)
      if np ~= 0 then redis.call('ZREM', KEYS[1], id) else redis.call('ZADD', KEYS[1], sd, id) end
      local clock = '{"deadline_ms":' .. sd .. ',"paused_at_ms":' .. sp .. ',"v":' .. v .. '}'
      -- The action rides along in the change stream for the attempt's story (docs/results.md).
      local story = string.sub(clock, 1, -2) .. ',"action":"' .. action .. '","extra_ms":'
        .. string.format('%.0f', extra) .. '}'
      redis.call('XADD', KEYS[2], '*', 'a', id, 'k', 'clock', 's', '0', 'q', '', 'v', story,
        't', ARGV[2], 'd', 'server')
      redis.call('PUBLISH', ARGV[4], '{"t":"clock","a":' .. id .. ',"deadline_ms":' .. sd
        .. ',"paused_at_ms":' .. sp .. ',"v":' .. v .. '}')
      out[#out + 1] = 'changed'
    end
  end
end
return out
"""

# Compare an attempt with what PostgreSQL holds and bring whatever is older up to it.
# KEYS[1] attempt hash, KEYS[2] deadlines. ARGV: attempt id, conn, device, worker, then
# the hash rebuilt from PostgreSQL as field, value pairs.
# Returns a bit mask: 1 created, 2 answers replaced, 4 clock replaced, 8 now submitted.
RESEED = """
local key = KEYS[1]
local pg = {}
for i = 5, #ARGV, 2 do pg[ARGV[i]] = ARGV[i + 1] end
local r = 0
if redis.call('HEXISTS', key, 'starts_ms') == 0 then
  -- missing, or half a hash (only a holder): everything comes from PostgreSQL
  for f, v in pairs(pg) do redis.call('HSET', key, f, v) end
  r = 1
else
  local cur = redis.call('HMGET', key, 'last_seq', 'clock_v', 'submitted', 'durable_seq')
  if tonumber(cur[1] or '0') < tonumber(pg['last_seq']) then
    for _, f in ipairs(redis.call('HKEYS', key)) do
      local p = string.sub(f, 1, 2)
      if p == 'a:' or p == 'd:' or p == 't:' then redis.call('HDEL', key, f) end
    end
    for f, v in pairs(pg) do
      local p = string.sub(f, 1, 2)
      if p == 'a:' or p == 'd:' or p == 't:' or f == 'last_seq' or f == 'n' then
        redis.call('HSET', key, f, v)
      end
    end
    r = r + 2
  end
  if tonumber(cur[2] or '0') < tonumber(pg['clock_v']) then
    redis.call('HSET', key, 'starts_ms', pg['starts_ms'], 'deadline_ms', pg['deadline_ms'],
      'paused_at_ms', pg['paused_at_ms'], 'clock_v', pg['clock_v'])
    r = r + 4
  end
  if pg['submitted'] == '1' and cur[3] ~= '1' then
    redis.call('HSET', key, 'submitted', '1')
    r = r + 8
  end
  if tonumber(cur[4] or '0') < tonumber(pg['durable_seq']) then
    redis.call('HSET', key, 'durable_seq', pg['durable_seq'])
  end
end
if r ~= 0 then
  if ARGV[2] ~= '' and not redis.call('HGET', key, 'conn') then
    redis.call('HSET', key, 'conn', ARGV[2], 'device', ARGV[3], 'w', ARGV[4])
  end
  local h = redis.call('HMGET', key, 'submitted', 'paused_at_ms', 'deadline_ms')
  if h[1] == '1' or (h[2] or '0') ~= '0' then
    redis.call('ZREM', KEYS[2], ARGV[1])
  else
    redis.call('ZADD', KEYS[2], h[3], ARGV[1])
  end
end
return r
"""
