import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { parseLog } from '../../src/features/entity-log.js';
import { DAY_MS, N_FEATURES } from '../../src/features/feature-names.js';
import { featureKeys } from '../../src/features/keys.js';
import { keySlot, RedisBatch } from '../../src/features/redis-batch.js';
import { RedisFeatureStore } from '../../src/features/redis-store.js';
import { redisStoreContract } from './redis-contract.js';
import { REDIS_URL, redisStore } from './redis-helpers.js';
import { enrichOne, label, T0, tx } from './store-contract.js';

/** Commands Redis has run since it started (INFO commandstats), those run by scripts included. */
async function commandCalls(): Promise<{ append: number; eval: number; getrange: number }> {
  const redis = new Redis(REDIS_URL);
  try {
    const info = (await redis.info('commandstats')) as string;
    const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    return { append: calls('append'), eval: calls('eval'), getrange: calls('getrange') };
  } finally {
    redis.disconnect();
  }
}

describe('RedisFeatureStore', () => {
  redisStoreContract();

  it('enriches a batch of 256 in one pipelined round trip', async () => {
    const { store, cleanup } = await redisStore();
    try {
      const txs = Array.from({ length: 256 }, (_, i) =>
        tx(`b${i}`, `c${i % 16}`, `t${i % 8}`, T0 + i * 60_000, 100 + i),
      );
      const pipeline = vi.spyOn(store.client, 'pipeline');
      const out = new Float32Array(256 * N_FEATURES);
      const before = await commandCalls();
      expect(await store.enrich(txs, 256, out)).toBeNull();
      expect(pipeline).toHaveBeenCalledTimes(1);
      // Customer c15's 16th transaction: 16 in its windows.
      expect(out[255 * N_FEATURES + 3]).toBe(16);
      // Constant work per transaction: two APPENDs each (sent as one script call), plus reads of
      // entities not cached yet.
      const first = await commandCalls();
      expect(first.append - before.append).toBe(256 * 2);
      expect(first.eval - before.eval).toBe(1);
      const issued = pipeline.mock.results[0].value as { length: number };
      expect(issued.length).toBeLessThanOrEqual(1 + 1 + 16 + 8 * 8);
      const again = txs.map((t, i) => ({ ...t, transaction_id: `n${i}`, event_time: t.event_time + 300 * 60_000 }));
      expect(await store.enrich(again, 256, out)).toBeNull();
      expect(pipeline).toHaveBeenCalledTimes(2);
      // The marker and the script.
      expect((pipeline.mock.results[1].value as { length: number }).length).toBe(2);
      const second = await commandCalls();
      expect(second.append - first.append).toBe(256 * 2);
      expect(out[255 * N_FEATURES + 3]).toBe(32);
      pipeline.mockRestore();
    } finally {
      await cleanup();
      await store.close();
    }
  });

  it('sends a run of appends as one script call, in queue order, each with its own reply', async () => {
    const redis = new Redis(REDIS_URL);
    const k = `fs-test:batch:${Date.now().toString(36)}:`;
    try {
      await redis.hset(`${k}h`, 'f', '1');
      const batch = new RedisBatch();
      const before = batch.push(`${k}a`, (p) => p.get(`${k}a`));
      const a1 = batch.append(`${k}a`, 'xy');
      const b1 = batch.append(`${k}b`, 'z');
      const a2 = batch.append(`${k}a`, 'uvw');
      const after = batch.push(`${k}a`, (p) => p.get(`${k}a`));
      const wrong = batch.append(`${k}h`, 'x');
      const last = batch.append(`${k}b`, 'q');
      const calls = await commandCalls();
      const replies = await batch.exec(redis, 1000);
      expect(replies).toHaveLength(7);
      expect(replies[before]).toEqual([null, null]);
      expect(replies[a1]).toEqual([null, 2]);
      expect(replies[b1]).toEqual([null, 1]);
      expect(replies[a2]).toEqual([null, 5]);
      expect(replies[after]).toEqual([null, 'xyuvw']);
      // A failed script fails every append of its run, and only those.
      expect(replies[wrong][0]?.message).toMatch(/WRONGTYPE/);
      expect(replies[last][0]?.message).toMatch(/WRONGTYPE/);
      expect(await redis.get(`${k}b`)).toBe('z');
      const ran = await commandCalls();
      // Two runs: two script calls.
      expect(ran.eval - calls.eval).toBe(2);
    } finally {
      await redis.del(`${k}a`, `${k}b`, `${k}h`);
      redis.disconnect();
    }
  });

  it('costs a card with 2,000 transactions in 30 days the same commands per transaction as a new one', async () => {
    const { store, cleanup } = await redisStore({ labelRefreshMs: 3_600_000 });
    try {
      const heavy = (i: number) => tx(`h${i}`, 'heavy', `t${i % 4}`, T0 + Math.floor((i * 30 * DAY_MS) / 2000), 100);
      const out = new Float32Array(256 * N_FEATURES);
      for (let i = 0; i < 2000; i += 250) {
        const b = Array.from({ length: 250 }, (_, j) => heavy(i + j));
        expect(await store.enrich(b, 250, out)).toBeNull();
      }
      expect(out[249 * N_FEATURES + 7]).toBe(2000);
      const pipeline = vi.spyOn(store.client, 'pipeline');
      const next = Array.from({ length: 256 }, (_, j) => heavy(2000 + j));
      const before = await commandCalls();
      expect(await store.enrich(next, 256, out)).toBeNull();
      expect(pipeline).toHaveBeenCalledTimes(1);
      // Two APPENDs per transaction, the marker, and at most a compaction and a few new buckets.
      const after = await commandCalls();
      expect(after.append - before.append).toBe(2 * 256);
      expect(after.getrange - before.getrange).toBeLessThanOrEqual(10);
      const issued = (pipeline.mock.results[0].value as { length: number }).length;
      expect(issued).toBeLessThanOrEqual(2 + 10);
      pipeline.mockRestore();
    } finally {
      await cleanup();
      await store.close();
    }
  });

  it('lays out keys with escaped hash tags, compacts old entries and sets a TTL', async () => {
    const { store, prefix, cleanup } = await redisStore();
    const redis = new Redis(REDIS_URL);
    try {
      const keys = featureKeys(prefix);
      expect(keys.customerLog('c1')).toBe(`${prefix}{c:c1}`);
      expect(keys.terminalLog('t1', 3)).toBe(`${prefix}{t:t1}:3`);
      // No id can choose or break a hash tag.
      expect(keys.customerLog('a}b{c%')).toBe(`${prefix}{c:a%7Db%7Bc%25}`);
      expect(keySlot(keys.customerLog('x}')) === keySlot(keys.customerLog('x%7D'))).toBe(false);
      expect(keySlot(keys.customerLog('{evil}'))).toBe(keySlot(`{c:%7Bevil%7D}`));
      const first = tx('a0', 'c1', 't1', T0, 100);
      await enrichOne(store, first);
      await store.applyLabels([label(first)]);
      for (let d = 1; d < 100; d++) await enrichOne(store, tx(`a${d}`, 'c1', 't1', T0 + d * DAY_MS, 100));
      // The customer's log was compacted to its live entries (≤ 2× the 39 retained).
      const log = await redis.getBuffer(keys.customerLog('c1'));
      const ids = new Set<string>();
      parseLog(log!, (_k, _t, _a, id) => ids.add(id));
      expect(ids.size).toBeLessThanOrEqual(78);
      expect(ids.has('a99')).toBe(true);
      expect(ids.has('a0')).toBe(false);
      const ttl = await redis.pttl(keys.customerLog('c1'));
      expect(ttl).toBeGreaterThan(59 * DAY_MS);
      expect(ttl).toBeLessThanOrEqual(60 * DAY_MS);
      // Terminal buckets far behind every window were deleted.
      const buckets = await redis.keys(`${prefix}{t:t1}:*`);
      expect(buckets.length).toBeLessThanOrEqual(6);
      const row = await enrichOne(store, tx('late', 'c1', 't1', T0 + 99 * DAY_MS + 1, 100));
      expect(row.slice(3)).toEqual([
        2,
        1,
        8,
        1,
        31,
        1,
        1,
        0,
        7,
        0,
        30,
        0,
        1,
        1,
        0,
        1,
        30,
        Math.fround(1 / DAY_MS),
        0,
        0,
      ]);
    } finally {
      redis.disconnect();
      await cleanup();
      await store.close();
    }
  });

  it('rejects connect() with STACK_UNAVAILABLE when Redis does not answer', async () => {
    const started = Date.now();
    const err = await RedisFeatureStore.connect({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 500 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FraudError);
    expect((err as FraudError).code).toBe(ErrorCodes.STACK_UNAVAILABLE);
    expect((err as FraudError).message).toMatch(/redis:\/\/127\.0\.0\.1:1/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
