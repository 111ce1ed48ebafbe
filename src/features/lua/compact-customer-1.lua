--[[
  Replaces a customer's log with its live entries, unless someone appended since the caller read it.
  The scorer calls it when the log holds more than twice the entries its window keeps, so the cost of a
  compaction is spread over at least as many appends (amortised O(1) per transaction).

  Input:
    KEYS[1] the customer's log   STRING (src/features/entity-log.ts)
    ARGV[1] the length the caller last saw (bytes)
    ARGV[2] the new log: the live entries
    ARGV[3] TTL (ms)

  Output: 1 replaced, 0 the log changed meanwhile (nothing written; the caller re-reads it).
]]
if redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
