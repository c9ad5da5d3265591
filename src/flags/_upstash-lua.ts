// The per-key state machine of src/flags/_transitions.ts in Lua, so that every FlagStore operation of upstashFlags is
// one atomic EVALSHA. One script for all operations: helpers are written once and a cold script cache costs one
// NOSCRIPT → EVAL fallback in total, not one per operation. Keep each branch in step with its function in _transitions.ts.
//
// KEYS[1]  the pending index: a set of the record keys whose state is not `remote`
// KEYS[2]  the highest generation issued so far (the floor of _nextGeneration)
// KEYS[3…] record keys (`<prefix>:s:<key>`): one for the per-key operations, a batch for `read` and `clear`
// ARGV[1]  operation; ARGV[2] tombstone TTL in ms; ARGV[3…] the operation's arguments
//
// A record is a hash of its FlagRecord fields (numbers as decimal text), so the script needs no cjson, whose
// 14-digit number encoding would corrupt µs generations. Replies are JSON text built here: the client parses them
// itself, whatever its automaticDeserialization setting, and strings such as an error "123" survive as strings.
// The clock is the server's (TIME), never the caller's, so every instance shares it.
//
// Indexes for stats() and list() (issue 21), kept by save() and drop(), so by every transition, atomically; beside
// KEYS[1] (`<base>:pending`) they live at `<base>:by:<state>` (one sorted set per state), `<base>:keys` (every key
// that is not a tombstone) and `<base>:age` (unfinished writes scored by the ms their write began). Members are the
// state keys; the state and key sets have score 0, so they page in byte order (ZRANGEBYLEX, O(log N + page)) and
// count a prefix in O(log N) (ZLEXCOUNT). Being sets, not counters, they cannot drift: a transition applied twice,
// a rollback, a ghost dropped by sync() or an expired tombstone never count twice or go negative.

/** @internal */
export const _FLAGS_LUA: string = String.raw`
local INDEX, FLOOR, OP, TTL_MS = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local FIELDS = { 'state', 'generation', 'attempts', 'error', 'updatedAt', 'lease', 'leaseUntil', 'evictUntil', 'kind', 'replaced', 'bytes' }
local NUMERIC = { generation = true, attempts = true, updatedAt = true, leaseUntil = true, evictUntil = true, replaced = true }

local function num(n) return string.format('%.17g', n) end
local function str(s)
  return '"' .. (string.gsub(s, '[%c"\\]', function(c) return string.format('\\u%04x', string.byte(c)) end)) .. '"'
end
local function json(r)
  if not r then return 'null' end
  local parts = {}
  for _, f in ipairs(FIELDS) do
    if r[f] ~= nil then parts[#parts + 1] = '"' .. f .. '":' .. (NUMERIC[f] and num(r[f]) or str(r[f])) end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
local function outcome(status, r) return '{"status":"' .. status .. '","record":' .. json(r) .. '}' end

local function load(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local r = {}
  for i = 1, #flat, 2 do r[flat[i]] = NUMERIC[flat[i]] and tonumber(flat[i + 1]) or flat[i + 1] end
  return r
end
-- Rewrites the whole hash (dropping fields the record no longer has, and any TTL), keeps the index in step and
-- lets tombstones expire.
-- --- indexes (issue 21) ---
local BASE = string.sub(INDEX, 1, -9)
local ALL, AGE = BASE .. ':keys', BASE .. ':age'
local UNFINISHED = { ['local'] = true, queued = true, transferring = true, failed = true }
local function member(k) return string.sub(k, #BASE + 4) end
local function unindex(k, state)
  if state and state ~= 'removed' then redis.call('ZREM', BASE .. ':by:' .. state, member(k)) end
  redis.call('ZREM', ALL, member(k))
  redis.call('ZREM', AGE, member(k))
end
local function index(k, old, r)
  if old and old ~= r.state and old ~= 'removed' then redis.call('ZREM', BASE .. ':by:' .. old, member(k)) end
  if r.state == 'removed' then
    redis.call('ZREM', ALL, member(k))
  else
    redis.call('ZADD', BASE .. ':by:' .. r.state, 0, member(k))
    redis.call('ZADD', ALL, 0, member(k))
  end
  if UNFINISHED[r.state] then redis.call('ZADD', AGE, num(math.floor(r.generation / 1000)), member(k))
  else redis.call('ZREM', AGE, member(k)) end
end
-- ---

local function save(key, r)
  index(key, redis.call('HGET', key, 'state'), r)
  local args = {}
  for _, f in ipairs(FIELDS) do
    if r[f] ~= nil then args[#args + 1] = f; args[#args + 1] = NUMERIC[f] and num(r[f]) or r[f] end
  end
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(args))
  if r.state == 'removed' then redis.call('PEXPIRE', key, TTL_MS) end
  if r.state == 'remote' then redis.call('SREM', INDEX, key) else redis.call('SADD', INDEX, key) end
end
local function drop(key)
  unindex(key, redis.call('HGET', key, 'state'))
  redis.call('DEL', key)
  redis.call('SREM', INDEX, key)
end

local clock_ms, clock_us
local function now()
  if not clock_ms then
    local t = redis.call('TIME')
    local s, us = tonumber(t[1]), tonumber(t[2])
    clock_ms, clock_us = s * 1000 + math.floor(us / 1000), s * 1000000 + us
  end
  return clock_ms
end
-- _nextGeneration: max(previous + 1, now in µs, floor + 1), so generations keep increasing after a record was
-- deleted, even where TIME has only ms resolution or steps back.
local function next_generation(prev)
  now()
  local g = math.max(clock_us, (prev and prev.generation or 0) + 1, (tonumber(redis.call('GET', FLOOR)) or 0) + 1)
  redis.call('SET', FLOOR, num(g))
  return g
end
local function truthy(s) return s ~= nil and s ~= '' end
local function lease_live(r, ms) return truthy(r.lease) and (r.leaseUntil or 0) > ms end
local function evict_live(r, ms) return (r.evictUntil or 0) > ms end
-- _held: a transfer still uploads, or still deletes the local copy; the record must not go away yet.
local function held(r, ms) return lease_live(r, ms) or evict_live(r, ms) end
local function tombstone(prev)
  local ms = now()
  local r = { state = 'removed', generation = next_generation(prev), attempts = 0, updatedAt = ms }
  if prev and truthy(prev.lease) then r.lease, r.leaseUntil = prev.lease, prev.leaseUntil end
  if prev and evict_live(prev, ms) then r.evictUntil = prev.evictUntil end
  return r
end

-- _landed: a [key, generation] write's bytes are stored; only that generation's 'storing' mark turns 'stored'.
local function landed(k, generation)
  local r = load(k)
  if r and r.generation == generation and r.bytes == 'storing' then
    r.bytes = 'stored'
    save(k, r)
  end
end
-- Marks that ride along: record keys from KEYS[first_key], their generations from ARGV[first_arg] on.
local function landed_from(first_key, first_arg)
  for i = first_key, #KEYS do landed(KEYS[i], tonumber(ARGV[first_arg + i - first_key])) end
end

local key = KEYS[3]
if OP == 'get' then return json(load(key)) end
if OP == 'landed' then
  landed_from(3, 3)
  return 'null'
end

if OP == 'begin' then
  local prev = load(key)
  local ms = now()
  local r = { state = ARGV[3] == '1' and 'local' or 'queued', generation = next_generation(prev), attempts = 0, updatedAt = ms }
  if prev and truthy(prev.lease) then r.lease, r.leaseUntil = prev.lease, prev.leaseUntil end
  if prev and prev.evictUntil and prev.evictUntil > ms then r.evictUntil = prev.evictUntil end
  if truthy(ARGV[4]) then r.kind = ARGV[4] end
  r.replaced = (prev and prev.state ~= 'removed') and prev.generation or 0
  if ARGV[5] == '1' and ARGV[3] ~= '1' then r.bytes = 'storing' end
  save(key, r)
  -- landed marks of earlier writes of this instance ride on this round trip (KEYS[4…], ARGV[6…])
  landed_from(4, 6)
  return '{"record":' .. json(r) .. ',"previous":' .. json(prev) .. '}'
end

if OP == 'requeue' then
  local r = load(key)
  if not r or r.state == 'removed' then return 'null' end
  if truthy(ARGV[3]) and r.generation ~= tonumber(ARGV[3]) then return 'null' end
  -- held: an upload or a local delete runs; it finishes this generation itself (never demoted meanwhile)
  if held(r, now()) then return json(r) end
  r.state, r.attempts, r.updatedAt, r.error = 'queued', 0, now(), nil
  save(key, r)
  return json(r)
end

if OP == 'claim' then
  local r, generation, token, lease_ms = load(key), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
  if not r or r.generation ~= generation or r.state == 'removed' then return outcome('stale', r) end
  if r.state == 'remote' then return outcome('already-remote', r) end
  local ms = now()
  if lease_live(r, ms) and r.lease ~= token then return outcome('busy', r) end
  if not (r.lease == token and r.state == 'transferring') then r.attempts = r.attempts + 1 end
  r.state, r.lease, r.leaseUntil, r.updatedAt = 'transferring', token, ms + lease_ms, ms
  save(key, r)
  return outcome('claimed', r)
end

if OP == 'settle' then
  local r, generation, token, evict_ms = load(key), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
  if not r then return outcome('stale', nil) end
  local owned = r.lease == token
  if r.generation ~= generation or r.state == 'removed' then
    -- Our upload may have landed after a newer write or a removal: release the key either way.
    if owned then r.lease, r.leaseUntil, r.updatedAt = nil, nil, now(); save(key, r) end
    return outcome('stale', r)
  end
  local ms = now()
  local other = (not owned) and lease_live(r, ms)
  r.error, r.state, r.updatedAt = nil, 'remote', ms
  if evict_ms and evict_ms ~= 0 and not other then
    -- The local delete holds the key until it really ends (evicted): writers and newer transfers wait for it.
    r.lease, r.leaseUntil, r.evictUntil = token, ms + evict_ms, ms + evict_ms
  elseif not other then
    r.lease, r.leaseUntil = nil, nil
  end
  save(key, r)
  return outcome('remote', r)
end

if OP == 'renew' then
  local r, token, lease_ms = load(key), ARGV[3], tonumber(ARGV[4])
  if not r or not truthy(token) or r.lease ~= token then return 'null' end
  local ms = now()
  r.leaseUntil = ms + lease_ms
  if r.evictUntil then r.evictUntil = ms + lease_ms end
  save(key, r)
  return json(r)
end

if OP == 'rollback' then
  local r, generation = load(key), tonumber(ARGV[3])
  if not r or r.generation ~= generation then return 'false' end
  local ms = now()
  local live = {}
  if lease_live(r, ms) then live.lease, live.leaseUntil = r.lease, r.leaseUntil end
  if evict_live(r, ms) then live.evictUntil = r.evictUntil end
  local p
  if ARGV[4] == '1' then
    p = {}
    for i = 5, #ARGV, 2 do p[ARGV[i]] = NUMERIC[ARGV[i]] and tonumber(ARGV[i + 1]) or ARGV[i + 1] end
    p.lease, p.leaseUntil, p.evictUntil = nil, nil, nil
  elseif not live.lease and not live.evictUntil then
    drop(key)
    return 'true'
  else
    p = { state = 'removed', generation = generation, attempts = 0, updatedAt = ms }
  end
  p.lease, p.leaseUntil, p.evictUntil = live.lease, live.leaseUntil, live.evictUntil
  -- its upload ended while the write ran: the restored generation needs a new job
  if p.state == 'transferring' and not live.lease then p.state = 'queued' end
  save(key, p)
  return 'true'
end

if OP == 'release' then
  local r, generation, token = load(key), tonumber(ARGV[3]), ARGV[4]
  if not r then return 'null' end
  local owned = r.lease == token
  if owned then r.lease, r.leaseUntil = nil, nil end
  if r.generation ~= generation or r.state == 'removed' or r.state == 'remote' then
    if owned then r.updatedAt = now(); save(key, r) end
    return json(r)
  end
  r.state, r.updatedAt = ARGV[7] == '1' and 'failed' or 'queued', now()
  if ARGV[5] == '1' then r.error = ARGV[6] end
  save(key, r)
  return json(r)
end

if OP == 'evicted' then
  local r, token = load(key), ARGV[3]
  if not r then return 'null' end
  if not truthy(token) or r.lease ~= token then return 'null' end
  r.evictUntil, r.lease, r.leaseUntil = nil, nil, nil
  save(key, r)
  return 'null'
end

if OP == 'remove' then
  local r = tombstone(load(key))
  save(key, r)
  return json(r)
end

if OP == 'forget' then
  local r = load(key)
  if not r or r.state ~= 'removed' or r.generation ~= tonumber(ARGV[3]) then return 'false' end
  if held(r, now()) then return 'false' end
  drop(key)
  return 'true'
end

-- Batches: the records of KEYS[3…], dropping index entries whose record is gone (an expired tombstone).
if OP == 'read' then
  local out = {}
  for i = 3, #KEYS do
    local r = load(KEYS[i])
    if not r or r.state == 'remote' then redis.call('SREM', INDEX, KEYS[i]); r = nil end
    out[#out + 1] = json(r)
  end
  return '[' .. table.concat(out, ',') .. ']'
end

-- _clearOne per key: a tombstone while a transfer holds the key (held), else gone.
if OP == 'clear' then
  local ms = now()
  for i = 3, #KEYS do
    local r = load(KEYS[i])
    if r and held(r, ms) then save(KEYS[i], tombstone(r)) else drop(KEYS[i]) end
  end
  return 'null'
end

-- --- operations (issue 21): stats, list, reindex ---
-- The lex range of the members starting with p ('-' '+' for all).
local function lex_range(p)
  if p == '' then return '-', '+' end
  local last = string.byte(p, #p)
  if last == 255 then return '[' .. p, '+' end
  return '[' .. p, '(' .. string.sub(p, 1, -2) .. string.char(last + 1)
end

-- ARGV[3] base. Counts: ZCARD (O(1)) or ZLEXCOUNT (O(log N)) per state; the oldest write: the lowest AGE entries,
-- skipping others' keys (a base) and healing entries whose record went away (expired), at most 1000 looked at.
if OP == 'stats' then
  local base = ARGV[3]
  local lo, hi = lex_range(base)
  local parts = {}
  for _, s in ipairs({ 'local', 'queued', 'transferring', 'remote', 'failed' }) do
    local set = BASE .. ':by:' .. s
    local n = base == '' and redis.call('ZCARD', set) or redis.call('ZLEXCOUNT', set, lo, hi)
    parts[#parts + 1] = '"' .. s .. '":' .. n
  end
  local oldest = 'null'
  local from = 0
  while oldest == 'null' and from < 1000 do
    local found = redis.call('ZRANGE', AGE, from, from + 99, 'WITHSCORES')
    if #found == 0 then break end
    for i = 1, #found, 2 do
      local m = found[i]
      if base == '' or string.sub(m, 1, #base) == base then
        local r = load(BASE .. ':s:' .. m)
        if r and UNFINISHED[r.state] then
          oldest = '{"key":' .. str(m) .. ',"updatedAt":' .. num(r.updatedAt) .. ',"since":' .. found[i + 1] .. '}'
          break
        end
      end
    end
    from = from + 100
  end
  return '{"counts":{' .. table.concat(parts, ',') .. '},"oldestPending":' .. oldest .. '}'
end

-- ARGV[3] state ('' every state), ARGV[4] prefix, ARGV[5] the key after which to start ('' none), ARGV[6] limit.
if OP == 'list' then
  local state, limit = ARGV[3], tonumber(ARGV[6])
  local set = state == '' and ALL or (BASE .. ':by:' .. state)
  local lo, hi = lex_range(ARGV[4])
  if ARGV[5] ~= '' then lo = '(' .. ARGV[5] end
  local found = redis.call('ZRANGEBYLEX', set, lo, hi, 'LIMIT', 0, limit + 1)
  local out = {}
  for i = 1, math.min(#found, limit) do
    local r = load(BASE .. ':s:' .. found[i])
    if r and r.state ~= 'removed' then out[#out + 1] = '[' .. str(found[i]) .. ',' .. json(r) .. ']' end
  end
  local cursor = #found > limit and str(found[limit]) or 'null'
  return '{"items":[' .. table.concat(out, ',') .. '],"after":' .. cursor .. '}'
end

-- The indexes of the records of KEYS[3…], for records written before they existed.
if OP == 'reindex' then
  for i = 3, #KEYS do
    local r = load(KEYS[i])
    if r then index(KEYS[i], nil, r) end
  end
  return 'null'
end

return redis.error_reply('ERR queued-storage: unknown flags operation ' .. tostring(OP))
`;
