import { describe, expect, it } from 'vitest';
import { transactionEncoder } from '../../src/avro/encoders.js';
import { decisionType } from '../../src/avro/schemas.js';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import { dropNamespace } from '../../src/features/namespace.js';
import { DLQ_HEADERS } from '../../src/kafka/kafka-sink.js';
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
const decodeDecision = (v: Buffer | null): Decision => decisionAvro.fromBuffer(v!.subarray(5)) as Decision;

describe('pipeline on the real Kafka and Redis', () => {
  const stack = useStackClients();

  it('N transactions in → exactly N decisions out, no dead letters, features equal to the in-memory reference', async () => {
    // One input partition: a total order, so the reference store can replay exactly what the scorer saw.
    const t = await createTestTopics(stack.admin, 'pipe', 1);
    const prefix = `${randomName('fs')}:`;
    stack.cleanups.push(
      () => deleteTestTopics(stack.admin, t),
      () => dropNamespace(stack.redis, prefix),
    );
    const txs = [...quickStream({ count: 2000, seed: 11, customers: 80, terminals: 40, meanGapMs: 30 * 60_000 })];

    const app = await Pipeline.start(parseRunConfig([], scorerEnv(t, { FRAUDSCORE_REDIS_PREFIX: prefix })));
    const running = app.runToEnd();
    await produceTransactions(stack.kafka, t.transactions, txs);
    const out = await readTopic(stack.kafka, t.decisions, txs.length);
    const dlq = await readTopic(stack.kafka, t.dlq, 0, { quietMs: 500 });
    await app.stop();
    expect(await running).toBe(0);

    const decisions = out.map((m) => decodeDecision(m.value));
    expect(decisions).toHaveLength(txs.length);
    expect(new Set(decisions.map((d) => d.transaction_id)).size).toBe(txs.length);
    expect(dlq).toHaveLength(0);

    const ref = new MemoryFeatureStore();
    const vec = new Float32Array(N_FEATURES);
    const byId = new Map(decisions.map((d) => [d.transaction_id, d]));
    let nonTrivialTerminal = 0;
    for (const tx of txs) {
      await ref.enrich([tx], 1, vec);
      const d = byId.get(tx.transaction_id)!;
      expect(d.features, tx.transaction_id).toEqual([...vec]);
      expect(d.degraded).toBe(false);
      if (vec[11] > 0) nonTrivialTerminal++;
    }
    // The stream spans ~40 days, so the delayed terminal windows were really exercised.
    expect(nonTrivialTerminal).toBeGreaterThan(100);
    console.log(
      `[pipeline] ${txs.length} transactions → ${decisions.length} decisions through Kafka ${kafkaBrokers()} and Redis; features match the reference`,
    );
  });

  it('poison pills of every kind → decisions + dead letters = N, each dead letter with headers and original bytes', async () => {
    const t = await createTestTopics(stack.admin, 'poison', 3);
    const prefix = `${randomName('fs')}:`;
    stack.cleanups.push(
      () => deleteTestTopics(stack.admin, t),
      () => dropNamespace(stack.redis, prefix),
    );
    const txs = [...quickStream({ count: 1000, seed: 5 })];
    const enc = transactionEncoder();
    const good = (i: number) => enc.encode(txs[i]);
    const poison = new Map<number, Buffer | null>([
      [100, Buffer.from([7, ...good(100).subarray(1)])], // wrong magic byte
      [200, Buffer.concat([Buffer.from([0, 0, 0, 0, 99]), good(200).subarray(5)])], // unknown schema id
      [300, good(300).subarray(0, 12)], // truncated
      [400, enc.encode({ ...txs[400], amount_minor: -500 })], // negative amount
      [500, enc.encode({ ...txs[500], customer_id: '' })], // empty id
      [600, enc.encode({ ...txs[600], event_time: Date.UTC(1970, 0, 2) })], // absurd event time
      [700, null], // tombstone
      [800, Buffer.concat([good(800), Buffer.from('garbage')])], // trailing bytes
    ]);
    const app = await Pipeline.start(
      parseRunConfig(['--wire-format', 'confluent'], scorerEnv(t, { FRAUDSCORE_REDIS_PREFIX: prefix })),
    );
    const running = app.runToEnd();
    await produceTransactions(stack.kafka, t.transactions, txs, poison);
    const decisions = await readTopic(stack.kafka, t.decisions, txs.length - poison.size);
    const dlq = await readTopic(stack.kafka, t.dlq, poison.size);
    await app.stop();
    expect(await running).toBe(0);

    expect(decisions.length + dlq.length).toBe(txs.length);
    expect(dlq).toHaveLength(poison.size);
    const codes = dlq.map((m) => m.headers[DLQ_HEADERS.code]!.toString()).sort();
    expect(codes).toEqual(
      [
        'FRAUD_BAD_MAGIC_BYTE',
        'FRAUD_UNKNOWN_SCHEMA_ID',
        'FRAUD_TRUNCATED_RECORD',
        'FRAUD_INVALID_FIELD',
        'FRAUD_INVALID_FIELD',
        'FRAUD_EVENT_TIME_OUT_OF_RANGE',
        'FRAUD_EMPTY_RECORD',
        'FRAUD_UNDECODABLE_RECORD',
      ].sort(),
    );
    const sent = new Map([...poison].map(([i, v]) => [txs[i].customer_id + (v?.toString('hex') ?? 'null'), i]));
    for (const m of dlq) {
      expect(m.headers[DLQ_HEADERS.message]!.toString().length).toBeGreaterThan(10);
      expect(m.headers[DLQ_HEADERS.topic]!.toString()).toBe(t.transactions);
      expect(Number(m.headers[DLQ_HEADERS.partition]!.toString())).toBeGreaterThanOrEqual(0);
      expect(m.headers[DLQ_HEADERS.offset]!.toString()).toMatch(/^\d+$/);
      // Original key and value bytes, untouched.
      expect(sent.has(m.key!.toString() + (m.value?.toString('hex') ?? 'null'))).toBe(true);
    }
    console.log(`[pipeline] ${poison.size} poison pills dead-lettered: ${[...new Set(codes)].join(', ')}`);
  });
});
