// At-least-once: an offset commit that fails after the decisions were produced (a coordinator moving
// during a broker restart) must not produce them again. Here the real client on the real broker, with
// two commits answered by an injected coordinator error: every transaction is decided exactly once, and
// the group's committed offsets still reach the end (the kept offsets went with a later commit).
import { afterAll, describe, expect, it } from 'vitest';
import type { CkConsumer, CkKafka } from '../../src/kafka/confluent-client.js';
import { confluentClient } from '../../src/kafka/confluent-client.js';
import { ConfluentSink } from '../../src/kafka/confluent-sink.js';
import { ConfluentSource } from '../../src/kafka/confluent-source.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import { decisionIdOf as idOf, inOrderWrites } from '../helpers/decide.js';
import { createTestTopics, produceTransactions, readTopic, useStackClients } from '../helpers/kafka-io.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

/** The real client, except that the listed offset commits (1-based) fail as a moving coordinator's do. */
function failingCommits(ck: CkKafka, failed: Set<number>, seen: { failed: number }): CkKafka {
  let commits = 0;
  return {
    producer: (cfg) => ck.producer(cfg),
    consumer(cfg) {
      const c = ck.consumer(cfg);
      return new Proxy(c, {
        get(target, prop) {
          if (prop === 'commitOffsets') {
            return async (offsets: Parameters<CkConsumer['commitOffsets']>[0]) => {
              if (failed.has(++commits)) {
                seen.failed++;
                throw Object.assign(new Error('Broker: Not coordinator (injected)'), { code: 16, retriable: true });
              }
              await target.commitOffsets(offsets);
            };
          }
          const v = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
  };
}

describe('at-least-once: a failed offset commit (real broker)', () => {
  const shared = useStackClients();
  const running: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of running) await stop().catch(() => {});
  });

  it('produces nothing twice and commits the kept offsets later', async () => {
    const t = await createTestTopics(shared.admin, 'commitfail', 3);
    const txs = [...quickStream({ count: 1500, seed: 913, customers: 100, terminals: 50, meanGapMs: 60_000 })];
    const seen = { failed: 0 };
    const ck = failingCommits(confluentClient(kafkaBrokers(), randomName('commitfail')), new Set([2, 3]), seen);
    const source = new ConfluentSource(ck, {
      topic: t.transactions,
      groupId: t.groupId,
      partitionsConcurrently: 3,
      maxInFlight: 2000,
      readCommitted: true,
      sessionTimeoutMs: 10_000,
      stallTimeoutMs: 60_000,
    });
    const sink = new ConfluentSink(
      ck,
      {
        decisionsTopic: t.decisions,
        dlqTopic: t.dlq,
        groupId: t.groupId,
        delivery: 'at-least-once',
        transactionalId: `${t.groupId}.tx`,
        decisionSchemaId: 1,
        transactionTimeoutMs: 10_000,
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
    // In small sends, so that there are several fetches and writes (and commits) per partition.
    for (let i = 0; i < txs.length; i += 100) {
      await produceTransactions(shared.kafka, t.transactions, txs.slice(i, i + 100));
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = await readTopic(shared.kafka, t.decisions, txs.length, { timeoutMs: 60_000, quietMs: 3000 });
    const ids = out.map((m) => idOf(m.value));
    const unique = new Set(ids);
    expect(seen.failed).toBe(2);
    expect(txs.filter((tx) => !unique.has(tx.transaction_id)).length).toBe(0);
    expect(ids.length - unique.size).toBe(0);
    // Every record's offset is committed in the end: the group's offsets sum to the input's size.
    let committed = 0;
    for (let i = 0; i < 50 && committed < txs.length; i++) {
      const res = await shared.admin.fetchOffsets({ groupId: t.groupId, topics: [t.transactions] });
      committed = res[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      if (committed < txs.length) await new Promise((r) => setTimeout(r, 200));
    }
    expect(committed).toBe(txs.length);
  });
});
