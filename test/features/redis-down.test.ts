// A Redis that dies must not stall or fail the pipeline: enrich() falls back to the default features and
// says why, then returns to real features once Redis is back, with no restart. A Redis that comes back
// empty never gives silently wrong features: until the windows have refilled, decisions say
// FEATURES_INCOMPLETE.

import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { writeDefaultFeatures } from '../../src/features/compute.js';
import { DAY_MS, N_FEATURES } from '../../src/features/feature-names.js';
import { RedisFeatureStore } from '../../src/features/redis-store.js';
import { freePort, killRedis as kill, startRedis } from '../helpers/redis-server.js';
import { T0, tx } from './store-contract.js';

describe('RedisFeatureStore when Redis goes away', () => {
  let port: number;
  let server: ChildProcess | undefined;
  let store: RedisFeatureStore | undefined;
  const commandTimeoutMs = 50;

  beforeAll(async () => {
    port = await freePort();
    server = await startRedis(port);
    store = await RedisFeatureStore.connect({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs });
  });

  afterAll(async () => {
    await store?.close();
    await kill(server);
  });

  it('degrades to default features within the command timeout and recovers without a restart', async () => {
    const s = store!;
    const out = new Float32Array(2 * N_FEATURES);
    const batch = [tx('a', 'c1', 't1', T0, 100), tx('b', 'c1', 't1', T0 + 1, 300)];
    expect(await s.enrich(batch, 2, out)).toBeNull();
    expect(out[N_FEATURES + 3]).toBe(2);
    expect(s.isHealthy()).toBe(true);

    await kill(server);
    server = undefined;

    const defaults = new Float32Array(2 * N_FEATURES);
    const later = [tx('c', 'c1', 't1', T0 + 2, 500), tx('d', 'c1', 't1', T0 + 3, 700)];
    writeDefaultFeatures(later[0], defaults, 0);
    writeDefaultFeatures(later[1], defaults, N_FEATURES);
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now();
      const cause = await s.enrich(later, 2, out);
      const elapsed = performance.now() - started;
      expect(cause).toBe(ErrorCodes.FEATURES_UNAVAILABLE);
      expect(Array.from(out)).toEqual(Array.from(defaults));
      // Generous for a loaded CI machine; without the fail-fast options this would wait for the reconnect.
      expect(elapsed).toBeLessThan(500);
      expect(s.isHealthy()).toBe(false);
      await sleep(100);
    }

    server = await startRedis(port);
    const deadline = Date.now() + 10_000;
    let cause: string | null = ErrorCodes.FEATURES_UNAVAILABLE;
    while (cause === ErrorCodes.FEATURES_UNAVAILABLE && Date.now() < deadline) {
      await sleep(100);
      cause = await s.enrich(later, 2, out);
    }
    // The restarted server is empty. The store notices (its namespace marker is gone) and writes back
    // what its cache holds (a and b), so its own customer's windows are whole again: c and d count a, b.
    expect(cause).toBeNull();
    expect(s.isHealthy()).toBe(true);
    expect(out[3]).toBe(3);
    expect(out[N_FEATURES + 3]).toBe(4);
    // Another member, whose cache held nothing, cannot vouch for any history before the loss: its
    // records are marked incomplete, never passed off as whole ...
    const other = await RedisFeatureStore.connect({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 2000 });
    try {
      const one = new Float32Array(N_FEATURES);
      expect(await other.enrich([tx('x0', 'c9', 't9', T0 + 30 * DAY_MS, 100)], 1, one)).toBe(
        ErrorCodes.FEATURES_INCOMPLETE,
      );
      // ... until the longest window (37 days) no longer reaches before the loss.
      expect(await other.enrich([tx('x1', 'c9', 't9', T0 + 38 * DAY_MS, 100)], 1, one)).toBeNull();
      // What the first store wrote back is there for everyone: c1 holds a, b, c, d and e.
      expect(await other.enrich([tx('e9', 'c1', 't1', T0 + 4, 900)], 1, one)).toBe(ErrorCodes.FEATURES_INCOMPLETE);
      expect(one[3]).toBe(5);
    } finally {
      await other.close();
    }
  });

  it('degrades within the command timeout while Redis hangs (SIGSTOP) and recovers on SIGCONT', async () => {
    const s = store!;
    const out = new Float32Array(N_FEATURES);
    const t1 = T0 + 40 * DAY_MS;
    expect(await s.enrich([tx('e', 'c2', 't1', t1, 100)], 1, out)).toBeNull();
    server!.kill('SIGSTOP');
    try {
      const started = performance.now();
      const cause = await s.enrich([tx('f', 'c2', 't1', t1 + 1, 300)], 1, out);
      const elapsed = performance.now() - started;
      expect(cause).toBe(ErrorCodes.FEATURES_UNAVAILABLE);
      expect(elapsed).toBeGreaterThanOrEqual(40);
      expect(elapsed).toBeLessThan(500);
      expect(s.isHealthy()).toBe(false);
    } finally {
      server!.kill('SIGCONT');
    }
    const deadline = Date.now() + 5000;
    let cause: string | null = ErrorCodes.FEATURES_UNAVAILABLE;
    while (cause !== null && Date.now() < deadline) {
      await sleep(50);
      cause = await s.enrich([tx('g', 'c2', 't1', t1 + 2, 500)], 1, out);
    }
    expect(cause).toBeNull();
    expect(s.isHealthy()).toBe(true);
    // f timed out on our side, but Redis ran it once it resumed: e, f and g are all counted.
    expect(out[3]).toBe(3);
  });
});
