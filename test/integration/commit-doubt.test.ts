// Issue 12: a leader kill left 10 exactly-once duplicates. A transaction's commit reached the
// coordinator, but the client never learned it (librdkafka stops waiting after 5 s while leaders move);
// the batch was then retried from this member's own record of what it had written, and decided twice.
// Here the real client on the real broker commits, and the first answer is replaced by librdkafka's
// retriable timeout: the sink must resume the commit, or settle it and rewind to the group's offsets.
import { afterAll, describe, expect, it } from 'vitest';
import type { CkError, CkKafka, CkProducer } from '../../src/kafka/confluent-client.js';
import { confluentClient } from '../../src/kafka/confluent-client.js';
import { ConfluentSink } from '../../src/kafka/confluent-sink.js';
import { ConfluentSource } from '../../src/kafka/confluent-source.js';
import type { SourceRecord } from '../../src/pipeline/source.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import { decide, decisionIdOf as idOf } from '../helpers/decide.js';
import { createTestTopics, produceTransactions, readTopic, useStackClients } from '../helpers/kafka-io.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

/** librdkafka's answer when commit_transaction stops waiting: retriable, the commit goes on. */
function timedOut(): CkError {
  return Object.assign(new Error('Local: Timed out (commit lost in transit, injected)'), {
    code: -185,
    retriable: true,
  });
}

/**
 * The real client, except that the answer to the listed commits (1-based, counted across producers)
 * is lost after the broker committed; `resumable` says whether librdkafka would still be committing.
 */
function losingCommits(ck: CkKafka, lost: Set<number>, resumable: boolean, seen: { lost: number }): CkKafka {
  let commits = 0;
  return {
    consumer: (cfg) => ck.consumer(cfg),
    producer(cfg) {
      const p = ck.producer(cfg);
      let owed = false;
      const wrapped: CkProducer = {
        connect: () => p.connect(),
        disconnect: () => p.disconnect(),
        // The sink produces through the native producer (one delivery handle per write).
        _getInternalClient: () => p._getInternalClient?.() ?? null,
        sendBatch: (b) => p.sendBatch(b),
        sendOffsets: (a) => p.sendOffsets(a),
        abort: () => p.abort(),
        transaction: async () => {
          await p.transaction();
          return wrapped;
        },
        commit: async () => {
          // A resumed commit that librdkafka already completed returns success.
          if (owed && resumable) {
            owed = false;
            return;
          }
          await p.commit();
          if (lost.has(++commits)) {
            owed = true;
            seen.lost++;
            throw timedOut();
          }
        },
      };
      return wrapped;
    },
  };
}

describe('exactly-once: a transaction commit whose answer was lost (real broker)', () => {
  const shared = useStackClients();
  const running: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of running) await stop().catch(() => {});
  });

  it.each([
    ['resumed: librdkafka completes the commit it was still waiting for', true],
    ['in doubt: the producer is replaced and the group offsets say what was committed', false],
  ])('%s: 0 lost, 0 duplicated', async (_name, resumable) => {
    const t = await createTestTopics(shared.admin, 'doubt', 3);
    const txs = [...quickStream({ count: 1500, seed: 912, customers: 100, terminals: 50, meanGapMs: 60_000 })];
    const seen = { lost: 0 };
    const ck = losingCommits(confluentClient(kafkaBrokers(), randomName('doubt')), new Set([2, 5]), resumable, seen);
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
      },
      source,
    );
    await sink.connect();
    // One write per fetched batch, in order: each decides its records and sends its positions.
    let chain = Promise.resolve();
    const handler = (records: SourceRecord[]): Promise<void> => {
      const write = chain.then(() => sink.write(decide(records)));
      chain = write.catch(() => {});
      return write;
    };
    const run = source.run(handler);
    running.push(async () => {
      await source.stop();
      await run.catch(() => {});
      await sink.close();
    });
    await produceTransactions(shared.kafka, t.transactions, txs);
    const out = await readTopic(shared.kafka, t.decisions, txs.length, {
      readCommitted: true,
      timeoutMs: 60_000,
      quietMs: 3000,
    });
    const ids = out.map((m) => idOf(m.value));
    const unique = new Set(ids);
    const lost = txs.filter((tx) => !unique.has(tx.transaction_id)).length;
    expect(seen.lost).toBe(2);
    expect(lost).toBe(0);
    expect(ids.length - unique.size).toBe(0);
  });
});
