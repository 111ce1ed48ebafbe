import type { Redis } from 'ioredis';
import { featureKeys } from './keys.js';

/** Deletes every feature-store key under `prefix` (a re-scoring run's namespace, a test's, a benchmark's). */
export async function dropNamespace(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', featureKeys(prefix).pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
