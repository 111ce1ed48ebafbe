// What every Redis-backed store must show, on the single Redis (redis-store.test.ts) and on a Redis
// Cluster (redis-cluster.test.ts): the FeatureStore contract, and idempotency across instances.

import { expect, it } from 'vitest';
import { RedisFeatureStore } from '../../src/features/redis-store.js';
import { type RedisTarget, redisStore, SINGLE_REDIS } from './redis-helpers.js';
import { enrichOne, enrichRows, featureStoreContract, T0, tx } from './store-contract.js';

export function redisStoreContract(target: RedisTarget = SINGLE_REDIS): void {
  featureStoreContract(() => redisStore({}, target));

  it('reads state written by another instance (a restart, a rebalance) and counts each id once', async () => {
    const { store, prefix, cleanup } = await redisStore({}, target);
    const other = await RedisFeatureStore.connect({
      url: target.url,
      cluster: target.cluster,
      prefix,
      commandTimeoutMs: 2000,
    });
    try {
      await enrichOne(store, tx('a', 'c1', 't1', T0, 100));
      await enrichOne(store, tx('b', 'c1', 't1', T0 + 1000, 300));
      // A second instance with an empty cache: a redelivered b and a new c.
      const [b, c] = await enrichRows(other, [
        tx('b', 'c1', 't1', T0 + 1000, 300),
        tx('c', 'c1', 't1', T0 + 2000, 500),
      ]);
      expect(b.slice(3, 5)).toEqual([2, 2]);
      expect(c.slice(3, 5)).toEqual([3, 3]);
      // The first instance's cache is stale: its append sees the other's and re-reads before computing.
      const d = await enrichOne(store, tx('d', 'c1', 't1', T0 + 3000, 700));
      expect(d.slice(3, 5)).toEqual([4, 4]);
    } finally {
      await other.close();
      await cleanup();
      await store.close();
    }
  });
}
