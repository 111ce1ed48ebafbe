--[[
  Adds one transaction to its customer and terminal windows (idempotently, keyed by transaction id)
  and returns the 12 window aggregates of src/features/compute.ts for it, computed in event time.

  Input:
    KEYS[1] customer transaction ids  ZSET  member = transaction id, score = event time (ms): idempotency
    KEYS[2] customer amounts          ZSET  member = '<amount minor>:<transaction id>', score = event time
    KEYS[3] terminal transactions     ZSET  member = transaction id, score = event time (ms)
    KEYS[4] terminal fraud reports    ZSET  member = transaction id, score = event time (ms)
    KEYS[5] customer day buckets      HASH  'c<day>' -> count, 's<day>' -> sum of minor units (day = UTC day)

    ARGV[1] transaction id
    ARGV[2] event time t, integer epoch milliseconds
    ARGV[3] amount in minor units, integer
    ARGV[4] retention (ms): entries with score < t - retention are trimmed from the sets
    ARGV[5] TTL (ms) set with PEXPIRE on every key written, so idle customers and terminals vanish

  Output: an array of 12 integers (never floats: Redis would truncate them)
    customer count and sum of minor units over (t - n d, t] for n = 1, 7, 30 (this transaction included),
    then terminal count and fraud count over (t - 7 d - n d, t - 7 d] for n = 1, 7, 30:
    { c1, s1, c7, s7, c30, s30, tc1, tf1, tc7, tf7, tc30, tf30 }

  Why buckets: reading every transaction of a 30-day window made the cost grow with the customer's
  activity. Whole UTC days strictly inside a window come from the day buckets (one HMGET); only the two
  partial days at the window's edges are read from the amounts set. Sums are integers, so the result is
  exactly the per-transaction sum (src/features/memory-store.ts computes it that way; a parity test
  compares them). A transaction id already in KEYS[1] (a redelivery) is not counted again.
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
local function num(x)
  return string.format('%.17g', x)
end

local cut = exclusive(t - retain)
local today = math.floor(t / DAY)

-- Customer: add once (set, amounts, bucket), trim the sets.
if redis.call('ZADD', KEYS[1], 'NX', tArg, txid) == 1 then
  redis.call('ZADD', KEYS[2], tArg, ARGV[3] .. ':' .. txid)
  redis.call('HINCRBY', KEYS[5], 'c' .. today, 1)
  redis.call('HINCRBY', KEYS[5], 's' .. today, ARGV[3])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cut)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cut)
-- Buckets older than the longest window are never read again; drop the one that just aged out.
redis.call('HDEL', KEYS[5], 'c' .. (today - 40), 's' .. (today - 40))

-- Count and sum of the amounts set over the score range (lo, hi] or [lo, hi] (exact, small: < 1 day).
local function range(lo, hi)
  local rows = redis.call('ZRANGEBYSCORE', KEYS[2], lo, hi)
  local c, s = 0, 0
  for k = 1, #rows do
    local m = rows[k]
    c = c + 1
    s = s + tonumber(string.sub(m, 1, string.find(m, ':', 1, true) - 1))
  end
  return c, s
end

-- (t - n d, t] = (t - n d, end of that day] + whole days between + [start of today, t].
local todayStart = today * DAY
local c1, s1 = range(exclusive(t - DAY), tArg)
local cToday, sToday = range(num(todayStart), tArg)
local fields = {}
for d = today - 29, today - 1 do
  fields[#fields + 1] = 'c' .. d
  fields[#fields + 1] = 's' .. d
end
local buckets = redis.call('HMGET', KEYS[5], unpack(fields))
local function window(n)
  local lo = t - n * DAY
  local loDay = math.floor(lo / DAY)
  -- Partial first day: (lo, start of the next day).
  local c, s = range(exclusive(lo), exclusive((loDay + 1) * DAY))
  -- Whole days loDay + 1 .. today - 1 (bucket index of day d: 2 * (d - (today - 29)) + 1).
  for d = loDay + 1, today - 1 do
    local i = 2 * (d - (today - 29)) + 1
    c = c + (tonumber(buckets[i]) or 0)
    s = s + (tonumber(buckets[i + 1]) or 0)
  end
  return c + cToday, s + sToday
end
local c7, s7 = window(7)
local c30, s30 = window(30)

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
redis.call('PEXPIRE', KEYS[5], ttl)
return out
