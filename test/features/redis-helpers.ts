import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { featureKeys } from '../../src/features/keys.js';
import { RedisFeatureStore, type RedisFeatureStoreOptions } from '../../src/features/redis-store.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function randomPrefix(): string {
  return `test:fs:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under prefix (SCAN + DEL). */
export async function deletePrefix(prefix: string, url = REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', featureKeys(prefix).pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** A store on a fresh random prefix whose cleanup deletes its keys. */
export async function redisStore(options: Partial<RedisFeatureStoreOptions> = {}) {
  const prefix = randomPrefix();
  // A generous timeout: functional tests should not flake on a busy CI machine.
  const store = await RedisFeatureStore.connect({ url: REDIS_URL, prefix, commandTimeoutMs: 2000, ...options });
  return { store, prefix, cleanup: () => deletePrefix(prefix).then(() => undefined) };
}
