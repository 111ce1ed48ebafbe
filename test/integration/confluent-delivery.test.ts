// The sink through librdkafka asks for delivery reports of failed records only
// (delivery.report.only.error): exactly-once lets commit_transaction confirm the rest, at-least-once a
// flush. Here the broker itself refuses one record of a write (a dead letter above the DLQ topic's
// max.message.bytes): the write must fail, nothing of it may be visible to read_committed (exactly-once)
// or have its offsets committed (at-least-once), and the next write must go through.
import { afterAll, describe, expect, it } from 'vitest';
import { decisionType } from '../../src/avro/schemas.js';
import { confluentClient } from '../../src/kafka/confluent-client.js';
import { ConfluentSink, type ConsumerOwner } from '../../src/kafka/confluent-sink.js';
import type { Position } from '../../src/pipeline/sink.js';
import type { Decision } from '../../src/types.js';
import { testDecision } from '../helpers/decide.js';
import { createSinkTopics, readTopic, useStackClients } from '../helpers/kafka-io.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

const decisionAvro = decisionType();

/** A decisions topic and a DLQ topic that refuses records above 20,000 bytes, and a connected sink writing to them. */
async function refusingSink(
  shared: ReturnType<typeof useStackClients>,
  closers: (() => Promise<void>)[],
  delivery: 'exactly-once' | 'at-least-once',
  owner: ConsumerOwner,
): Promise<{ sink: ConfluentSink; decisions: string }> {
  const base = randomName('delivery');
  const { decisions, dlq } = await createSinkTopics(shared.admin, base, closers, [
    { name: 'max.message.bytes', value: '20000' },
  ]);
  const sink = new ConfluentSink(
    confluentClient(kafkaBrokers(), `${base}-sink`),
    {
      decisionsTopic: decisions,
      dlqTopic: dlq,
      groupId: `${base}.group`,
      delivery,
      transactionalId: `${base}.tx`,
      decisionSchemaId: 1,
      transactionTimeoutMs: 10_000,
    },
    owner,
  );
  await sink.connect();
  closers.unshift(() => sink.close());
  return { sink, decisions };
}

/** A dead letter of 60,000 bytes: the DLQ topic refuses it. */
function tooBig(offset: string) {
  return {
    record: { key: null, value: Buffer.alloc(60_000, 7), topic: 'in', partition: 0, offset, arrivedAt: 0 },
    code: 'UNDECODABLE_RECORD',
    message: 'a test record above the DLQ topic limit',
  };
}

describe('exactly-once through librdkafka: a record the broker refuses (real broker)', () => {
  const shared = useStackClients();
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c().catch(() => {});
  });

  it('fails the write, commits none of it, and the next write goes through', async () => {
    // No offsets are sent (no positions): the owner is never asked.
    const owner = { consumer: undefined, owns: () => true, commit: async () => {} } as unknown as ConsumerOwner;
    const { sink, decisions } = await refusingSink(shared, closers, 'exactly-once', owner);
    const failed = sink.write({
      decisions: [testDecision('refused-1'), testDecision('refused-2')],
      deadLetters: [tooBig('0')],
      positions: [],
    });
    await expect(failed).rejects.toThrow(/too large|size/i);
    // The sink goes on: a later write commits.
    let written = false;
    for (let attempt = 0; attempt < 5 && !written; attempt++) {
      await sink.settle();
      written = await sink.write({ decisions: [testDecision('after')], deadLetters: [], positions: [] }).then(
        () => true,
        () => false,
      );
    }
    expect(written).toBe(true);
    const out = await readTopic(shared.kafka, decisions, 1, { readCommitted: true, timeoutMs: 20_000, quietMs: 2000 });
    const ids = out.map((m) => (decisionAvro.fromBuffer(m.value!.subarray(5)) as Decision).transaction_id);
    expect(ids).toEqual(['after']);
  });
});

describe('at-least-once through librdkafka: a record the broker refuses (real broker)', () => {
  const shared = useStackClients();
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c().catch(() => {});
  });

  it('fails the write before its offsets are committed, every time, and the next write commits', async () => {
    const committed: string[] = [];
    const owner = {
      consumer: undefined,
      owns: () => true,
      commit: async (positions: readonly Position[]) => {
        for (const p of positions) committed.push(p.offset);
      },
    } as unknown as ConsumerOwner;
    const { sink } = await refusingSink(shared, closers, 'at-least-once', owner);
    // The refusal arrives as a delivery report while the write waits for its records: each of these
    // writes must see it, however its report and the end of the flush are ordered on the event loop.
    for (let i = 0; i < 20; i++) {
      const decided = Array.from({ length: 50 }, (_, k) => testDecision(`refused-${i}-${k}`));
      await expect(
        sink.write({
          decisions: decided,
          deadLetters: [tooBig(String(i))],
          positions: [{ topic: 'in', partition: 0, offset: String(i + 1) }],
        }),
      ).rejects.toThrow(/too large|size/i);
    }
    expect(committed).toEqual([]);
    await sink.write({
      decisions: [testDecision('after')],
      deadLetters: [],
      positions: [{ topic: 'in', partition: 0, offset: '99' }],
    });
    expect(committed).toEqual(['99']);
  });
});
