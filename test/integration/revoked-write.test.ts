// At-least-once, every client: a write whose partitions the source no longer owns (revoked, or the
// process was stopped meanwhile) must produce nothing and commit nothing, and fail with
// PARTITIONS_REVOKED so that the source retries it. A member resumed from SIGSTOP runs its pending
// write before its watchdog notices the stop; decisions produced then, for partitions another member
// has taken over, are duplicates. The same owner answering true lets the write through.
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { confluentClient } from '../../src/kafka/confluent-client.js';
import { ConfluentSink, type ConsumerOwner } from '../../src/kafka/confluent-sink.js';
import { KafkaSink, type OffsetOwner } from '../../src/kafka/kafka-sink.js';
import { platformaticBase } from '../../src/kafka/platformatic-client.js';
import { type GroupOwner, PlatformaticSink } from '../../src/kafka/platformatic-sink.js';
import { PLAINTEXT } from '../../src/kafka/security.js';
import type { OutputBatch, Position, Sink } from '../../src/pipeline/sink.js';
import { testDecision } from '../helpers/decide.js';
import { createSinkTopics, readTopic, useStackClients } from '../helpers/kafka-io.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

/** An owner that owns while `owned` is true and counts commits. */
function owner(): OffsetOwner & { owned: boolean; commits: number } {
  return {
    owned: false,
    commits: 0,
    owns() {
      return this.owned;
    },
    async commit(_positions: readonly Position[]) {
      this.commits++;
    },
  };
}

describe('at-least-once write for partitions no longer owned', () => {
  const shared = useStackClients();
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c().catch(() => {});
  });

  it.each(['confluent', 'kafkajs', 'platformatic'] as const)(
    '%s: produces nothing, commits nothing, fails PARTITIONS_REVOKED; then writes once owned',
    async (client) => {
      const base = randomName(`revoked-${client}`);
      const { decisions, dlq } = await createSinkTopics(shared.admin, base, closers);
      const opts = {
        decisionsTopic: decisions,
        dlqTopic: dlq,
        groupId: `${base}.group`,
        delivery: 'at-least-once' as const,
        transactionalId: `${base}.tx`,
        decisionSchemaId: null,
        transactionTimeoutMs: 10_000,
      };
      const o = owner();
      const sink: Sink & { connect(): Promise<void> } =
        client === 'confluent'
          ? new ConfluentSink(confluentClient(kafkaBrokers(), `${base}-sink`), opts, o as unknown as ConsumerOwner)
          : client === 'kafkajs'
            ? new KafkaSink(shared.kafka, opts, o)
            : new PlatformaticSink(
                platformaticBase(kafkaBrokers(), `${base}-sink`, PLAINTEXT),
                opts,
                o as unknown as GroupOwner,
              );
      await sink.connect();
      closers.unshift(() => sink.close());
      const batch = (from: number): OutputBatch => ({
        decisions: Array.from({ length: 20 }, (_, i) => testDecision(`${base}-${from + i}`)),
        deadLetters: [],
        positions: [{ topic: 'in', partition: 0, offset: String(from + 20) }],
      });

      const refused = await sink.write(batch(0)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(FraudError);
      expect((refused as FraudError).code).toBe(ErrorCodes.PARTITIONS_REVOKED);
      expect(o.commits).toBe(0);

      o.owned = true;
      await sink.write(batch(20));
      expect(o.commits).toBe(1);
      // Only the owned write's 20 decisions reach the topic: the reader, once it has them, waits 2 s
      // more for any the refused write would have produced.
      const out = await readTopic(shared.kafka, decisions, 20, {
        readCommitted: false,
        timeoutMs: 15_000,
        quietMs: 2000,
      });
      expect(out.length).toBe(20);
    },
    60_000,
  );
});
