// fraudscore's benchmark: inference latency per batch size, end-to-end throughput and latency through
// the real local Kafka and Redis against a pass-through ceiling, and the scorer's peak RSS. One run,
// one process tree; medians and ratios come from this run only.
//
//   npm run bench            (starts the local stack if Kafka or Redis does not answer)
//   npm run bench -- --scale (1, 2, 3 scorers on a private 3-broker Kafka + Redis Cluster: bench/scale.ts)
//
// Writes bench/results/latest.json and prints a markdown table; compares with bench/results/baseline.json
// when present (ratios below 0.85 of the baseline are flagged).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { transactionEncoder } from '../src/avro/encoders.js';
import { decisionType } from '../src/avro/schemas.js';
import { dropNamespace } from '../src/features/namespace.js';
import { Kafka, logLevel } from '../src/kafka/kafkajs.js';
import { fromRoot } from '../src/package-root.js';
import { quickStream } from '../src/simulate/quick-stream.js';
import { percentile } from '../src/stats/percentile.js';
import type { Decision, Transaction } from '../src/types.js';
import { CpuMeter, type CpuPerRecord, describeCpu, stackPid } from './cpu.js';
import { benchFeatureStore } from './feature-store.js';
import { benchInference, type InferenceResult } from './inference.js';
import { startLoadProducer } from './native-producer.js';
import { ROUND_TRIP_TOPIC_CONFIG, type RoundTrip, readerRoundTrip, startReader } from './reader.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// 150,000: a drain of 60,000 lasted about 2 s, ramp-up included, too short for a steady rate (half
// load is derived from it).
const N = Number(process.env.FRAUDSCORE_BENCH_RECORDS ?? 150_000);
const PASS_COPIES = Math.max(1, Math.ceil(200_000 / N));
const PASS_RUNS = 3;
/**
 * A paced run's first seconds are sent and read but not counted (group join, JIT, a new topic), the
 * same for every client. Measured at 12,000 tx/s: with the first 10 % of the records read as warm-up
 * instead, @platformatic/kafka's p99 was 2.2–2.5 s; with these 3 s it is 408–686 ms, because its slow
 * start outlasts them (p99 per half second of sending: 652–783 ms in the first after the warm-up,
 * 22–112 ms from the third on). The default client's p99s with it (102 / 86 ms) are inside their spread
 * over four runs without it (exactly-once 108–153, at-least-once 55–128 ms).
 */
const PACED_WARMUP_MS = 3000;
/** The paced load producer's linger.ms (librdkafka): 1 by default, so a record waits at most 1 ms for company. */
const LOAD_LINGER_MS = Number(process.env.FRAUDSCORE_BENCH_LINGER_MS ?? 1);
const PARTITIONS = 6;
const PACED_SECONDS = Number(process.env.FRAUDSCORE_BENCH_PACED_SECONDS ?? 10);
const MODEL = process.env.FRAUDSCORE_MODEL_DIR;

const kafka = new Kafka({ clientId: 'fraudscore-bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = `bench-${Date.now().toString(36)}`;
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface E2E {
  throughput_tps: number;
  alo_throughput_tps: number;
  /** Median of PASS_RUNS drains of `passthrough_records` (the scorer's backlog copied). */
  passthrough_tps: number;
  passthrough_runs_tps: number[];
  passthrough_records: number;
  ratio: number;
  alo_ratio: number;
  p50_ms: number;
  p99_ms: number;
  half_load_p50_ms: number;
  half_load_p99_ms: number;
  half_load_alo_p50_ms: number;
  half_load_alo_p99_ms: number;
  /** The part spent inside the scorer (record fetched → decision handed to the producer), half load. */
  half_load_in_scorer_p50_ms: number;
  half_load_in_scorer_p99_ms: number;
  records: number;
  /** The decision reader's own produce→read round trip, no scorer in between. */
  reader_round_trip_p50_ms: number;
  reader_round_trip_p99_ms: number;
  /** Of the round trip, the part after the broker appended (LogAppendTime, whole ms): the reader's own. */
  reader_after_append_p50_ms: number;
  reader_after_append_p99_ms: number;
  /** The same round trip on a one-partition topic. */
  reader_round_trip_1p: RoundTrip;
  /** Per Kafka client: drained-backlog throughput and half-load latency, per delivery mode. */
  clients: Record<string, ClientResult>;
  /** Per stage (Prometheus histogram of the default client's half-load exactly-once run), p50/p99 ms, interpolated in the bucket. */
  stages_ms: Record<string, { p50: number; p99: number }>;
  /**
   * CPU per record over each drain (bench/cpu.ts): the pass-through's runs, and per client the scorer's
   * in each mode, with the broker's and Redis's beside them.
   */
  cpu: {
    passthrough: CpuPerRecord[];
    exactly_once: Record<string, CpuPerRecord>;
    at_least_once: Record<string, CpuPerRecord>;
  };
}

interface ClientResult {
  exactly_once_tps: number;
  at_least_once_tps: number;
  half_load_tps: number;
  half_load_exactly_once_p50_ms: number;
  half_load_exactly_once_p99_ms: number;
  half_load_at_least_once_p50_ms: number;
  half_load_at_least_once_p99_ms: number;
}

const CLIENTS = (process.env.FRAUDSCORE_BENCH_CLIENTS ?? 'confluent,kafkajs,platformatic').split(',');

async function ensureStack(): Promise<void> {
  const admin = kafka.admin();
  let kafkaUp = false;
  try {
    await admin.connect();
    await admin.listTopics();
    kafkaUp = true;
  } catch {
    kafkaUp = false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  let redisUp = false;
  try {
    await redis.connect();
    redisUp = (await redis.ping()) === 'PONG';
  } catch {
    redisUp = false;
  } finally {
    redis.disconnect();
  }
  if (!kafkaUp || !redisUp) {
    log('Kafka or Redis not answering: bash scripts/stack.sh up');
    const r = spawnSync('bash', [fromRoot('scripts/stack.sh'), 'up'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not start the local stack');
  }
}

async function createTopics(admin: Admin, names: string[]): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: names.map((topic) => ({
      topic,
      numPartitions: topic.endsWith('dlq') || topic.endsWith('.rt1') ? 1 : PARTITIONS,
      replicationFactor: 1,
      configEntries: /\.rt1?$/.test(topic) ? ROUND_TRIP_TOPIC_CONFIG : undefined,
    })),
  });
}

async function produce(topic: string, txs: readonly Transaction[]): Promise<void> {
  const enc = transactionEncoder();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < txs.length; i += 2000) {
    await producer.send({
      topic,
      acks: -1,
      messages: txs.slice(i, i + 2000).map((tx) => ({ key: tx.customer_id, value: enc.encode(tx) })),
    });
  }
  await producer.disconnect();
}

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  output(): string;
  peakRssMb(): number;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
// A failed run must not leave scorers consuming in the background.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function child(args: string[], env: Record<string, string>, readyPattern: RegExp): Child {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.length > 100_000) out = out.slice(-50_000);
      if (readyPattern.test(out)) resolve();
    });
    proc.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited (${code}) before it was ready:\n${out.slice(-2000)}`)),
    );
  });
  return {
    proc,
    ready,
    output: () => out,
    peakRssMb() {
      try {
        const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
        const m = /VmHWM:\s+(\d+) kB/.exec(status);
        return m ? Number(m[1]) / 1024 : Number.NaN;
      } catch {
        return Number.NaN;
      }
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

function scorerChild(
  topics: { in: string; out: string; dlq: string; labels: string },
  group: string,
  delivery: string,
  client: string,
  http = false,
  nodeOptions?: string,
): Child {
  const env: Record<string, string> = {
    KAFKA_BROKERS: BROKERS.join(','),
    REDIS_URL,
    FRAUDSCORE_TRANSACTIONS_TOPIC: topics.in,
    FRAUDSCORE_DECISIONS_TOPIC: topics.out,
    FRAUDSCORE_DLQ_TOPIC: topics.dlq,
    FRAUDSCORE_LABELS_TOPIC: topics.labels,
    FRAUDSCORE_GROUP_ID: group,
    FRAUDSCORE_CLIENT_ID: `${group}-scorer`,
    FRAUDSCORE_REDIS_PREFIX: `${group}:`,
    FRAUDSCORE_DELIVERY: delivery,
    FRAUDSCORE_NO_HTTP: http ? 'false' : 'true',
    FRAUDSCORE_HTTP_PORT: '0',
    FRAUDSCORE_PROGRESS: 'off',
    FRAUDSCORE_SESSION_TIMEOUT_MS: '6000',
    FRAUDSCORE_KAFKA_CLIENT: client,
  };
  if (MODEL) env.FRAUDSCORE_MODEL_DIR = MODEL;
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  const profile = process.env.FRAUDSCORE_BENCH_CPU_PROF;
  if (profile) {
    return child(
      ['--cpu-prof', `--cpu-prof-dir=${profile}`, fromRoot('bin/fraudscore.js'), 'run'],
      env,
      /partitions assigned/,
    );
  }
  return child([fromRoot('bin/fraudscore.js'), 'run'], env, /partitions assigned/);
}

/**
 * Sustained rate from the group's committed offsets: records between the first and the last progress
 * seen. `meter`, when given, reads the processes' CPU at those two moments.
 */
async function committedRate(
  admin: Admin,
  group: string,
  topic: string,
  total: number,
  meter?: CpuMeter,
  timeoutMs = 300_000,
): Promise<number> {
  const start = Date.now();
  let first: { t: number; n: number } | undefined;
  let last = { t: 0, n: 0 };
  while (Date.now() - start < timeoutMs) {
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    let n = 0;
    for (const p of res[0]?.partitions ?? []) n += Math.max(0, Number(p.offset));
    const t = performance.now();
    if (n > 0 && first === undefined) {
      first = { t, n };
      meter?.start();
    }
    last = { t, n };
    if (n >= total) {
      meter?.stop(n - first!.n);
      break;
    }
    await sleep(50);
  }
  if (first === undefined || last.n < total) throw new Error(`group ${group} reached ${last.n}/${total} records`);
  return (last.n - first.n) / ((last.t - first.t) / 1000);
}

/** The CPU of the drained window per record: the scorer's or the pass-through's process, the broker, Redis. */
function drainMeter(name: string, pid: number | undefined): CpuMeter {
  return new CpuMeter({ [name]: pid, broker: stackPid('kafka'), redis: stackPid('redis') });
}

/** Paced load with event_time = send time; returns event→decision latencies seen by a read_committed reader. */
async function pacedLatency(
  rate: number,
  seconds: number,
  delivery: string,
  client: string,
  scrapeStages = false,
): Promise<{
  p50: number;
  p99: number;
  n: number;
  inScorerP50: number;
  inScorerP99: number;
  stages?: Record<string, { p50: number; p99: number }>;
}> {
  const admin = kafka.admin();
  await admin.connect();
  const name = `${run}.paced-${rate}-${client}-${delivery}`;
  const t = { in: `${name}.in`, out: `${name}.out`, dlq: `${name}.dlq`, labels: `${name}.labels` };
  await createTopics(admin, [t.in, t.out, t.dlq, t.labels]);
  const scorer = scorerChild(t, `${run}-paced-${rate}-${client}-${delivery}`, delivery, client, scrapeStages);
  await scorer.ready;
  const type = decisionType();
  const latencies: number[] = [];
  const inScorer: number[] = [];
  const toScored: number[] = [];
  let received = 0;
  // Records sent before this (wall-clock ms) are warm-up: read, not counted.
  let countFrom = Number.POSITIVE_INFINITY;
  const reader = await startReader(BROKERS, t.out, `${run}-reader-${rate}-${client}-${delivery}`, (v, now) => {
    received++;
    const d = type.fromBuffer(v!.subarray(5)) as Decision;
    if (d.event_time < countFrom) return;
    latencies.push(now - d.event_time);
    inScorer.push(d.latency_us / 1000);
    toScored.push(d.scored_at - d.event_time);
  });
  await sleep(1000);
  const enc = transactionEncoder();
  // acks=1 and fire-and-forget: the pacer must not wait on the broker between ticks, and librdkafka
  // writes in its own threads, off the event loop that stamps the reader's receive times.
  const producer = await startLoadProducer(BROKERS, { 'linger.ms': LOAD_LINGER_MS });
  const stream = quickStream({ count: Math.ceil(rate * (seconds + PACED_WARMUP_MS / 1000)) + 1000, seed: 77 });
  const tickMs = 10;
  const perTick = rate / (1000 / tickMs);
  const t0 = performance.now();
  countFrom = Date.now() + PACED_WARMUP_MS;
  let stagesAtWarmup: Promise<StageBuckets> | undefined;
  let sent = 0;
  while (performance.now() - t0 < PACED_WARMUP_MS + seconds * 1000) {
    if (scrapeStages && stagesAtWarmup === undefined && Date.now() >= countFrom) {
      stagesAtWarmup = stageBuckets(scorer);
    }
    const due = Math.floor(((performance.now() - t0) / tickMs + 1) * perTick);
    while (sent < due) {
      const tx = stream.next().value as Transaction;
      tx.event_time = Date.now();
      producer.produce(t.in, tx.customer_id, enc.encode(tx));
      sent++;
    }
    await sleep(tickMs);
  }
  const deadline = Date.now() + 30_000;
  while (received < sent && Date.now() < deadline) await sleep(100);
  const stages = scrapeStages ? stageQuantiles(await stageBuckets(scorer), await stagesAtWarmup) : undefined;
  await producer.close();
  await reader.stop();
  await scorer.stop();
  await admin.deleteTopics({ topics: [t.in, t.out, t.dlq, t.labels] }).catch(() => {});
  await admin.disconnect();
  if (producer.failed > 0)
    throw new Error(`paced ${rate} tx/s: the broker refused ${producer.failed} of ${sent} records`);
  const steady = latencies.slice().sort((a, b) => a - b);
  const q = (p: number) => round(percentile(steady, p), 1);
  log(
    `paced ${rate} tx/s for ${PACED_WARMUP_MS / 1000} + ${seconds} s (${client}, ${delivery}): ${received}/${sent} decisions read, ${latencies.length} after the warm-up counted`,
  );
  const scorerSide = inScorer.slice().sort((a, b) => a - b);
  const qs = (p: number) => round(percentile(scorerSide, p), 1);
  const ts = toScored.slice().sort((a, b) => a - b);
  log(
    `paced ${rate} tx/s ${client} ${delivery}: event→decision p50 ${q(0.5)} / p99 ${q(0.99)} ms, event→scored p50 ${percentile(ts, 0.5)} ms, p99 ${percentile(ts, 0.99)} ms`,
  );
  return { p50: q(0.5), p99: q(0.99), n: latencies.length, inScorerP50: qs(0.5), inScorerP99: qs(0.99), stages };
}

/**
 * p50/p99 (ms) of every stage histogram the scorer exports at /metrics, interpolated linearly within
 * the bucket as Prometheus' histogram_quantile does (the buckets step ×1.25–1.33 over 0.5–50 ms).
 */
function stageQuantiles(
  buckets: StageBuckets,
  since: StageBuckets | undefined,
): Record<string, { p50: number; p99: number }> {
  const out: Record<string, { p50: number; p99: number }> = {};
  for (const [stage, all] of buckets) {
    // Only what was observed after `since` (the warm-up's end): cumulative counts subtract bucket by bucket.
    const before = since?.get(stage);
    const list = all.map(({ le, n }) => ({ le, n: n - (before?.find((b) => b.le === le)?.n ?? 0) }));
    list.sort((x, y) => x.le - y.le);
    const total = list[list.length - 1]?.n ?? 0;
    if (total === 0) continue;
    out[stage] = {
      p50: round(bucketQuantile(list, 0.5 * total) * 1000, 2),
      p99: round(bucketQuantile(list, 0.99 * total) * 1000, 2),
    };
  }
  return out;
}

type StageBuckets = Map<string, { le: number; n: number }[]>;

/** The scorer's fraudscore_stage_duration_seconds buckets (cumulative counts) per stage, from /metrics. */
async function stageBuckets(scorer: Child): Promise<StageBuckets> {
  const buckets: StageBuckets = new Map();
  const m = /"metrics":"([^"]+)"/.exec(scorer.output());
  if (!m) return buckets;
  const text = await (await fetch(m[1])).text();
  for (const line of text.split('\n')) {
    const b =
      /^fraudscore_stage_duration_seconds_bucket\{.*?le="([^"]+)".*?stage="([^"]+)".*?\} (\S+)$/.exec(line) ??
      /^fraudscore_stage_duration_seconds_bucket\{.*?stage="([^"]+)".*?le="([^"]+)".*?\} (\S+)$/.exec(line);
    if (!b) continue;
    const [le, stage] = line.indexOf('le=') < line.indexOf('stage=') ? [b[1], b[2]] : [b[2], b[1]];
    const list = buckets.get(stage) ?? [];
    list.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), n: Number(b[3]) });
    buckets.set(stage, list);
  }
  return buckets;
}

/** The value of rank `rank` in cumulative buckets, linear within its bucket (seconds; +Inf: the last finite bound). */
function bucketQuantile(list: { le: number; n: number }[], rank: number): number {
  let prevLe = 0;
  let prevN = 0;
  for (const { le, n } of list) {
    if (n >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevN) / Math.max(n - prevN, 1e-12));
    }
    prevLe = le;
    prevN = n;
  }
  return prevLe;
}

/** Drains the pre-loaded backlog `t.in` with a fresh group; records per second. */
async function drain(
  admin: Admin,
  t: { in: string; dlq: string; labels: string },
  client: string,
  delivery: string,
  variant?: { name: string; nodeOptions: string },
): Promise<{ tps: number; rssMb: number; cpu: CpuPerRecord }> {
  const group = `${run}-${client}-${delivery}${variant ? `-${variant.name}-${Math.random().toString(36).slice(2, 6)}` : ''}`;
  const out = `${run}.${client}.${delivery}.out`;
  await createTopics(admin, [out]);
  log(`scorer (${client}), ${delivery}: draining ${N} records`);
  const scorer = scorerChild(
    { in: t.in, out, dlq: t.dlq, labels: t.labels },
    group,
    delivery,
    client,
    false,
    variant?.nodeOptions,
  );
  await scorer.ready;
  const meter = drainMeter('scorer', scorer.proc.pid);
  const tps = await committedRate(admin, group, t.in, N, meter);
  const rssMb = scorer.peakRssMb();
  await scorer.stop();
  await admin.deleteTopics({ topics: [out] }).catch(() => {});
  const cpu = meter.perRecord();
  log(`scorer (${client}), ${delivery}: ${Math.round(tps)} tx/s; ${describeCpu(cpu)}`);
  return { tps, rssMb, cpu };
}

async function e2e(): Promise<{ e2e: E2E; rssMb: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const t = {
    in: `${run}.in`,
    passIn: `${run}.pass-in`,
    pass: `${run}.pass`,
    dlq: `${run}.dlq`,
    labels: `${run}.labels`,
    rt: `${run}.rt`,
    rt1: `${run}.rt1`,
  };
  await createTopics(admin, Object.values(t));
  // First, while nothing else runs: no backlog written yet, no scorer.
  // On the decisions' shape (PARTITIONS partitions) and on one partition: records spread over six
  // partitions took about 1 ms more at p99 than on one, in the producer and the reader alike.
  log('decision reader round trip (produce → read, no scorer)');
  const rt = await readerRoundTrip(BROKERS, t.rt, 10, 1000);
  const rt1 = await readerRoundTrip(BROKERS, t.rt1, 10, 1000);
  for (const [what, r] of [
    [`${PARTITIONS} partitions`, rt],
    ['1 partition', rt1],
  ] as const) {
    log(
      `reader round trip, ${what}: p50 ${r.p50_ms} / p99 ${r.p99_ms} ms, after the broker's append ${r.after_append_p50_ms} / ${r.after_append_p99_ms} ms (${r.n} records)`,
    );
  }
  log(`producing ${N} transactions to ${t.in} (${PARTITIONS} partitions)`);
  // Recent event times so that the decoder's plausibility window and the windows behave as live, all
  // of them in the past (one past the decoder's future bound would be dead-lettered).
  const start = Date.now() - Math.max(3 * 86_400_000, N * 4000 * 1.2);
  const txs = [...quickStream({ count: N, seed: 5, start, meanGapMs: 4000 })];
  await produce(t.in, txs);

  // The pass-through drains the same records copied PASS_COPIES times (at least 200,000), three
  // times with fresh groups, and the median is the ratio's denominator: over the scorer's 60,000 it
  // finished in about 0.2 s, and two runs of one build gave 153,824 and 318,986 tx/s.
  const passRecords = N * PASS_COPIES;
  log(`pass-through consumer→producer: ${passRecords} records (${PASS_COPIES} copies), ${PASS_RUNS} runs`);
  for (let i = 0; i < PASS_COPIES; i++) await produce(t.passIn, txs);
  const passRuns: number[] = [];
  const passCpu: CpuPerRecord[] = [];
  for (let i = 0; i < PASS_RUNS; i++) {
    const group = `${run}-pass-${i}`;
    const pass = child(
      [fromRoot('dist/bench/passthrough.js'), BROKERS.join(','), t.passIn, t.pass, group],
      {},
      /partitions assigned/,
    );
    await pass.ready;
    const meter = drainMeter('passthrough', pass.proc.pid);
    passRuns.push(Math.round(await committedRate(admin, group, t.passIn, passRecords, meter)));
    passCpu.push(meter.perRecord());
    await pass.stop();
  }
  const passthrough = percentile(
    passRuns.slice().sort((a, b) => a - b),
    0.5,
  );
  log(`pass-through: ${passRuns.join(', ')} tx/s, median ${passthrough}; ${describeCpu(passCpu[0])} (first run)`);

  const clients: Record<string, ClientResult> = {};
  const drained: Record<string, { eos: number; alo: number }> = {};
  const cpu: E2E['cpu'] = { passthrough: passCpu, exactly_once: {}, at_least_once: {} };
  let rss = 0;
  for (const client of CLIENTS) {
    const eos = await drain(admin, t, client, 'exactly-once');
    const alo = await drain(admin, t, client, 'at-least-once');
    drained[client] = { eos: eos.tps, alo: alo.tps };
    cpu.exactly_once[client] = eos.cpu;
    cpu.at_least_once[client] = alo.cpu;
    if (client === CLIENTS[0]) rss = Math.max(eos.rssMb, alo.rssMb);
  }
  await admin.deleteTopics({ topics: Object.values(t) }).catch(() => {});
  await admin.disconnect();

  // One half-load rate for every client (half of the default client's exactly-once peak), so that
  // their latencies compare on the same load.
  const main = CLIENTS[0];
  const full = Math.round(drained[main].eos);
  const half = Math.round(full / 2);
  log(`latency at full load (${full} tx/s, ${main}) and at half load (${half} tx/s, every client)`);
  const fullLat = await pacedLatency(full, PACED_SECONDS, 'exactly-once', main);
  let stages: Record<string, { p50: number; p99: number }> = {};
  let mainHalf: Awaited<ReturnType<typeof pacedLatency>> | undefined;
  let mainHalfAlo: Awaited<ReturnType<typeof pacedLatency>> | undefined;
  for (const client of CLIENTS) {
    const h = await pacedLatency(half, PACED_SECONDS, 'exactly-once', client, client === main);
    const ha = await pacedLatency(half, PACED_SECONDS, 'at-least-once', client);
    if (client === main) {
      stages = h.stages ?? {};
      mainHalf = h;
      mainHalfAlo = ha;
    }
    clients[client] = {
      exactly_once_tps: Math.round(drained[client].eos),
      at_least_once_tps: Math.round(drained[client].alo),
      half_load_tps: half,
      half_load_exactly_once_p50_ms: h.p50,
      half_load_exactly_once_p99_ms: h.p99,
      half_load_at_least_once_p50_ms: ha.p50,
      half_load_at_least_once_p99_ms: ha.p99,
    };
  }
  await cleanRedis();
  const eosTps = drained[main].eos;
  const aloTps = drained[main].alo;
  return {
    e2e: {
      throughput_tps: Math.round(eosTps),
      alo_throughput_tps: Math.round(aloTps),
      passthrough_tps: Math.round(passthrough),
      passthrough_runs_tps: passRuns,
      passthrough_records: passRecords,
      ratio: round(eosTps / passthrough, 3),
      alo_ratio: round(aloTps / passthrough, 3),
      p50_ms: fullLat.p50,
      p99_ms: fullLat.p99,
      half_load_p50_ms: mainHalf!.p50,
      half_load_p99_ms: mainHalf!.p99,
      half_load_alo_p50_ms: mainHalfAlo!.p50,
      half_load_alo_p99_ms: mainHalfAlo!.p99,
      half_load_in_scorer_p50_ms: mainHalf!.inScorerP50,
      half_load_in_scorer_p99_ms: mainHalf!.inScorerP99,
      records: N,
      reader_round_trip_p50_ms: rt.p50_ms,
      reader_round_trip_p99_ms: rt.p99_ms,
      reader_after_append_p50_ms: rt.after_append_p50_ms,
      reader_after_append_p99_ms: rt.after_append_p99_ms,
      reader_round_trip_1p: rt1,
      clients,
      stages_ms: stages,
      cpu,
    },
    rssMb: Math.round(rss),
  };
}

async function cleanRedis(): Promise<void> {
  // Every scorer of this run used a `${run}-…:` prefix.
  const redis = new Redis(REDIS_URL);
  await dropNamespace(redis, run).finally(() => redis.disconnect());
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

function table(
  inference: InferenceResult[],
  e: E2E,
  rss: number,
  baseline: Record<string, unknown> | undefined,
): string {
  const lines = [
    `| inference (one run(), ${inference[0]?.rows ?? ''} rows) | p50 µs | p99 µs |`,
    '|---|---:|---:|',
    ...inference.map((r) => `| batch ${r.batch} | ${r.p50_us} | ${r.p99_us} |`),
    '',
    '| end to end (real Kafka + Redis, 2 cores) | value |',
    '|---|---:|',
    `| pass-through consumer→producer (kafkajs), median of ${e.passthrough_runs_tps.length} drains of ${e.passthrough_records} | ${e.passthrough_tps} tx/s (${e.passthrough_runs_tps.join(', ')}) |`,
    `| scorer, exactly-once | ${e.throughput_tps} tx/s (${(e.ratio * 100).toFixed(0)} % of pass-through) |`,
    `| scorer, at-least-once | ${e.alo_throughput_tps} tx/s (${(e.alo_ratio * 100).toFixed(0)} % of pass-through) |`,
    `| CPU per record over the drain, pass-through (first run) | ${describeCpu(e.cpu.passthrough[0])} |`,
    `| same, scorer exactly-once | ${describeCpu(e.cpu.exactly_once[CLIENTS[0]])} |`,
    `| same, scorer at-least-once | ${describeCpu(e.cpu.at_least_once[CLIENTS[0]])} |`,
    `| event→decision at full load (${e.throughput_tps} tx/s), p50 / p99 | ${e.p50_ms} / ${e.p99_ms} ms |`,
    `| event→decision at half load, p50 / p99 | ${e.half_load_p50_ms} / ${e.half_load_p99_ms} ms |`,
    `| same, at-least-once | ${e.half_load_alo_p50_ms} / ${e.half_load_alo_p99_ms} ms |`,
    `| of which inside the scorer (fetched → written), exactly-once | ${e.half_load_in_scorer_p50_ms} / ${e.half_load_in_scorer_p99_ms} ms |`,
    `| scorer peak RSS | ${rss} MB |`,
    `| decision reader's own produce→read round trip, ${PARTITIONS} partitions, p50 / p99 | ${e.reader_round_trip_p50_ms} / ${e.reader_round_trip_p99_ms} ms |`,
    `| of which after the broker's append, p50 / p99 | ${e.reader_after_append_p50_ms} / ${e.reader_after_append_p99_ms} ms |`,
    `| same round trip, 1 partition, p50 / p99 (after the append) | ${e.reader_round_trip_1p.p50_ms} / ${e.reader_round_trip_1p.p99_ms} ms (${e.reader_round_trip_1p.after_append_p50_ms} / ${e.reader_round_trip_1p.after_append_p99_ms}) |`,
    '',
    `| client | exactly-once tx/s | at-least-once tx/s | half load (${Object.values(e.clients)[0]?.half_load_tps} tx/s) EOS p50 / p99 ms | ALO p50 / p99 ms |`,
    '|---|---:|---:|---:|---:|',
    ...Object.entries(e.clients).map(
      ([name, c]) =>
        `| ${name} | ${c.exactly_once_tps} | ${c.at_least_once_tps} | ${c.half_load_exactly_once_p50_ms} / ${c.half_load_exactly_once_p99_ms} | ${c.half_load_at_least_once_p50_ms} / ${c.half_load_at_least_once_p99_ms} |`,
    ),
    '',
    '| stage (per micro-batch, half load, exactly-once) | p50 ms | p99 ms |',
    '|---|---:|---:|',
    ...Object.entries(e.stages_ms).map(([stage, q]) => `| ${stage} | ${q.p50} | ${q.p99} |`),
  ];
  const base = baseline?.e2e as E2E | undefined;
  if (base) {
    const r = e.throughput_tps / base.throughput_tps;
    lines.push(
      '',
      `Against bench/results/baseline.json: throughput ×${r.toFixed(2)}${r < 0.85 ? ' — REGRESSION (below 0.85)' : ''}`,
    );
  }
  return lines.join('\n');
}

/**
 * `npm run bench -- --latency <tx/s>`: only the paced latency of the default client at that rate, both
 * modes, with the stage quantiles of each (for A/B of a latency change; latest.json is not written).
 */
async function latencyOnly(rate: number): Promise<void> {
  if (!(rate > 0)) throw new Error('--latency takes a rate in tx/s');
  const out: Record<string, unknown> = {};
  for (const delivery of ['exactly-once', 'at-least-once']) {
    const r = await pacedLatency(rate, PACED_SECONDS, delivery, CLIENTS[0], true);
    out[delivery] = {
      p50_ms: r.p50,
      p99_ms: r.p99,
      in_scorer_p50_ms: r.inScorerP50,
      in_scorer_p99_ms: r.inScorerP99,
      stages_ms: r.stages,
    };
  }
  await cleanRedis();
  console.log(JSON.stringify({ rate, client: CLIENTS[0], ...out }, null, 2));
}

/**
 * `npm run bench -- --drain <reps>`: only the default client's drained throughput, both modes, `reps`
 * times, alternating A (NODE_OPTIONS as given) and B (FRAUDSCORE_BENCH_AB_NODE_OPTIONS) when that is
 * set, on one backlog: an A/B of a throughput change (latest.json is not written).
 */
async function drainOnly(reps: number): Promise<void> {
  if (!(reps > 0)) throw new Error('--drain takes a number of repetitions');
  const admin = kafka.admin();
  await admin.connect();
  const t = { in: `${run}.in`, dlq: `${run}.dlq`, labels: `${run}.labels` };
  await createTopics(admin, Object.values(t));
  const start = Date.now() - Math.max(3 * 86_400_000, N * 4000 * 1.2);
  await produce(t.in, [...quickStream({ count: N, seed: 5, start, meanGapMs: 4000 })]);
  const ab = process.env.FRAUDSCORE_BENCH_AB_NODE_OPTIONS;
  const variants = [{ name: 'a', nodeOptions: process.env.NODE_OPTIONS ?? '' }];
  if (ab !== undefined) variants.push({ name: 'b', nodeOptions: ab });
  const out: Record<string, { nodeOptions: string; eos: number[]; alo: number[] }> = {};
  for (const v of variants) out[v.name] = { nodeOptions: v.nodeOptions, eos: [], alo: [] };
  for (let i = 0; i < reps; i++) {
    for (const v of i % 2 === 0 ? variants : variants.slice().reverse()) {
      out[v.name].eos.push(Math.round((await drain(admin, t, CLIENTS[0], 'exactly-once', v)).tps));
      out[v.name].alo.push(Math.round((await drain(admin, t, CLIENTS[0], 'at-least-once', v)).tps));
    }
  }
  await admin.deleteTopics({ topics: Object.values(t) }).catch(() => {});
  await admin.disconnect();
  await cleanRedis();
  const median = (xs: number[]) =>
    percentile(
      xs.slice().sort((a, b) => a - b),
      0.5,
    );
  const summary = Object.fromEntries(
    Object.entries(out).map(([k, v]) => [k, { ...v, eos_median: median(v.eos), alo_median: median(v.alo) }]),
  );
  console.log(JSON.stringify({ records: N, client: CLIENTS[0], ...summary }, null, 2));
}

async function main(): Promise<void> {
  // Scale-out on the cluster stack (bench/scale.ts): nothing of the single-node bench below.
  if (process.argv.includes('--scale')) return (await import('./scale.js')).main();
  await ensureStack();
  const at = process.argv.indexOf('--latency');
  if (at >= 0) return latencyOnly(Number(process.argv[at + 1]));
  const d = process.argv.indexOf('--drain');
  if (d >= 0) return drainOnly(Number(process.argv[d + 1]));
  const modelDir =
    MODEL ?? fromRoot(existsSync(fromRoot('models/champion/manifest.json')) ? 'models/champion' : 'models/placeholder');
  log(`inference on ${modelDir}`);
  const inference = await benchInference(modelDir, [1, 64, 256, 1024], 5000);
  const { e2e: e, rssMb } = await e2e();
  const result = {
    date: new Date().toISOString(),
    model: modelDir,
    cpus: (await import('node:os')).cpus().length,
    // The scorer children run on this Node too (process.execPath).
    node: process.version,
    inference,
    e2e: e,
    rss_mb: rssMb,
    ...(await benchFeatureStore(REDIS_URL, BROKERS)),
  };
  mkdirSync(fromRoot('bench/results'), { recursive: true });
  writeFileSync(fromRoot('bench/results/latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  const basePath = fromRoot('bench/results/baseline.json');
  const baseline = existsSync(basePath) ? JSON.parse(readFileSync(basePath, 'utf8')) : undefined;
  console.log(table(inference, e, rssMb, baseline));
  console.log('\nwrote bench/results/latest.json');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('[bench] failed:', err);
    process.exit(1);
  },
);
