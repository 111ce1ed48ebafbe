// Terminal features do not depend on how far each partition has got: two members (two store instances on
// one namespace, one partition each) give a record the terminal window as of events every partition has
// passed, waiting for a slow partition within the bound, and not for an idle one.

import { describe, expect, it } from 'vitest';
import { DAY_MS, N_FEATURES } from '../../src/features/feature-names.js';
import type { EnrichContext } from '../../src/features/feature-store.js';
import { RedisFeatureStore } from '../../src/features/redis-store.js';
import type { Transaction } from '../../src/types.js';
import { REDIS_URL, redisStore } from './redis-helpers.js';
import { T0, tx } from './store-contract.js';

const ctx = (partition: number, n: number): EnrichContext => ({
  partitions: new Array<number>(n).fill(partition),
  partitionCount: 2,
});

async function enrich(store: RedisFeatureStore, partition: number, txs: Transaction[]) {
  const out = new Float32Array(txs.length * N_FEATURES);
  const started = performance.now();
  const cause = await store.enrich(txs, txs.length, out, ctx(partition, txs.length));
  const rows = txs.map((_, i) => Array.from(out.subarray(i * N_FEATURES, (i + 1) * N_FEATURES)));
  return { cause, rows, ms: performance.now() - started };
}

describe('the shared event-time watermark', () => {
  it('makes a fast partition wait for a slow one, and not for an idle one', async () => {
    const idle: number[] = [];
    const waits: number[] = [];
    const hooks = {
      commandTimeoutMs: 2000,
      watermarkIdleMs: 600,
      onWatermarkIdle: (n: number) => idle.push(n),
      onWatermarkWait: (ms: number) => waits.push(ms),
    };
    const { store: a, prefix, cleanup } = await redisStore(hooks);
    const b = await RedisFeatureStore.connect({ url: REDIS_URL, prefix, ...hooks });
    try {
      // Both partitions start at T0.
      const [a0, b0] = await Promise.all([
        enrich(a, 0, [tx('a0', 'ca', 'U', T0, 100)]),
        enrich(b, 1, [tx('b0', 'cb', 'T', T0, 100)]),
      ]);
      expect([a0.cause, b0.cause]).toEqual([null, null]);

      // Partition 0 jumps 8 days ahead: its terminal window ends at T0 + 1 d, which partition 1 has not
      // passed. It waits until partition 1 does, and then counts partition 1's b1 as well as b0.
      const fast = enrich(a, 0, [tx('a1', 'ca', 'T', T0 + 8 * DAY_MS, 100)]);
      await new Promise((r) => setTimeout(r, 200));
      const slow = await enrich(b, 1, [
        tx('b1', 'cb', 'T', T0 + DAY_MS - 1, 100),
        tx('b2', 'cb', 'V', T0 + 2 * DAY_MS, 100),
      ]);
      expect(slow.cause).toBeNull();
      const a1 = await fast;
      expect(a1.cause).toBeNull();
      expect(a1.ms).toBeGreaterThanOrEqual(150);
      // terminal_nb_tx_1d, _7d, _30d over windows ending at T0 + 1 d: b1 in all, b0 (at the 1-day
      // window's open start) in the 7- and 30-day ones.
      expect([a1.rows[0][9], a1.rows[0][11], a1.rows[0][13]]).toEqual([1, 2, 2]);
      expect(waits.length).toBeGreaterThanOrEqual(1);

      // Partition 1 goes quiet: past the idle time it no longer holds partition 0.
      const a2 = await enrich(a, 0, [tx('a2', 'ca', 'T', T0 + 20 * DAY_MS, 100)]);
      expect(a2.cause).toBeNull();
      expect(a2.ms).toBeGreaterThanOrEqual(400);
      expect(a2.ms).toBeLessThan(5000);
      expect(idle.length).toBeGreaterThanOrEqual(1);

      // Live: a window end both partitions have passed costs no wait.
      const live = await enrich(b, 1, [tx('b3', 'cb', 'T', T0 + 3 * DAY_MS, 100)]);
      expect(live.cause).toBeNull();
      expect(live.ms).toBeLessThan(150);
    } finally {
      await b.close();
      await cleanup();
      await a.close();
    }
  });

  it('counts a partition this member holds from its floor before any of its records is written', async () => {
    const { store, cleanup } = await redisStore({ commandTimeoutMs: 2000, watermarkIdleMs: 30_000 });
    try {
      // Partition 1's first record (fetched, not yet handed over) is at T0 + 8 d: every event of it before
      // that was written by its earlier owner, so partition 0's record at T0 + 8 d needs no wait.
      const floors = new Map([
        [0, T0 + 8 * DAY_MS],
        [1, T0 + 8 * DAY_MS],
      ]);
      const out = new Float32Array(N_FEATURES);
      const started = performance.now();
      const cause = await store.enrich([tx('f0', 'ca', 'T', T0 + 8 * DAY_MS, 100)], 1, out, {
        partitions: [0],
        partitionCount: 2,
        floors,
      });
      expect(cause).toBeNull();
      expect(performance.now() - started).toBeLessThan(1000);
      // Without the floor, partition 1 has never reported: the record is not passed off as whole.
      const { store: bare, cleanup: cleanBare } = await redisStore({ commandTimeoutMs: 2000, watermarkMaxWaitMs: 300 });
      try {
        const c = await bare.enrich([tx('f1', 'ca', 'T', T0 + 8 * DAY_MS, 100)], 1, out, ctx(0, 1));
        expect(c).toBe('FRAUD_FEATURES_INCOMPLETE');
      } finally {
        await cleanBare();
        await bare.close();
      }
    } finally {
      await cleanup();
      await store.close();
    }
  });
});
