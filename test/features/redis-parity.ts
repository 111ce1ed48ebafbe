// Both stores must give bit-identical vectors for the same stream: every feature of every record. Run on
// the single Redis (parity.test.ts) and on a Redis Cluster (redis-cluster.test.ts).

import { expect } from 'vitest';
import { FEATURE_NAMES, N_FEATURES } from '../../src/features/feature-names.js';
import type { FeatureStore } from '../../src/features/feature-store.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import type { RedisFeatureStore, RedisFeatureStoreOptions } from '../../src/features/redis-store.js';
import { deletePrefix, type RedisTarget, redisStore, SINGLE_REDIS } from './redis-helpers.js';
import { rng, type StoreCall, toCalls, txStream } from './tx-stream.js';

async function run(store: FeatureStore, calls: readonly StoreCall[]): Promise<Float32Array[]> {
  const outputs: Float32Array[] = [];
  for (const call of calls) {
    if (call.kind === 'labels') {
      await store.applyLabels(call.labels);
    } else {
      const out = new Float32Array(call.txs.length * N_FEATURES);
      expect(await store.enrich(call.txs, call.txs.length, out)).toBeNull();
      outputs.push(out);
    }
  }
  return outputs;
}

/** A seeded stream with labels, duplicates and late events through both stores; every feature compared. */
export async function expectRedisParity(
  target: RedisTarget = SINGLE_REDIS,
  options: { cleanupWith?: RedisTarget; store?: Partial<RedisFeatureStoreOptions>; maxLateMs?: number } = {},
): Promise<RedisFeatureStore['cacheStats']> {
  const events = txStream({
    seed: 7,
    transactions: 5000,
    days: 60,
    customers: 200,
    terminals: 100,
    maxLateMs: options.maxLateMs,
  });
  const sizes = rng(11);
  const calls = toCalls(events, () => 1 + Math.floor(sizes() * 300));
  const txEvents = events.filter((e) => e.kind === 'tx').length;
  const enrichCalls = calls.filter((c) => c.kind === 'enrich');
  expect(txEvents).toBeGreaterThan(5000); // duplicates were redelivered
  expect(enrichCalls.length).toBeGreaterThan(20);

  const memory = new MemoryFeatureStore();
  const { store: redis, prefix } = await redisStore(options.store ?? {}, target);
  const cleanup = () => deletePrefix(prefix, options.cleanupWith ?? target);
  try {
    const a = await run(memory, calls);
    const b = await run(redis, calls);
    let compared = 0;
    let nonZeroRisk = 0;
    let lastKnownFraud = 0;
    const mismatches: string[] = [];
    for (let c = 0; c < a.length; c++) {
      const txs = (enrichCalls[c] as { txs: { transaction_id: string }[] }).txs;
      for (let i = 0; i < a[c].length; i++) {
        compared++;
        const f = i % N_FEATURES;
        if (f === 10 && a[c][i] > 0) nonZeroRisk++;
        if (f === N_FEATURES - 1 && a[c][i] === 1) lastKnownFraud++;
        if (!Object.is(a[c][i], b[c][i]) && mismatches.length < 10) {
          const id = txs[Math.floor(i / N_FEATURES)].transaction_id;
          mismatches.push(`${id} ${FEATURE_NAMES[f]}: memory ${a[c][i]} redis ${b[c][i]}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBe(txEvents * N_FEATURES);
    // The stream exercises the fraud windows.
    expect(nonZeroRisk).toBeGreaterThan(10);
    // … and the terminal recency features (the last one is 1 only with a known fraud at the latest time).
    expect(lastKnownFraud).toBeGreaterThan(10);
    return redis.cacheStats;
  } finally {
    await cleanup();
    await redis.close();
    await memory.close();
  }
}
