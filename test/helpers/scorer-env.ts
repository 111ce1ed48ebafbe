// The environment a test scorer runs with: its own topics, group and (usually) Redis namespace.
import type { Redis } from 'ioredis';
import { featureKeys } from '../../src/features/keys.js';
import type { TestTopics } from './kafka-io.js';
import { kafkaBrokers, randomName, redisUrl } from './stack.js';

/** fraudscore's environment variables for a scorer on `t`; `extra` adds or overrides. */
export function scorerEnv(t: TestTopics, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    REDIS_URL: redisUrl(),
    FRAUDSCORE_TRANSACTIONS_TOPIC: t.transactions,
    FRAUDSCORE_DECISIONS_TOPIC: t.decisions,
    FRAUDSCORE_DLQ_TOPIC: t.dlq,
    FRAUDSCORE_LABELS_TOPIC: t.labels,
    FRAUDSCORE_GROUP_ID: t.groupId,
    FRAUDSCORE_CLIENT_ID: randomName('scorer'),
    // A crashed test scorer's partitions move on quickly (the broker's minimum).
    FRAUDSCORE_SESSION_TIMEOUT_MS: '6000',
    FRAUDSCORE_NO_HTTP: 'true',
    FRAUDSCORE_PROGRESS: 'off',
    ...extra,
  };
}

/** Deletes every feature-store key under `prefix`. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', featureKeys(prefix).pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
