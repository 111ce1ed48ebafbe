import { existsSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { DAY_MS, N_FEATURES } from '../../src/features/feature-names.js';
import { featureKeys } from '../../src/features/keys.js';
import { luaPath } from '../../src/features/lua-scripts.js';
import { RedisFeatureStore } from '../../src/features/redis-store.js';
import { REDIS_URL, redisStore } from './redis-helpers.js';
import { enrichOne, featureStoreContract, label, T0, tx } from './store-contract.js';

describe('RedisFeatureStore', () => {
  featureStoreContract(redisStore);

  it('enriches a batch of 256 in one pipelined round trip', async () => {
    const { store, cleanup } = await redisStore();
    try {
      const txs = Array.from({ length: 256 }, (_, i) =>
        tx(`b${i}`, `c${i % 16}`, `t${i % 8}`, T0 + i * 60_000, 100 + i),
      );
      const pipeline = vi.spyOn(store.client, 'pipeline');
      const out = new Float32Array(256 * N_FEATURES);
      expect(await store.enrich(txs, 256, out)).toBeNull();
      expect(pipeline).toHaveBeenCalledTimes(1);
      const issued = pipeline.mock.results[0].value as { length: number };
      expect(issued.length).toBe(256);
      // Customer c15's 16th transaction: 16 in its windows.
      expect(out[255 * N_FEATURES + 3]).toBe(16);
      pipeline.mockRestore();
    } finally {
      await cleanup();
      await store.close();
    }
  });

  it('lays out keys with hash tags, trims old entries and sets a TTL', async () => {
    const { store, prefix, cleanup } = await redisStore();
    const redis = new Redis(REDIS_URL);
    try {
      const keys = featureKeys(prefix);
      expect(keys.customerTx('c1')).toBe(`${prefix}{c:c1}:tx`);
      expect(keys.terminalFraud('t1')).toBe(`${prefix}{t:t1}:fraud`);
      const first = tx('a0', 'c1', 't1', T0, 100);
      await enrichOne(store, first);
      await store.applyLabels([label(first)]);
      for (let d = 1; d < 100; d++) await enrichOne(store, tx(`a${d}`, 'c1', 't1', T0 + d * DAY_MS, 100));
      expect(await redis.zcard(keys.customerTx('c1'))).toBe(39);
      expect(await redis.zcard(keys.customerAmounts('c1'))).toBe(39);
      expect(await redis.zcard(keys.terminalTx('t1'))).toBe(39);
      expect(await redis.exists(keys.terminalFraud('t1'))).toBe(0);
      const ttl = await redis.pttl(keys.customerTx('c1'));
      expect(ttl).toBeGreaterThan(44 * DAY_MS);
      expect(ttl).toBeLessThanOrEqual(45 * DAY_MS);
      const row = await enrichOne(store, tx('late', 'c1', 't1', T0 + 99 * DAY_MS + 1, 100));
      expect(row.slice(3)).toEqual([2, 1, 8, 1, 31, 1, 1, 0, 7, 0, 30, 0]);
    } finally {
      redis.disconnect();
      await cleanup();
      await store.close();
    }
  });

  it('reloads its script after SCRIPT FLUSH (a server that restarted empty)', async () => {
    const { store, cleanup } = await redisStore();
    const redis = new Redis(REDIS_URL);
    try {
      await enrichOne(store, tx('a', 'c1', 't1', T0, 100));
      await redis.script('FLUSH');
      expect((await enrichOne(store, tx('b', 'c1', 't1', T0 + 1, 300))).slice(3, 5)).toEqual([2, 2]);
      await redis.script('FLUSH');
      await store.applyLabels([label(tx('a', 'c1', 't1', T0, 100))]);
      expect(store.isHealthy()).toBe(true);
    } finally {
      redis.disconnect();
      await cleanup();
      await store.close();
    }
  });

  it('finds its Lua scripts from the package root', () => {
    for (const name of ['add-transaction-4.lua', 'add-label-2.lua']) {
      expect(existsSync(luaPath(name))).toBe(true);
      expect(readFileSync(luaPath(name), 'utf8')).toMatch(/KEYS\[1\]/);
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
