--[[
  Marks one transaction of a terminal as reported fraud (idempotent on transaction id). Only fraud
  labels are sent here; non-fraud labels are a no-op and never reach Redis.

  Input:
    KEYS[1] terminal transactions   ZSET  member = transaction id, score = event time (ms)
    KEYS[2] terminal fraud reports  ZSET  member = transaction id, score = event time (ms)

    ARGV[1] transaction id
    ARGV[2] TTL (ms) set with PEXPIRE on the fraud key

  Output: an integer
     1  the transaction was marked fraud
     0  it was already marked (redelivered label)
    -1  the terminal does not hold this transaction (never seen, or already trimmed): nothing written,
        so a terminal's fraud count never exceeds its transaction count

  The fraud entry takes the transaction's score from KEYS[1], so both sets agree on event time.
]]
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then
  return -1
end
local added = redis.call('ZADD', KEYS[2], 'NX', score, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return added
