// One busy card must not take scoring away from everyone: a live stream in which one card sends
// `heavyRate` tx/s beside `othersRate` tx/s of ordinary customers, scored by a real scorer process
// through Kafka and Redis, against the same ordinary stream without the card (a fresh scorer, topics
// and key prefix each). For the other customers: decisions marked degraded, and event→decision p50/p99
// read by a librdkafka reader (event time = wall time at produce).
//
//   node dist/bench/heavy-card.js [seconds] [othersRate] [heavyRate]   (default 60 s, 500 + 500 tx/s)
// Shared by test/integration/heavy-card.test.ts (short) and `npm run test:heavy-card` (60 s).

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { transactionEncoder } from '../src/avro/encoders.js';
import { decisionType } from '../src/avro/schemas.js';
import { Kafka, logLevel } from '../src/kafka/kafkajs.js';
import { fromRoot } from '../src/package-root.js';
import { percentile } from '../src/stats/percentile.js';
import type { Decision, Transaction } from '../src/types.js';
import { startReader } from './reader.js';

export interface HeavyCardOptions {
  brokers: string[];
  redisUrl: string;
  seconds: number;
  /** Ordinary customers' transactions per second. */
  othersRate: number;
  /** The busy card's transactions per second (0: the run without it). */
  heavyRate: number;
  /** Decisions of the first seconds (a cold scorer) are left out of the latency (default 2). */
  warmupSeconds?: number;
  log?: (msg: string) => void;
}

export interface HeavyCardRun {
  heavy_rate: number;
  others_rate: number;
  seconds: number;
  /** Ordinary customers' decisions read (after warm-up) / produced in all. */
  others_decided: number;
  others_sent: number;
  others_degraded: number;
  /** The ordinary customers' degraded decisions by cause. */
  others_causes: Record<string, number>;
  heavy_decided: number;
  heavy_degraded: number;
  /** Entries of the busy card in its 30-day window at the end. */
  heavy_window: number;
  others_p50_ms: number;
  others_p99_ms: number;
}

const decisionAvro = decisionType();
const CUSTOMERS = 20_000;
const TERMINALS = 5_000;
const HEAVY_CARD = 'heavy-card';
const WARMUP = 'warm-up';

export async function heavyCardRun(o: HeavyCardOptions): Promise<HeavyCardRun> {
  const log = o.log ?? (() => {});
  const name = `heavy-${randomBytes(4).toString('hex')}`;
  const topics = {
    transactions: `${name}.transactions`,
    decisions: `${name}.decisions`,
    dlq: `${name}.dlq`,
    labels: `${name}.labels`,
  };
  const kafka = new Kafka({ clientId: name, brokers: o.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let child: ChildProcess | undefined;
  const producer = kafka.producer({ idempotent: true });
  let reader: { stop(): Promise<void> } | undefined;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.transactions, numPartitions: 3, replicationFactor: 1 },
        { topic: topics.decisions, numPartitions: 3, replicationFactor: 1 },
        { topic: topics.dlq, numPartitions: 1, replicationFactor: 1 },
        { topic: topics.labels, numPartitions: 1, replicationFactor: 1 },
      ],
    });
    child = spawn(process.execPath, [fromRoot('bin/fraudscore.js'), 'run'], {
      env: {
        ...process.env,
        KAFKA_BROKERS: o.brokers.join(','),
        REDIS_URL: o.redisUrl,
        FRAUDSCORE_TRANSACTIONS_TOPIC: topics.transactions,
        FRAUDSCORE_DECISIONS_TOPIC: topics.decisions,
        FRAUDSCORE_DLQ_TOPIC: topics.dlq,
        FRAUDSCORE_LABELS_TOPIC: topics.labels,
        FRAUDSCORE_GROUP_ID: `${name}.group`,
        FRAUDSCORE_CLIENT_ID: `${name}-scorer`,
        FRAUDSCORE_REDIS_PREFIX: `${name}:`,
        FRAUDSCORE_NO_HTTP: 'true',
        FRAUDSCORE_PROGRESS: 'off',
      },
      stdio: 'ignore',
    });

    // Decisions as they are read: latency of the ordinary customers after warm-up, degraded counts.
    let started = Number.POSITIVE_INFINITY;
    let warmupEnd = Number.POSITIVE_INFINITY;
    let ready = false;
    const latencies: number[] = [];
    const r: HeavyCardRun = {
      heavy_rate: o.heavyRate,
      others_rate: o.othersRate,
      seconds: o.seconds,
      others_decided: 0,
      others_sent: 0,
      others_degraded: 0,
      others_causes: {},
      heavy_decided: 0,
      heavy_degraded: 0,
      heavy_window: 0,
      others_p50_ms: 0,
      others_p99_ms: 0,
    };
    reader = await startReader(o.brokers, topics.decisions, `${name}.reader`, (v, receivedAt) => {
      if (v === null) return;
      const d = decisionAvro.fromBuffer(v.subarray(5)) as Decision;
      if (d.customer_id === WARMUP) {
        ready = true;
        return;
      }
      if (d.customer_id === HEAVY_CARD) {
        r.heavy_decided++;
        if (d.degraded) r.heavy_degraded++;
        return;
      }
      if (d.degraded) {
        r.others_degraded++;
        const c = d.degraded_cause ?? '?';
        r.others_causes[c] = (r.others_causes[c] ?? 0) + 1;
      }
      if (d.event_time >= warmupEnd) {
        r.others_decided++;
        latencies.push(receivedAt - d.event_time);
      }
    });

    await producer.connect();
    const enc = transactionEncoder();
    let seq = 0;
    let others = 0;
    let heavy = 0;
    const tx = (customer: string, terminal: string, now: number): Transaction => ({
      transaction_id: `${name}-${seq++}`,
      event_time: now,
      customer_id: customer,
      terminal_id: terminal,
      amount_minor: 1000 + (seq % 9000),
      currency: 'EUR',
      mcc: null,
      channel: 'POS',
      country: null,
    });
    // The scorer is up (group joined, model loaded) once a warm-up transaction comes back decided.
    const readyBy = Date.now() + 120_000;
    while (!ready) {
      if (Date.now() > readyBy) throw new Error('the scorer decided nothing within 120 s');
      const t = tx(WARMUP, 'tw', Date.now());
      await producer.send({ topic: topics.transactions, messages: [{ key: WARMUP, value: enc.encode(t) }], acks: -1 });
      await new Promise((res) => setTimeout(res, 250));
    }
    // The paced stream: every 10 ms, what is due at the two rates, with event time = now.
    started = Date.now();
    warmupEnd = started + (o.warmupSeconds ?? 2) * 1000;
    const end = started + o.seconds * 1000;
    log(`heavy card: ${o.othersRate} + ${o.heavyRate} tx/s for ${o.seconds} s`);
    for (let now = Date.now(); now < end; now = Date.now()) {
      const elapsed = (now - started) / 1000;
      const messages: { key: string; value: Buffer }[] = [];
      for (; others < elapsed * o.othersRate; others++) {
        const t = tx(`c${(others * 7919) % CUSTOMERS}`, `t${(others * 104_729) % TERMINALS}`, now);
        messages.push({ key: t.customer_id, value: enc.encode(t) });
      }
      for (; heavy < elapsed * o.heavyRate; heavy++) {
        const t = tx(HEAVY_CARD, `t${heavy % 50}`, now);
        messages.push({ key: t.customer_id, value: enc.encode(t) });
      }
      if (messages.length > 0) await producer.send({ topic: topics.transactions, messages, acks: -1 });
      const next = 10 - (Date.now() - now);
      if (next > 0) await new Promise((res) => setTimeout(res, next));
    }
    r.others_sent = others;
    r.heavy_window = heavy;
    // Let the scorer finish what it holds (bounded).
    const deadline = Date.now() + 30_000;
    const warmOthers = () => r.others_decided;
    let last = -1;
    while (Date.now() < deadline && warmOthers() !== last) {
      last = warmOthers();
      await new Promise((res) => setTimeout(res, 1500));
    }
    latencies.sort((a, b) => a - b);
    r.others_p50_ms = percentile(latencies, 0.5);
    r.others_p99_ms = percentile(latencies, 0.99);
    log(`heavy card: ${JSON.stringify(r)}`);
    return r;
  } finally {
    await reader?.stop().catch(() => {});
    await producer.disconnect().catch(() => {});
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((res) => child!.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    }
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
    await admin.disconnect();
    const { Redis } = await import('ioredis');
    const { dropNamespace } = await import('../src/features/namespace.js');
    const redis = new Redis(o.redisUrl);
    await dropNamespace(redis, `${name}:`).finally(() => redis.disconnect());
  }
}

/** The run without the card, then with it: same ordinary stream, fresh scorer each. */
export async function heavyCardComparison(
  o: Omit<HeavyCardOptions, 'heavyRate'> & { heavyRate: number },
): Promise<{ without: HeavyCardRun; with: HeavyCardRun; p99_ratio: number }> {
  const without = await heavyCardRun({ ...o, heavyRate: 0 });
  const withCard = await heavyCardRun(o);
  return { without, with: withCard, p99_ratio: withCard.others_p99_ms / Math.max(1, without.others_p99_ms) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [seconds, othersRate, heavyRate] = process.argv.slice(2).map(Number);
  heavyCardComparison({
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    seconds: seconds || 60,
    othersRate: othersRate || 500,
    heavyRate: heavyRate || 500,
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  }).then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err) => {
      console.error('[bench] failed:', err);
      process.exit(1);
    },
  );
}
