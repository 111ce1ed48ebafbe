// A stuck or dying consumer of either kind is seen (issues 10 and 16), on the real broker: the labels
// consumer whose labels cannot be applied, and the transactions source whose batches never complete,
// both turn stalled (what /healthz and /readyz report, and fraudscore_consumer_stalled) within the
// stall timeout, while records wait at the head and no progress is made.

import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { labelEncoder } from '../../src/avro/encoders.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import { kafkaClient } from '../../src/kafka/client.js';
import { KafkaSource } from '../../src/kafka/kafka-source.js';
import { LabelConsumer } from '../../src/kafka/label-consumer.js';
import { HeadPoller, ProgressMetrics } from '../../src/monitoring/consumer-progress.js';
import { Metrics } from '../../src/monitoring/metrics.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Label } from '../../src/types.js';
import { createTestTopics, deleteTestTopics, produceTransactions, useStackClients } from '../helpers/kafka-io.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

const STALL_MS = 3000;

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('stalled consumers on the real broker', () => {
  const stack = useStackClients();

  it('labels that cannot be applied: the labels consumer is stalled, with the reason', async () => {
    const t = await createTestTopics(stack.admin, 'stall-labels', 1);
    stack.cleanups.push(() => deleteTestTopics(stack.admin, t));
    const registry = new client.Registry();
    const progress = new ProgressMetrics(registry, { stallAfterMs: STALL_MS });
    const feed = progress.consumer('labels');
    // The store refuses every label (as Redis would with a permission error): no progress is possible.
    const store = new MemoryFeatureStore();
    store.applyLabels = async () => {
      throw new Error('NOPERM this user has no permissions to run the evalsha command');
    };
    const kafka = kafkaClient(kafkaBrokers(), randomName('labels'));
    const labels = new LabelConsumer(
      kafka,
      { topic: t.labels, groupId: t.groupId, dlqTopic: t.dlq },
      store,
      new Metrics(undefined, { defaultMetrics: false }),
      feed,
    );
    const admin = kafka.admin();
    await admin.connect();
    const poller = new HeadPoller(
      [{ topic: t.labels, feed }],
      async (topic) =>
        (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, high: Number(o.high) })),
      200,
    );
    stack.cleanups.push(
      () => labels.stop(),
      () => poller.stop().then(() => admin.disconnect()),
    );
    await labels.start();
    poller.start();
    await until('labels consumer up', () => feed.status().up);
    expect(feed.status().stalled).toBe(false);

    const enc = labelEncoder();
    const producer = stack.kafka.producer();
    await producer.connect();
    const label: Label = {
      transaction_id: 'tx-1',
      customer_id: 'c',
      terminal_id: 't',
      event_time: Date.now(),
      reported_time: Date.now(),
      is_fraud: true,
    };
    await producer.send({ topic: t.labels, messages: [{ value: enc.encode(label) }] });
    await producer.disconnect();

    await until('labels consumer stalled', () => feed.status().stalled);
    const s = feed.status();
    expect(s.waitingRecords).toBe(1);
    expect(s.reason).toMatch(/no progress for \d+ s while 1 records wait|down: /);
    expect(await registry.metrics()).toMatch(/^fraudscore_consumer_stalled\{consumer="labels"\} 1$/m);
  }, 60_000);

  it('batches that never complete: the transactions source is stalled while records wait', async () => {
    const t = await createTestTopics(stack.admin, 'stall-tx', 1);
    stack.cleanups.push(() => deleteTestTopics(stack.admin, t));
    const registry = new client.Registry();
    const feed = new ProgressMetrics(registry, { stallAfterMs: STALL_MS }).consumer('transactions');
    const source = new KafkaSource(kafkaClient(kafkaBrokers(), randomName('tx')), {
      topic: t.transactions,
      groupId: t.groupId,
      partitionsConcurrently: 1,
      maxInFlight: 10_000,
      readCommitted: true,
      sessionTimeoutMs: 6000,
      progress: feed,
    });
    // A sink that never acknowledges: the first batch hangs, nothing is ever durable.
    const running = source.run(() => new Promise<void>(() => {}));
    await until('source up', () => feed.status().up);
    await produceTransactions(stack.kafka, t.transactions, [...quickStream({ count: 20, seed: 3 })]);
    await until('source stalled', () => feed.status().stalled);
    expect(feed.status().up).toBe(true);
    expect(feed.status().waitingRecords).toBe(20);
    expect(feed.status().reason).toMatch(/no progress for \d+ s while 20 records wait/);
    // stop() waits for the hanging batch: leave it to the test process' end.
    void source.consumer.disconnect().catch(() => {});
    void running;
  }, 60_000);
});
