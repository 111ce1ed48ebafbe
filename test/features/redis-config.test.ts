// Redis set up wrong is said at once: a database the server lacks and a user without permission on the
// store's keys are refused at start; a permission lost later shows in the health check and in the error
// counter, never only as degraded decisions.

import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { RedisFeatureStore } from '../../src/features/redis-store.js';
import { freePort, killRedis, startRedis } from '../helpers/redis-server.js';
import { T0, tx } from './store-contract.js';

describe('RedisFeatureStore configuration checks (own redis-server)', () => {
  let port: number;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    port = await freePort();
    server = await startRedis(port);
    const admin = new Redis({ port, host: '127.0.0.1' });
    // A user that may only touch keys under other:*.
    await admin.call('ACL', 'SETUSER', 'narrow', 'on', '>pw', '~other:*', '+@all');
    admin.disconnect();
  });

  afterAll(async () => {
    await killRedis(server);
  });

  it('refuses a database the server does not have', async () => {
    const err = await RedisFeatureStore.connect({ url: `redis://127.0.0.1:${port}/99` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FraudError);
    expect((err as FraudError).code).toBe(ErrorCodes.INVALID_CONFIG);
    expect((err as FraudError).message).toMatch(/no database 99/);
    // A database it has is fine.
    const ok = await RedisFeatureStore.connect({ url: `redis://127.0.0.1:${port}/3` });
    expect(ok.isHealthy()).toBe(true);
    await ok.close();
  });

  it("refuses to start for a user without permission on the store's keys (NOPERM), in one line", async () => {
    const err = await RedisFeatureStore.connect({ url: `redis://narrow:pw@127.0.0.1:${port}` }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FraudError);
    expect((err as FraudError).code).toBe(ErrorCodes.INVALID_CONFIG);
    expect((err as FraudError).message).toMatch(/^Redis at redis:\/\/narrow:\*\*\*@127\.0\.0\.1:\d+: .*NOPERM/);
    expect((err as FraudError).message).not.toContain(':pw@');
    expect((err as FraudError).message).not.toContain('\n');
  });

  it('shows NOPERM that starts later (an ACL changed at run time) in the health check and counts it', async () => {
    const admin = new Redis({ port, host: '127.0.0.1' });
    await admin.call('ACL', 'SETUSER', 'later', 'on', '>pw', '~fs:*', '+@all');
    const causes: string[] = [];
    const store = await RedisFeatureStore.connect({
      url: `redis://later:pw@127.0.0.1:${port}`,
      onRedisError: (cause) => causes.push(cause),
    });
    try {
      expect(store.isHealthy()).toBe(true);
      await admin.call('ACL', 'SETUSER', 'later', 'resetkeys', '~other:*');
      const out = new Float32Array(N_FEATURES);
      expect(await store.enrich([tx('a', 'c1', 't1', T0, 100)], 1, out)).toBe(ErrorCodes.FEATURES_UNAVAILABLE);
      expect(store.isHealthy()).toBe(false);
      expect(store.failureCause).toBe('noperm');
      expect(causes).toEqual(['noperm']);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});
