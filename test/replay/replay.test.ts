import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactionType } from '../../src/avro/schemas.js';
import { kafkaClient } from '../../src/kafka/client.js';
import { Replayer } from '../../src/replay/replayer.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Transaction } from '../../src/types.js';
import { createTestTopics, deleteTestTopics, readTopic, testKafka } from '../helpers/kafka-io.js';
import { startCli as startScorerLike } from '../helpers/scorer-process.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

const txAvro = transactionType();
const idOf = (v: Buffer | null) => (txAvro.fromBuffer(v!.subarray(5)) as Transaction).transaction_id;

describe('fraudscore replay', () => {
  let kafka: Kafka;
  let admin: Admin;
  let dir: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    dir = await mkdtemp(join(tmpdir(), 'fraudscore-replay-'));
  });
  afterAll(async () => {
    for (const c of cleanups) await c();
    await admin.disconnect();
  });

  it('produces every good row once, keyed by customer, and reports bad rows by line number', async () => {
    const t = await createTestTopics(admin, 'replay', 3);
    cleanups.push(() => deleteTestTopics(admin, t));
    const txs = [...quickStream({ count: 300, seed: 8 })];
    const lines = txs.map((tx) => JSON.stringify(tx));
    lines.splice(10, 0, '{not json');
    lines.splice(50, 0, JSON.stringify({ ...txs[0], transaction_id: 'neg', amount_minor: -1 }));
    lines.splice(90, 0, JSON.stringify({ ...txs[0], transaction_id: 'no-customer', customer_id: '' }));
    const file = join(dir, 'tx.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const summary = await new Replayer(kafkaClient(kafkaBrokers(), 'test-replay'), {
      transactionsPath: file,
      topic: t.transactions,
      pacing: { kind: 'max' },
      resume: false,
      replayId: randomName('r'),
      chunk: 64,
    }).run();
    expect(summary.transactions).toBe(300);
    expect(summary.badRows).toBe(3);
    expect(summary.firstBadRows.map((b) => b.n)).toEqual([11, 51, 91]);
    expect(summary.firstBadRows[1].error).toMatch(/negative/);

    const out = await readTopic(kafka, t.transactions, 300, { quietMs: 500 });
    expect(out.map((m) => idOf(m.value)).sort()).toEqual(txs.map((tx) => tx.transaction_id).sort());
    // Key = customer id, so each customer's transactions sit in order on one partition.
    const partitionOf = new Map<string, number>();
    for (const m of out) {
      const c = m.key!.toString();
      expect(partitionOf.get(c) ?? m.partition).toBe(m.partition);
      partitionOf.set(c, m.partition);
    }
  });

  it('paces at a fixed rate', async () => {
    const t = await createTestTopics(admin, 'rate', 1);
    cleanups.push(() => deleteTestTopics(admin, t));
    const file = join(dir, 'rate.ndjson');
    writeFileSync(file, [...quickStream({ count: 200, seed: 2 })].map((x) => JSON.stringify(x)).join('\n'));
    const s = await new Replayer(kafkaClient(kafkaBrokers(), 'test-replay'), {
      transactionsPath: file,
      topic: t.transactions,
      pacing: { kind: 'rate', perSecond: 200 },
      resume: false,
      replayId: randomName('r'),
    }).run();
    expect(s.transactions).toBe(200);
    // 200 records at 200/s: about one second, not the few milliseconds of an unpaced run.
    expect(s.seconds).toBeGreaterThan(0.9);
    expect(s.seconds).toBeLessThan(5);
  });

  it('interrupted with SIGKILL and resumed: the topic holds every transaction exactly once', async () => {
    const t = await createTestTopics(admin, 'resume', 3);
    cleanups.push(() => deleteTestTopics(admin, t));
    const txs = [...quickStream({ count: 3000, seed: 13 })];
    const file = join(dir, 'resume.ndjson');
    writeFileSync(file, txs.map((x) => JSON.stringify(x)).join('\n'));
    const replayId = randomName('resume');
    const args = [
      '--from',
      file,
      '--topic',
      t.transactions,
      '--rate',
      '1500',
      '--chunk',
      '100',
      '--replay-id',
      replayId,
      '--brokers',
      kafkaBrokers().join(','),
    ];
    const first = startScorerLike('replay', args);
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    await first.exited;
    const partial = await readTopic(kafka, t.transactions, 1, { quietMs: 500 });
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(txs.length);

    const second = startScorerLike('replay', [...args, '--resume']);
    const exit = await second.exited;
    expect(exit.code, second.output()).toBe(0);
    expect(second.output()).toMatch(/resumed after\s+[\d,]+ rows/);

    const all = await readTopic(kafka, t.transactions, txs.length, { readCommitted: true, quietMs: 1000 });
    const ids = all.map((m) => idOf(m.value));
    expect(ids.length).toBe(txs.length);
    expect(new Set(ids).size).toBe(txs.length);
    console.log(
      `[replay] killed after ${partial.length} committed records; resumed; ${ids.length}/${txs.length} in the topic, no duplicates`,
    );
  }, 60_000);
});
