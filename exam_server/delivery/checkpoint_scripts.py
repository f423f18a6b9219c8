"""The Lua scripts that change a checkpoint in one step inside Redis.

A script runs to the end with nothing in between, so a claim, a clock change or a rebuild
never skips an attempt that someone wrote meanwhile (WATCH would make us give up or loop)
and never creates half an attempt hash. Times are epoch milliseconds; Lua numbers are
doubles, exact for them, and ``%.0f`` writes them back without an exponent.
"""

from __future__ import annotations

# Which Redis server this is: a restart, or a failover to a replica, gives a new run id,
# and a copy of an attempt made before it may be older than PostgreSQL (docs/protocol.md,
# "Redis lost or behind"). Used inside scripts so that it is read in the same step.
RUN_ID = """
local function run_id()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') or ''
end
"""

# Whether an attempt hash may be trusted without asking PostgreSQL: it was compared with
# PostgreSQL (or made from a prepared paper) by this Redis server (``run``), and it is not
# behind what the write-behind last committed (the ``committed`` hash, written after each
# commit). ``h`` holds HMGET run, last_seq, clock_v, submitted; ``c`` the committed key.
TRUSTED = (
    RUN_ID
    + """
local function trusted(h, c)
  if h[1] ~= run_id() then return 0 end
  local pg = redis.call('HMGET', c, 'durable_seq', 'clock_v', 'submitted')
  if tonumber(h[2] or '0') < tonumber(pg[1] or '0') then return 0 end
  if tonumber(h[3] or '0') < tonumber(pg[2] or '0') then return 0 end
  if pg[3] == '1' and h[4] ~= '1' then return 0 end
  return 1
end
"""
)

# The claim inside OPEN: make ARGV[1] the only connection allowed to write and tell the old
# one it lost. Leaves ``claim`` = {generation, previous worker, previous conn, trusted};
# trusted 0: compare with PostgreSQL before serving the hash.
CLAIM_BODY = """
local f = redis.call('HMGET', KEYS[1], 'w', 'conn', 'run', 'last_seq', 'clock_v', 'submitted')
redis.call('HSET', KEYS[1], 'conn', ARGV[1], 'device', ARGV[2], 'w', ARGV[3])
local g = redis.call('HINCRBY', KEYS[1], 'claim_n', 1)
redis.call('PUBLISH', ARGV[5], '{"t":"replaced","a":' .. ARGV[4] .. ',"c":"' .. ARGV[1]
  .. '","g":' .. g .. '}')
local claim = {g, f[1] or '', f[2] or '', trusted({f[3], f[4], f[5], f[6]}, KEYS[2])}
"""

# After the write-behind's commit: each attempt's durable seq in its hash (only a hash that
# exists: a stray HSET after a Redis loss would make a half hash that looks like an attempt
# with no answers), and what PostgreSQL now holds in its committed hash.
# ARGV: groups of attempt id, durable seq, clock version, submitted (1/0); 0 = unchanged.
COMMITTED = """
for i = 1, #ARGV, 4 do
  local id, seq, v, sub = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
  local key, c = 'tkd:attempt:' .. id, 'tkd:committed:' .. id
  if seq > 0 then
    if redis.call('EXISTS', key) == 1 and tonumber(redis.call('HGET', key, 'durable_seq') or '0') < seq then
      redis.call('HSET', key, 'durable_seq', ARGV[i + 1])
    end
    if tonumber(redis.call('HGET', c, 'durable_seq') or '0') < seq then
      redis.call('HSET', c, 'durable_seq', ARGV[i + 1])
    end
  end
  if v > 0 and tonumber(redis.call('HGET', c, 'clock_v') or '0') < v then
    redis.call('HSET', c, 'clock_v', ARGV[i + 2])
  end
  if sub == '1' then redis.call('HSET', c, 'submitted', '1') end
end
return 1
"""

# An attempt hash compared with PostgreSQL and found current: trusted by this Redis server
# from now on, and the committed hash set to exactly what PostgreSQL holds (a reopened
# attempt is no longer submitted there). KEYS[1] attempt hash, KEYS[2] committed hash.
# ARGV: durable seq, clock version, submitted (1/0).
VERIFIED = (
    RUN_ID
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'run', run_id())
redis.call('HSET', KEYS[2], 'durable_seq', ARGV[1], 'clock_v', ARGV[2], 'submitted', ARGV[3])
return 1
"""
)

# A prepared attempt's first checkpoint, from its paper alone (docs/operations.md,
# "Prepared sessions"): start(attempt hash, paper, deadlines, changes, attempt id, now ms,
# prepared-key prefix); the session's key is named inside (TKD runs one Redis, not a
# cluster: docs/operations.md). The time starts at the later of now and the session's
# start and ends at the earlier of that plus the exam's minutes and the session's end; the
# ``start`` entry lets the write-behind create the attempt row with exactly this paper and
# clock. The hash is trusted only if this Redis server wrote the paper and PostgreSQL had
# not started the attempt then; otherwise the hello compares it with PostgreSQL first.
# Returns true when the checkpoint was made, false when not prepared.
START_FN = """
local function start(key, paper, deadlines, changes, id, now_text, prefix)
  local p = redis.call('HMGET', paper, 'c', 's', 'e', 'seed', 'qids', 'opts', 'secs',
    'minutes', 'run', 'started')
  if not p[1] then return false end
  local w = redis.call('HMGET', prefix .. 'session:' .. p[2], 'starts_ms', 'ends_ms')
  if not w[1] or not w[2] then return false end
  local now = tonumber(now_text)
  local starts = math.max(now, tonumber(w[1]))
  local deadline = math.min(starts + tonumber(p[8]) * 60000, tonumber(w[2]))
  local sd, ss = string.format('%.0f', deadline), string.format('%.0f', starts)
  local n = #cjson.decode(p[5])
  redis.call('HSET', key, 'submitted', '0', 'starts_ms', ss, 'deadline_ms', sd,
    'paused_at_ms', '0', 'n', n, 'last_seq', '0', 'durable_seq', '0')
  if p[9] == run_id() and p[10] ~= '1' then redis.call('HSET', key, 'run', p[9]) end
  redis.call('ZADD', deadlines, sd, id)
  local row = '{"c":' .. p[1] .. ',"s":' .. p[2] .. ',"e":' .. p[3] .. ',"seed":'
    .. cjson.encode(p[4]) .. ',"qids":' .. p[5] .. ',"opts":' .. p[6] .. ',"secs":' .. p[7]
    .. ',"starts_ms":' .. ss .. ',"deadline_ms":' .. sd .. '}'
  redis.call('XADD', changes, '*', 'a', id, 'k', 'start', 's', '0', 'q', '', 'v', row,
    't', now_text, 'd', 'server')
  return true
end
"""

# Everything a hello does in Redis, in one step: the checkpoint (made from the prepared
# paper if there is none yet), the claim, and the hash to build ``state`` from.
# KEYS[1] attempt hash, KEYS[2] committed hash, KEYS[3] paper, KEYS[4] deadlines,
# KEYS[5] changes stream. ARGV: conn, device, worker, attempt id, events channel, now ms,
# prepared-key prefix. Returns the claim's four values followed by the hash's field/value
# pairs; generation 0: neither a checkpoint nor a prepared paper (ask PostgreSQL).
OPEN = (
    TRUSTED
    + START_FN
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  if not start(KEYS[1], KEYS[3], KEYS[4], KEYS[5], ARGV[4], ARGV[6], ARGV[7]) then
    return {0, '', '', 0}
  end
end
"""
    + CLAIM_BODY
    + """
local h = redis.call('HGETALL', KEYS[1])
for i = 1, #h do claim[#claim + 1] = h[i] end
return claim
"""
)

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
# Either way the hash is then trusted by this Redis server (see TRUSTED), and KEYS[3], the
# committed hash, is set to PostgreSQL's position.
RESEED = (
    RUN_ID
    + """
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
redis.call('HSET', key, 'run', run_id())
redis.call('HSET', KEYS[3], 'durable_seq', pg['durable_seq'], 'clock_v', pg['clock_v'] or '0',
  'submitted', pg['submitted'] or '0')
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
)

# One change, decided and applied in one step: the seq rule of
# ``exam_server.delivery.seq.judge`` (the reference; tests/server/test_apply_script.py
# checks that both agree), then the hash, the change stream and, at the deadline, the
# close. One round trip per answer instead of WATCH, HMGET and MULTI/EXEC.
# KEYS[1] attempt hash, KEYS[2] deadlines, KEYS[3] changes stream.
# ARGV: conn, device, seq, kind (answer|doubt|submit), q, stream value (JSON), hash value
# ('' deletes), now ms (when the change was received), attempt id, events channel.
# Returns {verdict, last_seq, submitted, starts, deadline, paused}; the verdict is one of
# seq.Verdict's values, 'missing' (not in Redis) or 'replaced' (another device holds it).
APPLY = """
local key = KEYS[1]
local f = redis.call('HMGET', key, 'submitted', 'starts_ms', 'deadline_ms', 'paused_at_ms',
  'last_seq', 'conn')
if not f[2] then return {'missing', 0, 0, 0, 0, 0} end
if ARGV[1] ~= '' and f[6] and f[6] ~= ARGV[1] then return {'replaced', 0, 0, 0, 0, 0} end
local submitted, starts, deadline = f[1] == '1', tonumber(f[2]), tonumber(f[3])
local paused, last = tonumber(f[4] or '0'), tonumber(f[5] or '0')
local seq, now = tonumber(ARGV[3]), tonumber(ARGV[8])
local sub = submitted and 1 or 0
local function out(v, l) return {v, l, sub, f[2], f[3], f[4] or '0'} end
if seq <= last then return out('duplicate', last) end
if submitted then
  if now >= deadline then return out('time_over', last) end
  return out('submitted', last)
end
if paused == 0 and now >= deadline then
  redis.call('HSET', key, 'submitted', '1')
  redis.call('ZREM', KEYS[2], ARGV[9])
  redis.call('XADD', KEYS[3], '*', 'a', ARGV[9], 'k', 'close', 's', '0', 'q', '',
    'v', '"deadline"', 't', ARGV[8], 'd', 'server')
  redis.call('PUBLISH', ARGV[10], '{"t":"closed","a":' .. ARGV[9] .. '}')
  return out('time_over', last)
end
if paused ~= 0 then return out('paused', last) end
if now < starts then return out('not_started', last) end
if seq ~= last + 1 then return out('out_of_order', last) end
if ARGV[1] ~= '' and not f[6] then
  -- No holder at all (a rebuild by a proctor's action): the writer takes it.
  redis.call('HSET', key, 'conn', ARGV[1], 'device', ARGV[2])
end
redis.call('HSET', key, 'last_seq', ARGV[3])
local kind, q = ARGV[4], ARGV[5]
if kind == 'answer' then
  if ARGV[7] == '' then redis.call('HDEL', key, 'a:' .. q)
  else redis.call('HSET', key, 'a:' .. q, ARGV[7]) end
  redis.call('HSET', key, 't:' .. q, ARGV[8])
elseif kind == 'doubt' then
  if ARGV[7] == '' then redis.call('HDEL', key, 'd:' .. q)
  else redis.call('HSET', key, 'd:' .. q, '1') end
else
  redis.call('HSET', key, 'submitted', '1')
  redis.call('ZREM', KEYS[2], ARGV[9])
  sub = 1
end
redis.call('XADD', KEYS[3], '*', 'a', ARGV[9], 'k', kind, 's', ARGV[3], 'q', q,
  'v', ARGV[6], 't', ARGV[8], 'd', ARGV[2])
return out('apply', seq)
"""

# The watch's read (exam_server.delivery.watch): for each attempt id in ARGV, its clock and
# positions as one flat list of six values (submitted, starts, deadline, paused, last_seq,
# clock_v; starts false: not in Redis). One script per few hundred attempts costs far less
# than as many HMGETs in a pipeline, every two seconds, on every worker.
CLOCKS = """
local out = {}
for i = 1, #ARGV do
  local f = redis.call('HMGET', 'tkd:attempt:' .. ARGV[i], 'submitted', 'starts_ms',
    'deadline_ms', 'paused_at_ms', 'last_seq', 'clock_v')
  for j = 1, 6 do out[#out + 1] = f[j] end
end
return out
"""
