// Backlog-drain parity: a simulated history produced to Kafka (transactions keyed by customer, fraud
// labels on the labels topic) and drained by real scorer processes through Redis gives, for every
// record, exactly the features `backfill` writes for it. Shared by the integration test and the bench.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { labelEncoder, transactionEncoder } from '../src/avro/encoders.js';
import { decisionType } from '../src/avro/schemas.js';
import { runBackfill } from '../src/cli/backfill.js';
import { runSimulation } from '../src/cli/simulate.js';
import { FEATURE_NAMES, N_FEATURES } from '../src/features/feature-names.js';
import { readContainer } from '../src/io/avro-file.js';
import { fromRoot } from '../src/package-root.js';
import { parseRows } from '../src/simulate/backfill.js';
import type { Decision, Label, Transaction } from '../src/types.js';

export interface DrainOptions {
  kafka: Kafka;
  admin: Admin;
  brokers: string;
  redisUrl: string;
  /** Scratch folder for the simulation and the backfill rows. */
  dir: string;
  seed?: number;
  customers?: number;
  terminals?: number;
  days?: number;
  partitions?: number;
  /** Scorer processes in the group (default 1). */
  scorers?: number;
  /** SIGKILL once this share of the decisions is out (default: never)… */
  killAt?: number;
  /** …every scorer, then start a new one ('all', the default), or one of them, whose partitions move to the others ('one'). */
  kill?: 'all' | 'one';
  timeoutMs?: number;
  log?: (msg: string) => void;
}

export interface DrainResult {
  records: number;
  /** Records whose decision carries exactly backfill’s features. */
  equal: number;
  /** Decisions marked degraded. */
  degraded: number;
  /** Records whose features differ from backfill's and whose decision is not marked degraded. */
  silentlyWrong: number;
  /**
   * Of those, records with a same-millisecond transaction of the same customer right after them: when
   * both are redelivered (a crashed or failed write), the redelivered record counts its sibling, which
   * the store's window already holds (a known limit of the store, see README).
   */
  sameMsSibling: number;
  /** Degraded decisions by cause. */
  causes: Record<string, number>;
  /** Records with no decision. */
  missing: number;
  /** Up to 10 differences, for the failure message. */
  mismatches: string[];
  /** Records with a non-zero terminal risk (the comparison covers the label-driven features). */
  withRisk: number;
}

const decisionAvro = decisionType();

export async function drainParity(o: DrainOptions): Promise<DrainResult> {
  const log = o.log ?? (() => {});
  const name = `parity-${randomBytes(4).toString('hex')}`;
  const topics = {
    transactions: `${name}.transactions`,
    decisions: `${name}.decisions`,
    dlq: `${name}.dlq`,
    labels: `${name}.labels`,
  };
  const prefix = `${name}:`;
  const partitions = o.partitions ?? 3;
  const children: ChildProcess[] = [];
  try {
    // A 3-day label delay so that labels land inside the 30-day terminal windows.
    const sim = await runSimulation({
      seed: o.seed ?? 5,
      customers: o.customers ?? 100,
      terminals: o.terminals ?? 200,
      days: o.days ?? 14,
      labelDelayDays: 3,
      outDir: o.dir,
    });
    const rowsPath = path.join(o.dir, 'rows.csv');
    await runBackfill({ transactions: sim.files.transactions, labels: sim.files.labels, out: rowsPath });
    const rows = parseRows(await readFile(rowsPath, 'utf8'));
    const expected = new Map<string, number>();
    for (let r = 0; r < rows.n; r++) expected.set(rows.transactionId[r], r);
    const txs = await readContainer<Transaction>(sim.files.transactions);
    const labels = await readContainer<Label>(sim.files.labels);
    log(`drain parity: ${txs.length} transactions, ${labels.length} labels, ${partitions} partitions`);

    await o.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.transactions, numPartitions: partitions, replicationFactor: 1 },
        { topic: topics.decisions, numPartitions: partitions, replicationFactor: 1 },
        { topic: topics.dlq, numPartitions: 1, replicationFactor: 1 },
        { topic: topics.labels, numPartitions: 1, replicationFactor: 1 },
      ],
    });
    // The whole history is in Kafka before any scorer starts: a backlog.
    const producer = o.kafka.producer({ idempotent: true });
    await producer.connect();
    const labelEnc = labelEncoder();
    const txEnc = transactionEncoder();
    for (let i = 0; i < labels.length; i += 1000) {
      const messages = labels.slice(i, i + 1000).map((l) => ({ key: l.customer_id, value: labelEnc.encode(l) }));
      await producer.send({ topic: topics.labels, messages, acks: -1 });
    }
    for (let i = 0; i < txs.length; i += 1000) {
      const messages = txs.slice(i, i + 1000).map((t) => ({ key: t.customer_id, value: txEnc.encode(t) }));
      await producer.send({ topic: topics.transactions, messages, acks: -1 });
    }
    await producer.disconnect();

    const env = {
      ...process.env,
      KAFKA_BROKERS: o.brokers,
      REDIS_URL: o.redisUrl,
      FRAUDSCORE_TRANSACTIONS_TOPIC: topics.transactions,
      FRAUDSCORE_DECISIONS_TOPIC: topics.decisions,
      FRAUDSCORE_DLQ_TOPIC: topics.dlq,
      FRAUDSCORE_LABELS_TOPIC: topics.labels,
      FRAUDSCORE_GROUP_ID: `${name}.group`,
      FRAUDSCORE_REDIS_PREFIX: prefix,
      FRAUDSCORE_SESSION_TIMEOUT_MS: '6000',
      // The subject is parity, not Redis latency: a loaded machine must not time out a batch (degraded).
      FRAUDSCORE_REDIS_TIMEOUT_MS: '5000',
      FRAUDSCORE_NO_HTTP: 'true',
      FRAUDSCORE_PROGRESS: 'off',
    };
    const start = (i: number) => {
      const child = spawn(process.execPath, [fromRoot('bin/fraudscore.js'), 'run'], {
        env: { ...env, FRAUDSCORE_CLIENT_ID: `${name}-scorer-${i}` },
        stdio: 'ignore',
      });
      children.push(child);
      return child;
    };
    for (let i = 0; i < (o.scorers ?? 1); i++) start(i);

    // Read decisions as they come; the last one per transaction wins (a redelivery recomputes it).
    const decided = new Map<string, Decision>();
    const consumer = o.kafka.consumer({ groupId: `${name}.reader`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.decisions, fromBeginning: true });
    let killed = o.killAt === undefined;
    await consumer.run({
      eachMessage: async ({ message }) => {
        const d = decisionAvro.fromBuffer(message.value!.subarray(5)) as Decision;
        decided.set(d.transaction_id, d);
      },
    });
    const deadline = Date.now() + (o.timeoutMs ?? 180_000);
    while (decided.size < txs.length && Date.now() < deadline) {
      if (!killed && decided.size >= txs.length * (o.killAt ?? 1)) {
        killed = true;
        if (o.kill === 'one') {
          // One member dies between its Redis writes and its Kafka commit; the group moves its partitions.
          children[0].kill('SIGKILL');
          log(`drain parity: SIGKILL of one scorer at ${decided.size} decisions`);
        } else {
          // Whichever member is active dies between its Redis writes and its Kafka commit.
          for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
          log(`drain parity: SIGKILL of every scorer at ${decided.size} decisions; starting a new one`);
          start(children.length);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1000));
    await consumer.disconnect();

    const result: DrainResult = {
      records: txs.length,
      equal: 0,
      degraded: 0,
      causes: {},
      silentlyWrong: 0,
      sameMsSibling: 0,
      missing: 0,
      mismatches: [],
      withRisk: 0,
    };
    const risk = FEATURE_NAMES.indexOf('terminal_risk_30d');
    // Transactions followed, later in the stream, by one of the same customer in the same millisecond.
    const sibling = new Set<string>();
    const lastOf = new Map<string, Transaction>();
    for (const t of txs) {
      const prev = lastOf.get(t.customer_id);
      if (prev !== undefined && prev.event_time === t.event_time) sibling.add(prev.transaction_id);
      lastOf.set(t.customer_id, t);
    }
    for (const t of txs) {
      const d = decided.get(t.transaction_id);
      const r = expected.get(t.transaction_id)!;
      if (d === undefined) {
        result.missing++;
        continue;
      }
      if (d.degraded) {
        result.degraded++;
        const c = d.degraded_cause ?? '?';
        result.causes[c] = (result.causes[c] ?? 0) + 1;
      }
      let same = d.features.length === N_FEATURES;
      for (let f = 0; f < N_FEATURES && same; f++) {
        const want = rows.features[r * N_FEATURES + f];
        if (!Object.is(Math.fround(d.features[f]), want)) {
          same = false;
          if (result.mismatches.length < 10)
            result.mismatches.push(
              `${t.transaction_id} ${FEATURE_NAMES[f]}: backfill ${want}, served ${d.features[f]}${d.degraded ? ` (${d.degraded_cause})` : ''}`,
            );
        }
      }
      if (same) result.equal++;
      else if (!d.degraded) {
        result.silentlyWrong++;
        if (sibling.has(t.transaction_id)) result.sameMsSibling++;
      }
      if (rows.features[r * N_FEATURES + risk] > 0) result.withRisk++;
    }
    return result;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)),
      ),
    );
    await o.admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
    await dropPrefix(o.redisUrl, prefix);
  }
}

async function dropPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const { dropNamespace } = await import('../src/features/namespace.js');
  const redis = new Redis(url);
  try {
    await dropNamespace(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
