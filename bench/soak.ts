// Soak: a scorer under steady paced load for N minutes, its resident memory sampled every 10 s, to
// show whether RSS stays flat (DESIGN.md: "memory: RSS flat under a 10-minute soak").
//
//   npm run build && node dist/bench/soak.js [minutes=10] [rate=2000]
//
// Writes bench/results/soak.json and prints the samples and the RSS slope after a 1-minute warm-up.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { transactionEncoder } from '../src/avro/encoders.js';
import { Kafka, logLevel } from '../src/kafka/kafkajs.js';
import { fromRoot } from '../src/package-root.js';
import { quickStream } from '../src/simulate/quick-stream.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const minutes = Number(process.argv[2] ?? 10);
const rate = Number(process.argv[3] ?? 2000);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function main(): Promise<void> {
  // KAFKA_BROKERS names a running stack; without it the default local stack is started.
  if (process.env.KAFKA_BROKERS === undefined) {
    const up = spawnSync('bash', [fromRoot('scripts/stack.sh'), 'up'], { stdio: 'ignore' });
    if (up.status !== 0) throw new Error('could not start the local stack (bash scripts/stack.sh up)');
  }
  const kafka = new Kafka({ clientId: 'soak', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const run = `soak-${Date.now().toString(36)}`;
  const topics = ['in', 'out', 'dlq', 'labels'].map((x) => `${run}.${x}`);
  await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: 6 })) });
  const scorer = spawn(process.execPath, [fromRoot('bin/fraudscore.js'), 'run'], {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      FRAUDSCORE_TRANSACTIONS_TOPIC: topics[0],
      FRAUDSCORE_DECISIONS_TOPIC: topics[1],
      FRAUDSCORE_DLQ_TOPIC: topics[2],
      FRAUDSCORE_LABELS_TOPIC: topics[3],
      FRAUDSCORE_GROUP_ID: run,
      FRAUDSCORE_CLIENT_ID: run,
      FRAUDSCORE_REDIS_PREFIX: `${run}:`,
      FRAUDSCORE_NO_HTTP: 'true',
    },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const producer = kafka.producer();
  await producer.connect();
  const enc = transactionEncoder();
  const stream = quickStream({
    count: Math.ceil(rate * minutes * 60) + 10_000,
    seed: 1,
    customers: 20_000,
    terminals: 5000,
  });
  const samples: { t_s: number; rss_mb: number; sent: number }[] = [];
  const t0 = performance.now();
  let sent = 0;
  let nextSample = 0;
  while (performance.now() - t0 < minutes * 60_000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    const messages = [];
    while (sent < due) {
      const tx = stream.next().value!;
      tx.event_time = Date.now();
      messages.push({ key: tx.customer_id, value: enc.encode(tx) });
      sent++;
    }
    if (messages.length > 0) await producer.send({ topic: topics[0], acks: 1, messages });
    const elapsed = (performance.now() - t0) / 1000;
    if (elapsed >= nextSample) {
      samples.push({ t_s: Math.round(elapsed), rss_mb: Math.round(rssMb(scorer.pid!) * 10) / 10, sent });
      process.stderr.write(`[soak] ${Math.round(elapsed)} s: RSS ${samples.at(-1)!.rss_mb} MB, ${sent} sent\n`);
      nextSample += 10;
    }
    await sleep(20);
  }
  scorer.kill('SIGTERM');
  await new Promise((r) => scorer.once('exit', r));
  await producer.disconnect();
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
  // Least-squares slope of RSS over time after the first minute (warm-up: JIT, pools), and over the second
  // half (the feature cache, --feature-cache-entries, full by then at the defaults and 2,000 tx/s).
  const steady = samples.filter((s) => s.t_s >= 60);
  const slope = slopeOf(steady);
  const lastHalf = slopeOf(samples.filter((s) => s.t_s >= (minutes * 60) / 2));
  const result = {
    minutes,
    rate,
    sent,
    rss_after_warmup_mb: steady[0]?.rss_mb,
    rss_end_mb: steady.at(-1)?.rss_mb,
    rss_max_mb: Math.max(...steady.map((s) => s.rss_mb)),
    slope_mb_per_min: Math.round(slope * 60 * 100) / 100,
    slope_second_half_mb_per_min: Math.round(lastHalf * 60 * 100) / 100,
    samples,
  };
  mkdirSync(fromRoot('bench/results'), { recursive: true });
  writeFileSync(fromRoot('bench/results/soak.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `soak ${minutes} min at ${rate} tx/s: RSS ${result.rss_after_warmup_mb} MB after warm-up → ${result.rss_end_mb} MB at the end (max ${result.rss_max_mb}), slope ${result.slope_mb_per_min} MB/min (second half ${result.slope_second_half_mb_per_min})`,
  );
}

/** Least-squares slope of RSS (MB) over time (s). */
function slopeOf(xs: { t_s: number; rss_mb: number }[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, s) => a + s.t_s, 0) / n;
  const my = xs.reduce((a, s) => a + s.rss_mb, 0) / n;
  return xs.reduce((a, s) => a + (s.t_s - mx) * (s.rss_mb - my), 0) / xs.reduce((a, s) => a + (s.t_s - mx) ** 2, 0);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('[soak] failed:', err);
    process.exit(1);
  },
);
