// Both stores must give bit-identical vectors for the same stream: every feature of every record.

import { describe, expect, it } from 'vitest';
import { expectRedisParity } from './redis-parity.js';

describe('memory and Redis feature stores', () => {
  it('give bit-identical features for a seeded stream with labels, duplicates and late events', async () => {
    const stats = await expectRedisParity();
    expect(stats.evicted).toBe(0);
  });

  // The in-memory windows bounded far below what the stream holds: entities are dropped, least recently
  // used first, and their logs read again from Redis on their next transaction. Events at most 23 h
  // late: the windows keep one day of slack (RETAIN_MS). An event later than that is counted against a
  // window the in-memory store has trimmed, while an evicted entity's log, read again, still holds it.
  it('give the same features when the Redis store keeps at most 1,000 entries in memory', async () => {
    const stats = await expectRedisParity(undefined, { store: { maxCachedEntries: 1000 }, maxLateMs: 23 * 3_600_000 });
    expect(stats.evicted).toBeGreaterThan(100);
    expect(stats.entries).toBeLessThanOrEqual(1000);
  });
});
