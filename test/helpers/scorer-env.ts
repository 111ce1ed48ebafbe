// The environment a test scorer runs with: its own topics, group and (usually) Redis namespace.
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
