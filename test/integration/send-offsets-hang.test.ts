// Exactly-once: librdkafka's sendOffsetsToTransaction can wait for a moving group coordinator past its
// own timeout (confluentinc/librdkafka#5456); in a chaos leader kill a write waited there 40 s, until
// the stall watchdog exited the scorer. Here the real client on the real broker, with the second
// sendOffsets never answering: the sink gives up on it, replaces the producer (the new one fences the
// old and the broker aborts its transaction), and every transaction is still decided exactly once.
import { afterAll, describe, expect, it } from 'vitest';
import type { CkKafka, CkProducer } from '../../src/kafka/confluent-client.js';
import { confluentClient } from '../../src/kafka/confluent-client.js';
import { ConfluentSink } from '../../src/kafka/confluent-sink.js';
import { ConfluentSource } from '../../src/kafka/confluent-source.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import { decisionIdOf, inOrderWrites } from '../helpers/decide.js';
import { createTestTopics, produceTransactions, readTopic, useStackClients } from '../helpers/kafka-io.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

/** The real client, except that the listed sendOffsets calls (1-based, across producers) never answer. */
function hangingSendOffsets(ck: CkKafka, hung: Set<number>, seen: { hung: number }): CkKafka {
  let calls = 0;
  return {
    consumer: (cfg) => ck.consumer(cfg),
    producer(cfg) {
      const p = ck.producer(cfg);
      const wrapped: CkProducer = {
        connect: () => p.connect(),
        disconnect: () => p.disconnect(),
        _getInternalClient: () => p._getInternalClient?.() ?? null,
        sendBatch: (b) => p.sendBatch(b),
        sendOffsets: (a) => {
          if (!hung.has(++calls)) return p.sendOffsets(a);
          seen.hung++;
          return new Promise<void>(() => {});
        },
        abort: () => p.abort(),
        commit: () => p.commit(),
        transaction: async () => {
          await p.transaction();
          return wrapped;
        },
      };
      return wrapped;
    },
  };
}

describe('exactly-once: sendOffsetsToTransaction that never answers (real broker)', () => {
  const shared = useStackClients();
  const running: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of running) await stop().catch(() => {});
  });

  it('replaces the producer and goes on: 0 lost, 0 duplicated', async () => {
    const t = await createTestTopics(shared.admin, 'sohang', 3);
    const txs = [...quickStream({ count: 1500, seed: 914, customers: 100, terminals: 50, meanGapMs: 60_000 })];
    const seen = { hung: 0 };
    const ck = hangingSendOffsets(confluentClient(kafkaBrokers(), randomName('sohang')), new Set([2]), seen);
    const source = new ConfluentSource(ck, {
      topic: t.transactions,
      groupId: t.groupId,
      partitionsConcurrently: 3,
      maxInFlight: 2000,
      readCommitted: true,
      sessionTimeoutMs: 10_000,
      stallTimeoutMs: 60_000,
      settleSink: () => sink.settle(),
    });
    const sink: ConfluentSink = new ConfluentSink(
      ck,
      {
        decisionsTopic: t.decisions,
        dlqTopic: t.dlq,
        groupId: t.groupId,
        delivery: 'exactly-once',
        transactionalId: `${t.groupId}.tx`,
        decisionSchemaId: 1,
        transactionTimeoutMs: 10_000,
        sendOffsetsTimeoutMs: 1000,
      },
      source,
    );
    await sink.connect();
    const handler = inOrderWrites((b) => sink.write(b));
    const run = source.run(handler);
    running.push(async () => {
      await source.stop();
      await run.catch(() => {});
      await sink.close();
    });
    for (let i = 0; i < txs.length; i += 100) {
      await produceTransactions(shared.kafka, t.transactions, txs.slice(i, i + 100));
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = await readTopic(shared.kafka, t.decisions, txs.length, {
      readCommitted: true,
      timeoutMs: 60_000,
      quietMs: 3000,
    });
    const ids = out.map((m) => decisionIdOf(m.value));
    const unique = new Set(ids);
    expect(seen.hung).toBe(1);
    expect(txs.filter((tx) => !unique.has(tx.transaction_id)).length).toBe(0);
    expect(ids.length - unique.size).toBe(0);
  });
});
