--[[
  Adds one transaction to its customer and terminal windows (idempotently, keyed by transaction id)
  and returns the 12 window aggregates of src/features/compute.ts for it, computed in event time.

  Input:
    KEYS[1] customer transactions   ZSET  member = transaction id, score = event time (ms)
    KEYS[2] customer amounts        HASH  transaction id -> amount in minor units
    KEYS[3] terminal transactions   ZSET  member = transaction id, score = event time (ms)
    KEYS[4] terminal fraud reports  ZSET  member = transaction id, score = event time (ms)

    ARGV[1] transaction id
    ARGV[2] event time t, integer epoch milliseconds
    ARGV[3] amount in minor units, integer
    ARGV[4] retention (ms): entries with score < t - retention are trimmed from all four keys
    ARGV[5] TTL (ms) set with PEXPIRE on every key written, so idle customers and terminals vanish

  Output: an array of 12 integers (never floats: Redis would truncate them)
    customer count and sum of minor units over (t - n d, t] for n = 1, 7, 30 (this transaction included),
    then terminal count and fraud count over (t - 7 d - n d, t - 7 d] for n = 1, 7, 30:
    { c1, s1, c7, s7, c30, s30, tc1, tf1, tc7, tf7, tc30, tf30 }

  Each key is idempotent on its own: a redelivered transaction is not added again to a key that still
  holds it. The window lengths (1, 7, 30 days) and the 7-day label delay mirror
  src/features/feature-names.ts; src/features/memory-store.ts mirrors every step of this script.
]]
local txid = ARGV[1]
local tArg = ARGV[2]
local t = tonumber(tArg)
local retain = tonumber(ARGV[4])
local ttl = ARGV[5]
local DAY = 86400000

-- '%.17g' prints integer-valued doubles (epoch ms) exactly; tostring would use '%.14g'.
local function exclusive(x)
  return '(' .. string.format('%.17g', x)
end

local cut = exclusive(t - retain)

-- Customer: add, then one range read of everything up to t serves both the trim (scores < t - retention)
-- and the sums over (t - 30 d, t], split into 1/7/30 days.
if redis.call('HSETNX', KEYS[2], txid, ARGV[3]) == 1 then
  redis.call('ZADD', KEYS[1], tArg, txid)
end
local rows = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', tArg, 'WITHSCORES')
local n = #rows / 2
local lowest = t - retain
local lo30 = t - 30 * DAY
local lo7 = t - 7 * DAY
local lo1 = t - DAY
local old = {}
local ids = {}
local scores = {}
for k = 1, n do
  local ts = tonumber(rows[2 * k])
  if ts < lowest then
    old[#old + 1] = rows[2 * k - 1]
  elseif ts > lo30 then
    ids[#ids + 1] = rows[2 * k - 1]
    scores[#ids] = ts
  end
end
if #old > 0 then
  for i = 1, #old, 1000 do
    redis.call('HDEL', KEYS[2], unpack(old, i, math.min(i + 999, #old)))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cut)
end

local c1, s1, c7, s7, c30, s30 = 0, 0, 0, 0, 0, 0
for i = 1, #ids, 1000 do
  local j = math.min(i + 999, #ids)
  local amounts = redis.call('HMGET', KEYS[2], unpack(ids, i, j))
  for k = i, j do
    local ts = scores[k]
    local a = tonumber(amounts[k - i + 1]) or 0
    c30 = c30 + 1
    s30 = s30 + a
    if ts > lo7 then
      c7 = c7 + 1
      s7 = s7 + a
      if ts > lo1 then
        c1 = c1 + 1
        s1 = s1 + a
      end
    end
  end
end

-- Terminal: add, trim both sets, then count over the delayed windows.
redis.call('ZADD', KEYS[3], 'NX', tArg, txid)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cut)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', cut)

local hi = t - 7 * DAY
local hiArg = string.format('%.17g', hi)
local out = { c1, s1, c7, s7, c30, s30 }
for _, days in ipairs({ 1, 7, 30 }) do
  local lo = exclusive(hi - days * DAY)
  out[#out + 1] = redis.call('ZCOUNT', KEYS[3], lo, hiArg)
  out[#out + 1] = redis.call('ZCOUNT', KEYS[4], lo, hiArg)
end

redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('PEXPIRE', KEYS[4], ttl)
return out
