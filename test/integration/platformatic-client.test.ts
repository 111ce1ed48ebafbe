// --kafka-client platformatic (@platformatic/kafka) on the real stack: decisions end to end in both
// delivery modes, and KIP-447 at the broker (a transaction carrying a stale generation is refused).
import { Consumer, findErrorBy } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { transactionEncoder } from '../../src/avro/encoders.js';
import { decisionType } from '../../src/avro/schemas.js';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { dropNamespace } from '../../src/features/namespace.js';
import { DLQ_HEADERS } from '../../src/kafka/dead-letter.js';
import { type PlatformaticGroupMetadata, platformaticBase } from '../../src/kafka/platformatic-client.js';
import { PlatformaticSink } from '../../src/kafka/platformatic-sink.js';
import { PlatformaticSource } from '../../src/kafka/platformatic-source.js';
import { PLAINTEXT } from '../../src/kafka/security.js';
import { loopStalledAfterMs } from '../../src/kafka/stall-watch.js';
import type { Position } from '../../src/pipeline/sink.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Decision } from '../../src/types.js';
import {
  createTestTopics,
  deleteTestTopics,
  produceTransactions,
  readTopic,
  useStackClients,
} from '../helpers/kafka-io.js';
import { scorerEnv } from '../helpers/scorer-env.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

const decisionAvro = decisionType();
const idOf = (v: Buffer | null): string => (decisionAvro.fromBuffer(v!.subarray(5)) as Decision).transaction_id;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('--kafka-client platformatic (real Kafka + Redis)', () => {
  const stack = useStackClients();

  it.each(['exactly-once', 'at-least-once'])(
    '%s: N transactions with poison pills → one decision each, the pills dead-lettered',
    async (delivery) => {
      const t = await createTestTopics(stack.admin, 'plt', 3);
      const prefix = `${randomName('fs')}:`;
      stack.cleanups.push(
        () => deleteTestTopics(stack.admin, t),
        () => dropNamespace(stack.redis, prefix),
      );
      const txs = [...quickStream({ count: 3000, seed: 41 })];
      const enc = transactionEncoder();
      const poison = new Map<number, Buffer | null>([
        [500, enc.encode(txs[500]).subarray(0, 12)], // truncated
        [1500, enc.encode({ ...txs[1500], amount_minor: -1 })], // negative amount
        [2500, null], // tombstone
      ]);
      const app = await Pipeline.start(
        parseRunConfig(
          [],
          scorerEnv(t, {
            FRAUDSCORE_REDIS_PREFIX: prefix,
            FRAUDSCORE_KAFKA_CLIENT: 'platformatic',
            FRAUDSCORE_DELIVERY: delivery,
            FRAUDSCORE_MAX_BATCH: '128',
          }),
        ),
      );
      const running = app.runToEnd();
      await produceTransactions(stack.kafka, t.transactions, txs, poison);
      const out = await readTopic(stack.kafka, t.decisions, txs.length - poison.size, { quietMs: 2000 });
      const dlq = await readTopic(stack.kafka, t.dlq, poison.size);
      await app.stop();
      expect(await running).toBe(0);

      const ids = out.map((m) => idOf(m.value));
      const unique = new Set(ids);
      expect(unique.size).toBe(txs.length - poison.size);
      for (const i of poison.keys()) expect(unique.has(txs[i].transaction_id)).toBe(false);
      // Nothing failed in this run, so at-least-once has no reason to repeat a decision either.
      expect(ids.length).toBe(unique.size);
      expect(dlq).toHaveLength(poison.size);
      for (const m of dlq) expect(m.headers[DLQ_HEADERS.code]!.toString()).toMatch(/^FRAUD_/);
      // The group's committed offsets cover every record: a restart would not read any again.
      const committed = await stack.admin.fetchOffsets({ groupId: t.groupId, topics: [t.transactions] });
      const total = committed[0].partitions.reduce((s, p) => s + Number(p.offset), 0);
      expect(total).toBe(txs.length);
      console.log(
        `[platformatic ${delivery}] ${txs.length} transactions → ${ids.length} decisions + ${dlq.length} dead letters; committed ${total}`,
      );
    },
    120_000,
  );

  it('start-up work between the constructor and run() is no stall: the first records fetched are owned', async () => {
    // In the app the source is built, then the sink connects (a transactional producer may wait
    // seconds for its coordinator), then run() starts. The stopped-process check once counted from
    // the constructor, so the first records were refused and read again (a bench's p99 of 2.2 s).
    const t = await createTestTopics(stack.admin, 'plts', 1);
    stack.cleanups.push(() => deleteTestTopics(stack.admin, t));
    await produceTransactions(stack.kafka, t.transactions, [...quickStream({ count: 50, seed: 43 })]);
    const sessionTimeoutMs = 6000;
    const source = new PlatformaticSource(platformaticBase(kafkaBrokers(), randomName('plts'), PLAINTEXT), {
      topic: t.transactions,
      groupId: t.groupId,
      partitionsConcurrently: 1,
      maxInFlight: 10_000,
      readCommitted: false,
      sessionTimeoutMs,
      fromBeginning: true,
      stallTimeoutMs: 60_000,
    });
    await sleep(loopStalledAfterMs(sessionTimeoutMs) + 1000);
    let owned: boolean | undefined;
    const running = source.run(async (records) => {
      owned ??= source.owns(records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset })));
    });
    const deadline = Date.now() + 30_000;
    while (owned === undefined && Date.now() < deadline) await sleep(20);
    await source.stop();
    await running.catch(() => {});
    expect(owned).toBe(true);
  }, 60_000);

  it("a failed rejoin (the client's 'error' event) ends run() with KAFKA_FATAL instead of an uncaught exception", async () => {
    // The client emits 'error' on its consumer when a rejoin failed past its retries and schedules no
    // more heartbeats (seen after a broker stopped past the session timeout). The event is emitted here
    // by hand, with the error the chaos run logged; what is tested is that the source hears it.
    const t = await createTestTopics(stack.admin, 'plte', 1);
    stack.cleanups.push(() => deleteTestTopics(stack.admin, t));
    const source = new PlatformaticSource(platformaticBase(kafkaBrokers(), randomName('plte'), PLAINTEXT), {
      topic: t.transactions,
      groupId: t.groupId,
      partitionsConcurrently: 1,
      maxInFlight: 10_000,
      readCommitted: false,
      sessionTimeoutMs: 6000,
      fromBeginning: true,
      stallTimeoutMs: 60_000,
    });
    const running = source.run(async () => {});
    const outcome = running.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    const deadline = Date.now() + 30_000;
    while (source.assignment.length === 0 && Date.now() < deadline) await sleep(50);
    expect(source.assignment.length).toBe(1);
    source.consumer.emit('error', new Error('Connection closed'));
    const err = await Promise.race([outcome, sleep(20_000).then(() => 'still running')]);
    if (err === 'still running') await source.stop();
    expect(err).toBeInstanceOf(FraudError);
    expect((err as FraudError).code).toBe(ErrorCodes.KAFKA_FATAL);
    expect((err as FraudError).message).toMatch(/could not rejoin it: Connection closed/);
  }, 60_000);

  it('KIP-447: the broker refuses a transaction whose offsets carry a generation the group has left', async () => {
    const t = await createTestTopics(stack.admin, 'plt-fence', 1);
    stack.cleanups.push(() => deleteTestTopics(stack.admin, t));
    const base = platformaticBase(kafkaBrokers(), randomName('fence'), PLAINTEXT);
    const member = (id: string) =>
      new Consumer({
        ...base,
        clientId: id,
        groupId: t.groupId,
        autocommit: false,
        sessionTimeout: 6000,
        heartbeatInterval: 500,
      });
    const a = member('a');
    const b = member('b');
    const sink = new PlatformaticSink(
      base,
      {
        decisionsTopic: t.decisions,
        dlqTopic: t.dlq,
        groupId: t.groupId,
        delivery: 'exactly-once',
        transactionalId: randomName('fence-tx'),
        decisionSchemaId: null,
        transactionTimeoutMs: 10_000,
      },
      {
        consumer: a,
        // Our own check says yes, so only the broker can refuse.
        owns: () => true,
        groupMetadata: () => meta,
        commit: async () => {},
      },
    );
    stack.cleanups.push(async () => {
      await sink.close();
      await b.close(true);
      await a.close(true);
    });
    const streamA = await a.consume({ topics: [t.transactions], mode: 'earliest' });
    const old: PlatformaticGroupMetadata = {
      groupId: t.groupId,
      generationId: a.generationId,
      memberId: a.memberId!,
      coordinatorId: a.coordinatorId!,
    };
    let meta = old;
    await sink.connect();
    const at = (offset: number): Position[] => [{ topic: t.transactions, partition: 0, offset: String(offset) }];
    const committedOffset = async () =>
      Number(
        (await stack.admin.fetchOffsets({ groupId: t.groupId, topics: [t.transactions] }))[0].partitions[0].offset,
      );

    // A second member joins: the group moves to a new generation, which A rejoins.
    const streamB = await b.consume({ topics: [t.transactions], mode: 'earliest' });
    for (let i = 0; i < 100 && a.generationId === old.generationId; i++) await sleep(100);
    expect(a.generationId).toBeGreaterThan(old.generationId);

    const refused = await sink.write({ decisions: [], deadLetters: [], positions: at(7) }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(refused).toBeDefined();
    expect(findErrorBy(refused, 'apiId', 'ILLEGAL_GENERATION')?.apiId, String(refused)).toBe('ILLEGAL_GENERATION');
    expect(await committedOffset()).toBe(-1);

    // The same transaction with the current generation commits: the refusal was the generation's.
    meta = { ...old, generationId: a.generationId, memberId: a.memberId! };
    await sink.write({ decisions: [], deadLetters: [], positions: at(7) });
    expect(await committedOffset()).toBe(7);
    await streamA.close();
    await streamB.close();
  }, 60_000);
});
