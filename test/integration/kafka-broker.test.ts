// Real traffic against the real broker (started by scripts/stack.sh or docker compose): no mocks.
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { brokerApiVersions, kafkaBrokers, kafkaReleaseOfMetadataLevel, randomName } from '../helpers/stack.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

const MESSAGES = 100;

describe('Kafka broker', () => {
  const kafka = new Kafka({ clientId: 'fraudscore-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const topic = randomName('fraudscore-test-broker');

  beforeAll(async () => {
    await admin.connect();
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    });
    expect(created).toBe(true);
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  test('runs Apache Kafka 4.x in KRaft mode', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    expect(cluster.controller).not.toBeNull();

    const { apis, finalizedFeatures } = await brokerApiVersions(kafkaBrokers()[0]);
    const level = finalizedFeatures.get('metadata.version');
    expect(level, 'the broker reports a finalized metadata.version (KRaft)').toBeTypeOf('number');
    const release = kafkaReleaseOfMetadataLevel(level as number);
    expect(release).toMatch(/^4\.\d+$/);
    // The broker supports transactions (the exactly-once sink needs them): InitProducerId, AddOffsetsToTxn, EndTxn.
    for (const key of [22, 25, 26]) expect(apis.has(key)).toBe(true);
    console.log(
      `[kafka] broker ${kafkaBrokers()[0]} runs Kafka ${release} (metadata.version level ${level}, ` +
        `${apis.size} APIs, transaction.version ${finalizedFeatures.get('transaction.version') ?? '-'})`,
    );
  });

  test(`produces ${MESSAGES} messages and consumes them back with a fresh group`, async () => {
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    await producer.connect();
    const sent = new Map<string, string>();
    for (let i = 0; i < MESSAGES; i++) sent.set(`key-${i}`, `value-${i}-${randomName('v')}`);
    await producer.send({
      topic,
      acks: -1,
      messages: [...sent].map(([key, value]) => ({ key, value })),
    });
    await producer.disconnect();

    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets).toHaveLength(3);
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(MESSAGES);

    const consumer = kafka.consumer({ groupId: randomName('fraudscore-test-group'), maxWaitTimeInMs: 200 });
    const received = new Map<string, string>();
    const partitions = new Set<number>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`consumed ${received.size}/${MESSAGES} messages in 30 s`)),
          30_000,
        );
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              received.set(message.key?.toString() ?? '', message.value?.toString() ?? '');
              partitions.add(partition);
              if (received.size === MESSAGES) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }

    expect(received).toEqual(sent);
    expect(partitions.size).toBe(3);
    console.log(`[kafka] exchanged ${MESSAGES} messages over 3 partitions with the broker at ${kafkaBrokers()[0]}`);
  });
});
