// The scorer with a schema registry on the real Kafka and Redis. The registry side is the recorded
// Confluent API answers (test/helpers/registry-replay.ts): no registry server could be built here
// (scripts/registry/README.md); scripts/registry/registry.sh runs Apicurio where Maven Central is whole.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { frame } from '../../src/avro/framing.js';
import { decisionType, loadSchema } from '../../src/avro/schemas.js';
import { replayCommand } from '../../src/cli/replay.js';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { dropNamespace } from '../../src/features/namespace.js';
import { DLQ_HEADERS } from '../../src/kafka/kafka-sink.js';
import { fromRoot } from '../../src/package-root.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Decision } from '../../src/types.js';
import {
  createTestTopics,
  deleteTestTopics,
  readTopic,
  type TestTopics,
  useStackClients,
} from '../helpers/kafka-io.js';
import { closedPort, type RegistryReplay, startRegistryReplay } from '../helpers/registry-replay.js';
import { scorerEnv } from '../helpers/scorer-env.js';
import { startScorer } from '../helpers/scorer-process.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

const v3 = loadSchema('test/fixtures/schema-registry/transaction.v3.avsc');
const V3_ID = 42;
const DECISION_ID = 11; // the recorded "registered" answer

function registryRoutes(replay: RegistryReplay, t: TestTopics): void {
  replay.routes.set(`POST /subjects/${t.decisions}-value/versions`, { answer: 'registered' });
  replay.routes.set(`POST /compatibility/subjects/${t.transactions}-value/versions/latest`, { answer: 'compatible' });
  replay.routes.set(`GET /schemas/ids/${V3_ID}`, { answer: 'schemaById', schema: JSON.stringify(v3.schema()) });
  replay.routes.set('GET /schemas/ids/99', { answer: 'schemaNotFound' });
}

describe('schema registry on the real Kafka and Redis', () => {
  const stack = useStackClients();

  async function setUp(name: string): Promise<{ t: TestTopics; prefix: string; replay: RegistryReplay }> {
    const t = await createTestTopics(stack.admin, name, 2);
    const prefix = `${randomName('fs')}:`;
    const replay = await startRegistryReplay();
    registryRoutes(replay, t);
    stack.cleanups.push(
      () => deleteTestTopics(stack.admin, t),
      () => dropNamespace(stack.redis, prefix),
      () => replay.close(),
    );
    return { t, prefix, replay };
  }

  async function produce(t: TestTopics, values: { key: string; value: Buffer }[]): Promise<void> {
    const producer = stack.kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: t.transactions, messages: values, acks: -1 });
    await producer.disconnect();
  }

  it('v3 writer schema resolved from the registry; decisions framed with the registered id; unknown id dead-lettered', async () => {
    const { t, prefix, replay } = await setUp('sr');
    const txs = [...quickStream({ count: 300, seed: 21 })];
    const app = await Pipeline.start(
      parseRunConfig([], scorerEnv(t, { FRAUDSCORE_REDIS_PREFIX: prefix, SCHEMA_REGISTRY_URL: replay.url })),
    );
    const running = app.runToEnd();
    const messages = txs.map((tx) => ({
      key: tx.customer_id,
      value: frame(V3_ID, v3.toBuffer({ ...tx, device_id: `dev-${tx.customer_id}` })),
    }));
    messages[150] = { key: txs[150].customer_id, value: frame(99, messages[150].value.subarray(5)) };
    await produce(t, messages);
    const out = await readTopic(stack.kafka, t.decisions, txs.length - 1);
    const dlq = await readTopic(stack.kafka, t.dlq, 1, { quietMs: 500 });
    await app.stop();
    expect(await running).toBe(0);

    expect(out).toHaveLength(txs.length - 1);
    const decisionAvro = decisionType();
    for (const m of out) {
      expect(m.value![0]).toBe(0);
      expect(m.value!.readUInt32BE(1)).toBe(DECISION_ID);
    }
    const ids = new Set(out.map((m) => (decisionAvro.fromBuffer(m.value!.subarray(5)) as Decision).transaction_id));
    expect(ids).toEqual(new Set(txs.filter((_, i) => i !== 150).map((tx) => tx.transaction_id)));
    expect(dlq).toHaveLength(1);
    expect(dlq[0].headers[DLQ_HEADERS.code]!.toString()).toBe(ErrorCodes.UNKNOWN_SCHEMA_ID);
    // Each new id asked for once, not per record or per batch.
    expect(replay.seen.filter((r) => r.path === `/schemas/ids/${V3_ID}`)).toHaveLength(1);
    expect(replay.seen.filter((r) => r.path === '/schemas/ids/99')).toHaveLength(1);
    const registered = replay.seen.find((r) => r.path === `/subjects/${t.decisions}-value/versions`)!;
    expect(JSON.parse((registered.body as { schema: string }).schema)).toEqual(
      JSON.parse(readFileSync(fromRoot('schemas/decision.avsc'), 'utf8')),
    );
  });

  it('fraudscore replay registers the transaction schema and frames with its id; the scorer resolves that id', async () => {
    const { t, prefix, replay } = await setUp('srreplay');
    replay.routes.set(`POST /subjects/${t.transactions}-value/versions`, { answer: 'registered' });
    const txSchema = JSON.stringify(JSON.parse(readFileSync(fromRoot('schemas/transaction.avsc'), 'utf8')));
    replay.routes.set(`GET /schemas/ids/${DECISION_ID}`, { answer: 'schemaById', schema: txSchema });
    const txs = [...quickStream({ count: 100, seed: 23 })];
    const file = join(mkdtempSync(join(tmpdir(), 'sr-replay-')), 'tx.ndjson');
    writeFileSync(file, txs.map((x) => JSON.stringify(x)).join('\n'));
    const code = await replayCommand([
      '--from',
      file,
      '--topic',
      t.transactions,
      '--brokers',
      kafkaBrokers().join(','),
      '--schema-registry',
      replay.url,
      '--progress',
      'off',
    ]);
    expect(code).toBe(0);
    const produced = await readTopic(stack.kafka, t.transactions, txs.length, { quietMs: 500 });
    expect(produced).toHaveLength(txs.length);
    // The recorded "registered" answer is id 11 for any subject.
    for (const m of produced) expect(m.value!.readUInt32BE(1)).toBe(DECISION_ID);
    const registered = replay.seen.find((r) => r.path === `/subjects/${t.transactions}-value/versions`)!;
    expect((registered.body as { schema: string }).schema).toBe(txSchema);

    const app = await Pipeline.start(
      parseRunConfig([], scorerEnv(t, { FRAUDSCORE_REDIS_PREFIX: prefix, SCHEMA_REGISTRY_URL: replay.url })),
    );
    const running = app.runToEnd();
    const out = await readTopic(stack.kafka, t.decisions, txs.length);
    await app.stop();
    expect(await running).toBe(0);
    expect(out).toHaveLength(txs.length);
    expect(replay.seen.filter((r) => r.path === `/schemas/ids/${DECISION_ID}`)).toHaveLength(1);
  });

  it('the CLI with a registry that is down at start: one line, FRAUD_REGISTRY_UNAVAILABLE, exit 1, nothing left running', async () => {
    const t = await createTestTopics(stack.admin, 'srcli', 1);
    stack.cleanups.push(() => deleteTestTopics(stack.admin, t));
    const started = Date.now();
    const scorer = startScorer(
      [],
      scorerEnv(t, {
        SCHEMA_REGISTRY_URL: `http://scorer:hunter2@127.0.0.1:${await closedPort()}`,
        SCHEMA_REGISTRY_UNAVAILABLE_MS: '500',
      }),
    );
    const { code } = await scorer.exited;
    const out = scorer.output();
    expect(code, out).toBe(1);
    const lines = out.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /schema registry http:\/\/127\.0\.0\.1:\d+\/ is unavailable .*\[FRAUD_REGISTRY_UNAVAILABLE\]$/,
    );
    expect(out).not.toMatch(/\n\s+at /);
    expect(out).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('registry down when a new writer id arrives: nothing dead-lettered or committed, the run stops with FRAUD_REGISTRY_UNAVAILABLE', async () => {
    const { t, prefix, replay } = await setUp('srdown');
    const app = await Pipeline.start(
      parseRunConfig(
        [],
        scorerEnv(t, {
          FRAUDSCORE_REDIS_PREFIX: prefix,
          SCHEMA_REGISTRY_URL: replay.url,
          SCHEMA_REGISTRY_UNAVAILABLE_MS: '1500',
        }),
      ),
    );
    const running = app.runToEnd();
    await replay.close();
    const txs = [...quickStream({ count: 50, seed: 22 })];
    await produce(
      t,
      txs.map((tx) => ({ key: tx.customer_id, value: frame(V3_ID, v3.toBuffer({ ...tx, device_id: null })) })),
    );
    const t0 = Date.now();
    let err: unknown;
    try {
      await running;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FraudError);
    expect((err as FraudError).code).toBe(ErrorCodes.REGISTRY_UNAVAILABLE);
    expect((err as FraudError).message).toMatch(/gave up on writer schema id 42 after 1500 ms/);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await readTopic(stack.kafka, t.dlq, 0, { quietMs: 500 })).toHaveLength(0);
    expect(await readTopic(stack.kafka, t.decisions, 0, { quietMs: 500 })).toHaveLength(0);
    const [committed] = await stack.admin.fetchOffsets({ groupId: t.groupId, topics: [t.transactions] });
    for (const p of committed.partitions) expect(p.offset).toBe('-1');
  });
});
