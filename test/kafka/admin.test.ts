// fraudscore's topic administration against the real broker: the topics of a spec list (as in
// deploy/topics.json) are created with their partitions and configuration, idempotently, also when
// two callers race; an unreachable broker is an error that names it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, loadTopicSpecs, type TopicSpec } from '../../src/kafka/admin.js';
import kafkajs from '../../src/kafka/kafkajs.js';
import { testKafka } from '../helpers/kafka-io.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

const { ConfigResourceTypes } = kafkajs;

describe('ensureTopics', () => {
  const admin = testKafka().admin();
  const base = randomName('fraudscore-test-admin');
  const specs: TopicSpec[] = [
    { name: `${base}.a`, partitions: 3, replicationFactor: 1, config: { 'retention.ms': '3600000' } },
    { name: `${base}.b`, partitions: 1, replicationFactor: 1, config: {} },
  ];

  beforeAll(async () => {
    await admin.connect();
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: specs.map((s) => s.name) }).catch(() => {});
    await admin.disconnect();
  });

  it('creates missing topics with their partitions and config, and is a no-op the second time', async () => {
    // Two concurrent callers (e.g. two scorers starting together): both succeed.
    await Promise.all([ensureTopics(kafkaBrokers(), specs), ensureTopics(kafkaBrokers(), specs)]);
    const meta = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
    const partitions = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual(new Map(specs.map((s) => [s.name, s.partitions])));
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: specs[0]!.name, configNames: ['retention.ms'] }],
    });
    expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('3600000');

    // Already there: nothing changes, nothing fails (an existing topic is left as it is).
    await ensureTopics(kafkaBrokers(), [{ ...specs[1]!, partitions: 4 }]);
    const again = await admin.fetchTopicMetadata({ topics: [specs[1]!.name] });
    expect(again.topics[0]!.partitions).toHaveLength(1);
  });

  it("reads the project's topic list from deploy/topics.json", () => {
    const names = loadTopicSpecs().map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'fraudscore.transactions',
        'fraudscore.decisions',
        'fraudscore.dlq',
        'fraudscore.labels',
      ]),
    );
  });

  it('rejects within seconds, naming the broker, when no broker answers', async () => {
    const started = Date.now();
    const err = await ensureTopics(['127.0.0.1:1'], specs).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((err as Error).message).toMatch(/127\.0\.0\.1:1/);
  });
});
