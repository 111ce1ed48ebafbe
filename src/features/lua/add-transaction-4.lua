--[[
  Adds one transaction to its customer and terminal windows (idempotently, keyed by transaction id)
  and returns the 12 window aggregates of src/features/compute.ts for it, computed in event time.

  Input:
    KEYS[1] customer transaction ids  ZSET  member = transaction id, score = event time (ms): idempotency
    KEYS[2] customer amounts          ZSET  member = '<amount minor>:<transaction id>', score = event time
    KEYS[3] terminal transactions     ZSET  member = transaction id, score = event time (ms)
    KEYS[4] terminal fraud reports    ZSET  member = transaction id, score = event time (ms)

    ARGV[1] transaction id
    ARGV[2] event time t, integer epoch milliseconds
    ARGV[3] amount in minor units, integer
    ARGV[4] retention (ms): entries with score < t - retention are trimmed from all four keys
    ARGV[5] TTL (ms) set with PEXPIRE on every key written, so idle customers and terminals vanish

  Output: an array of 12 integers (never floats: Redis would truncate them)
    customer count and sum of minor units over (t - n d, t] for n = 1, 7, 30 (this transaction included),
    then terminal count and fraud count over (t - 7 d - n d, t - 7 d] for n = 1, 7, 30:
    { c1, s1, c7, s7, c30, s30, tc1, tf1, tc7, tf7, tc30, tf30 }

  A transaction id already in KEYS[1] (a redelivery) is not counted again. The amount travels in the
  KEYS[2] member, so one range read over (t - 30 d, t] gives times and amounts together; trimming is a
  range delete on both sets. (Day buckets for the whole days of a window were tried and measured slower:
  an HMGET of 58 fields per call cost more than reading a customer's month of transactions.)
  The window lengths (1, 7, 30 days) and the 7-day label delay mirror src/features/feature-names.ts;
  src/features/memory-store.ts computes the same sums per transaction.
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

-- Customer: add once (ids, amounts), trim both sets, then one range read split into 1/7/30 days.
if redis.call('ZADD', KEYS[1], 'NX', tArg, txid) == 1 then
  redis.call('ZADD', KEYS[2], tArg, ARGV[3] .. ':' .. txid)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cut)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cut)

local lo7 = t - 7 * DAY
local lo1 = t - DAY
local rows = redis.call('ZRANGEBYSCORE', KEYS[2], exclusive(t - 30 * DAY), tArg, 'WITHSCORES')
local c1, s1, c7, s7, c30, s30 = 0, 0, 0, 0, 0, 0
for k = 1, #rows, 2 do
  local m = rows[k]
  local a = tonumber(string.sub(m, 1, string.find(m, ':', 1, true) - 1))
  local ts = tonumber(rows[k + 1])
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
