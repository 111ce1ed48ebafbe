// A batch decided on default features while Redis was away is not forgotten: once Redis answers, its
// transactions are appended before the next batch, so later windows count them as the in-memory store
// (and backfill) does. Redis here keeps its data across the outage (AOF), as a restarted server or a
// promoted replica does.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import { RedisFeatureStore } from '../../src/features/redis-store.js';
import { freePort, killRedis, startRedis } from '../helpers/redis-server.js';
import { T0, tx } from './store-contract.js';

describe('RedisFeatureStore after an outage (own redis-server)', () => {
  let port: number;
  let dir: string;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(path.join(tmpdir(), 'fraudscore-replay-'));
    server = await startRedis(port, dir);
  });

  afterAll(async () => {
    await killRedis(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends the transactions of degraded batches once Redis answers: later features equal the in-memory store', async () => {
    const store = await RedisFeatureStore.connect({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 500 });
    const memory = new MemoryFeatureStore();
    const batches = [0, 1, 2, 3].map((k) =>
      Array.from({ length: 20 }, (_, i) => tx(`r${k}-${i}`, `c${i % 5}`, `t${i % 3}`, T0 + k * 60_000 + i, 100 + i)),
    );
    const out = new Float32Array(20 * N_FEATURES);
    const ref = new Float32Array(20 * N_FEATURES);
    try {
      expect(await store.enrich(batches[0], 20, out)).toBeNull();
      await killRedis(server);
      server = undefined;
      expect(await store.enrich(batches[1], 20, out)).toBe(ErrorCodes.FEATURES_UNAVAILABLE);
      expect(await store.enrich(batches[2], 20, out)).toBe(ErrorCodes.FEATURES_UNAVAILABLE);
      server = await startRedis(port, dir);
      const deadline = Date.now() + 10_000;
      let cause: string | null = ErrorCodes.FEATURES_UNAVAILABLE;
      while (cause !== null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        cause = await store.enrich(batches[3], 20, out);
      }
      expect(cause).toBeNull();
      for (const b of batches) await memory.enrich(b, 20, ref);
      expect(Array.from(out)).toEqual(Array.from(ref));
      // c4's 16 transactions: 4 per batch, the two degraded batches included.
      expect(out[19 * N_FEATURES + 3]).toBe(16);
    } finally {
      await store.close();
      await memory.close();
    }
  });
});
