import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { featureKeys } from '../../src/features/keys.js';
import { parseRedisSeeds } from '../../src/features/redis-connection.js';
import { RedisFeatureStore, type RedisFeatureStoreOptions } from '../../src/features/redis-store.js';
import { redisUrl } from '../helpers/stack.js';

// Through redisUrl(): a unit-project test that reaches for Redis fails with a pointer to SERVICE_TESTS.
export const REDIS_URL = redisUrl();

/** Where a store under test lives: the shared single Redis by default, or a Redis Cluster. */
export interface RedisTarget {
  url: string;
  cluster: boolean;
}

export const SINGLE_REDIS: RedisTarget = { url: REDIS_URL, cluster: false };

export function randomPrefix(): string {
  return `test:fs:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under prefix (SCAN + DEL; on a Cluster, on every master). */
export async function deletePrefix(prefix: string, target: RedisTarget | string = REDIS_URL): Promise<number> {
  const t = typeof target === 'string' ? { url: target, cluster: false } : target;
  if (t.cluster) {
    const cluster = new Cluster(parseRedisSeeds(t.url).nodes, { lazyConnect: true });
    await cluster.connect();
    try {
      // SCAN every node (a map just after a failover may be stale), DEL through the cluster (routed by slot).
      let deleted = 0;
      for (const node of cluster.nodes('all')) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', featureKeys(prefix).pattern, 'COUNT', 1000);
          cursor = next;
          for (const key of keys) deleted += await cluster.del(key);
        } while (cursor !== '0');
      }
      return deleted;
    } finally {
      cluster.disconnect();
    }
  }
  const redis = new Redis(t.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await deleteOn(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

async function deleteOn(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', featureKeys(prefix).pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** A store on a fresh random prefix whose cleanup deletes its keys. */
export async function redisStore(options: Partial<RedisFeatureStoreOptions> = {}, target: RedisTarget = SINGLE_REDIS) {
  const prefix = randomPrefix();
  // A generous timeout: functional tests should not flake on a busy CI machine.
  const store = await RedisFeatureStore.connect({
    url: target.url,
    cluster: target.cluster,
    prefix,
    commandTimeoutMs: 2000,
    ...options,
  });
  return { store, prefix, cleanup: () => deletePrefix(prefix, target).then(() => undefined) };
}
