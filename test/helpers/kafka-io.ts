import { Redis } from 'ioredis';
import type { Admin, IHeaders } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { transactionEncoder } from '../../src/avro/encoders.js';
import { Kafka, logLevel } from '../../src/kafka/kafkajs.js';
import type { Transaction } from '../../src/types.js';
import { kafkaBrokers, randomName, redisUrl } from './stack.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export function testKafka(): Kafka {
  return new Kafka({ clientId: 'fraudscore-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
}

export interface TestTopics {
  transactions: string;
  decisions: string;
  dlq: string;
  labels: string;
  groupId: string;
  all: string[];
}

/**
 * A sink's two output topics, `<base>.decisions` (3 partitions) and `<base>.dlq` (1 partition, with
 * `dlqConfig` entries), deleted by a closer pushed on `closers`.
 */
export async function createSinkTopics(
  admin: Admin,
  base: string,
  closers: (() => Promise<unknown>)[],
  dlqConfig: { name: string; value: string }[] = [],
): Promise<{ decisions: string; dlq: string }> {
  const decisions = `${base}.decisions`;
  const dlq = `${base}.dlq`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: decisions, numPartitions: 3 },
      { topic: dlq, numPartitions: 1, configEntries: dlqConfig },
    ],
  });
  closers.push(() => admin.deleteTopics({ topics: [decisions, dlq] }));
  return { decisions, dlq };
}
/** Fresh random topics for one test, created explicitly (the broker does not auto-create). */
export async function createTestTopics(admin: Admin, prefix: string, partitions = 3): Promise<TestTopics> {
  const base = randomName(prefix);
  const t: TestTopics = {
    transactions: `${base}.transactions`,
    decisions: `${base}.decisions`,
    dlq: `${base}.dlq`,
    labels: `${base}.labels`,
    groupId: `${base}.group`,
    all: [],
  };
  t.all = [t.transactions, t.decisions, t.dlq, t.labels];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: t.transactions, numPartitions: partitions, replicationFactor: 1 },
        { topic: t.decisions, numPartitions: partitions, replicationFactor: 1 },
        { topic: t.dlq, numPartitions: 1, replicationFactor: 1 },
        { topic: t.labels, numPartitions: 1, replicationFactor: 1 },
      ],
    });
  } catch (err) {
    // A busy broker can answer the wait for leaders with "does not host this topic-partition" while
    // the topics are being made: they exist; wait for their leaders instead of failing the test.
    await leadersOf(admin, t.all, err);
  }
  return t;
}

async function leadersOf(admin: Admin, topics: string[], cause: unknown): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const meta = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
    if (meta?.topics.length === topics.length && meta.topics.every((m) => m.partitions.every((p) => p.leader >= 0))) {
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw cause;
}

export async function deleteTestTopics(admin: Admin, t: TestTopics): Promise<void> {
  await admin.deleteTopics({ topics: t.all }).catch(() => {});
}

/** Produces transactions keyed by customer id (one customer stays on one partition, in order). */
export async function produceTransactions(
  kafka: Kafka,
  topic: string,
  txs: readonly Transaction[],
  overrides: ReadonlyMap<number, Buffer | null> = new Map(),
): Promise<void> {
  const enc = transactionEncoder();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < txs.length; i += 500) {
      const messages = txs.slice(i, i + 500).map((tx, j) => ({
        key: tx.customer_id,
        value: overrides.has(i + j) ? overrides.get(i + j)! : enc.encode(tx),
      }));
      await producer.send({ topic, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ReadMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  partition: number;
  offset: string;
}

/**
 * Reads a topic from the beginning with a fresh group until `expected` messages arrived and nothing
 * more came for `quietMs` (so duplicates beyond `expected` are seen too), or until `timeoutMs`.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
  opts: { readCommitted?: boolean; timeoutMs?: number; quietMs?: number } = {},
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({
    groupId: randomName('reader'),
    readUncommitted: !(opts.readCommitted ?? true),
    maxWaitTimeInMs: 100,
  });
  const out: ReadMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let lastArrival = Date.now();
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      out.push({
        key: message.key,
        value: message.value,
        headers: message.headers ?? {},
        partition,
        offset: message.offset,
      });
      lastArrival = Date.now();
    },
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const quiet = opts.quietMs ?? 1500;
  while (Date.now() < deadline) {
    if (out.length >= expected && Date.now() - lastArrival >= quiet) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  return out;
}

export interface StackClients {
  kafka: Kafka;
  admin: Admin;
  redis: Redis;
  /** Run after the file's tests, last registered first (topics, key prefixes, processes). */
  cleanups: (() => Promise<unknown>)[];
}

/**
 * Registers the beforeAll/afterAll of an integration test file: a Kafka client with a connected admin
 * and a Redis client, and the cleanups its tests push. Read the fields inside tests, not at load time.
 */
export function useStackClients(): StackClients {
  const clients = { cleanups: [] } as unknown as StackClients;
  beforeAll(async () => {
    clients.kafka = testKafka();
    clients.admin = clients.kafka.admin();
    await clients.admin.connect();
    clients.redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    for (const c of clients.cleanups.reverse()) await c().catch(() => {});
    await clients.admin.disconnect();
    clients.redis.disconnect();
  });
  return clients;
}
