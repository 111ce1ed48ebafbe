// Scale-out bench (issue 12): 1, 2 and 3 scorer instances in one consumer group against a 3-broker Kafka
// (RF 3, min.insync.replicas 2) and a Redis Cluster (3 masters + 3 replicas), exactly-once.
//
//   npm run bench -- --scale     (FRAUDSCORE_SCALE_RECORDS, default 40000; FRAUDSCORE_SCALE_RATE, paced tx/s)
//
// Runs on the chaos runner's private cluster stack (bench/chaos.ts PrivateStack(true): .stack-chaos-cluster,
// Kafka 19492.., Redis Cluster 16780..), started if needed and stopped at the end. Per instance count:
// - throughput: the k scorers join the group on an empty 6-partition topic, then a backlog is produced as
//   fast as the bench can; records per second from the group's committed offsets (first to last progress);
// - CPU seconds of every process over that drain (/proc/<pid>/stat utime+stime): each scorer, each Kafka
//   node, each Redis node, and the bench itself (the producer), so the per-instance cost is visible;
// - Redis per transaction over the drain: commands on the masters (INFO commandstats deltas; replicas
//   replay the same writes), and bytes of the run's keys on the masters (MEMORY USAGE over its prefix);
// - latency: then the same scorers under a paced stream (event_time = send time) at one rate for every k,
//   event→decision p50/p99 seen by a read_committed reader (bench/reader.ts).
// Writes bench/results/scale.json and prints a table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { transactionEncoder } from '../src/avro/encoders.js';
import { decisionType } from '../src/avro/schemas.js';
import { Kafka, logLevel } from '../src/kafka/kafkajs.js';
import { fromRoot } from '../src/package-root.js';
import { quickStream } from '../src/simulate/quick-stream.js';
import { percentile } from '../src/stats/percentile.js';
import type { Decision, Transaction } from '../src/types.js';
import { type ScorerProcess, startScorer } from '../test/helpers/scorer-process.js';
import { PrivateStack } from './chaos.js';
import { redisReplicated } from './cluster-faults.js';
import { cpuMs } from './cpu.js';
import { startReader } from './reader.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const N = Number(process.env.FRAUDSCORE_SCALE_RECORDS ?? 40_000);
const PACED_S = Number(process.env.FRAUDSCORE_SCALE_PACED_SECONDS ?? 15);
const PARTITIONS = 6;
const COUNTS = [1, 2, 3];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[scale] ${msg}\n`);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const run = `scale-${Date.now().toString(36)}`;

/** utime + stime of a process, seconds; NaN once it is gone. */
const cpuSeconds = (pid: number): number => cpuMs(pid) / 1000;

function pidOf(stack: PrivateStack, file: string): number {
  return Number(readFileSync(join(stack.dir, file), 'utf8').trim());
}

interface CommandStats {
  calls: Map<string, number>;
}

async function commandStats(nodes: Redis[]): Promise<CommandStats> {
  const calls = new Map<string, number>();
  for (const r of nodes) {
    for (const line of (await r.info('commandstats')).split('\n')) {
      const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
      if (m) calls.set(m[1], (calls.get(m[1]) ?? 0) + Number(m[2]));
    }
  }
  return { calls };
}

/** Bytes (MEMORY USAGE) and count of the keys under `prefix` on every master. */
async function prefixBytes(masters: Redis[], prefix: string): Promise<{ bytes: number; keys: number }> {
  let bytes = 0;
  let keys = 0;
  for (const r of masters) {
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of batch) {
        bytes += (await r.memory('USAGE', k, 'SAMPLES', '0')) ?? 0;
        keys++;
      }
    } while (cursor !== '0');
  }
  return { bytes, keys };
}

async function committedCount(admin: Admin, group: string, topic: string): Promise<number> {
  const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  let n = 0;
  for (const p of res[0]?.partitions ?? []) n += Math.max(0, Number(p.offset));
  return n;
}

interface ScaleRow {
  instances: number;
  records: number;
  throughput_tps: number;
  drain_seconds: number;
  produce_seconds: number;
  /** CPU seconds over the drain. */
  cpu_s: { scorers: number[]; kafka_nodes: number[]; redis_nodes: number[]; bench_producer: number };
  scorer_cpu_s_total: number;
  /** Records per CPU-second of scorer: tx/s one fully used core of scorer sustains. */
  tps_per_scorer_core: number;
  scorer_peak_rss_mb: number[];
  redis_commands_per_tx: Record<string, number>;
  redis_bytes_per_tx: number;
  redis_keys: number;
  paced_rate_tps: number;
  paced_decisions: number;
  paced_p50_ms: number;
  paced_p99_ms: number;
}

function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function runCount(
  k: number,
  stack: PrivateStack,
  kafka: Kafka,
  admin: Admin,
  masters: Redis[],
  pacedRate: number,
): Promise<ScaleRow> {
  const name = `${run}.k${k}`;
  const t = { in: `${name}.in`, out: `${name}.out`, dlq: `${name}.dlq`, labels: `${name}.labels` };
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(t).map((topic) => ({
      topic,
      numPartitions: topic.endsWith('dlq') || topic.endsWith('labels') ? 1 : PARTITIONS,
      replicationFactor: 3,
    })),
  });
  const group = `${name}.group`;
  const prefix = `${name}:`;
  const scorers: ScorerProcess[] = [];
  for (let i = 0; i < k; i++) {
    scorers.push(
      startScorer([], {
        KAFKA_BROKERS: stack.brokers.join(','),
        ...stack.redisEnv(),
        FRAUDSCORE_TRANSACTIONS_TOPIC: t.in,
        FRAUDSCORE_DECISIONS_TOPIC: t.out,
        FRAUDSCORE_DLQ_TOPIC: t.dlq,
        FRAUDSCORE_LABELS_TOPIC: t.labels,
        FRAUDSCORE_GROUP_ID: group,
        FRAUDSCORE_CLIENT_ID: `${group}-${i}`,
        FRAUDSCORE_REDIS_PREFIX: prefix,
        FRAUDSCORE_DELIVERY: 'exactly-once',
        FRAUDSCORE_KAFKA_CLIENT: process.env.FRAUDSCORE_KAFKA_CLIENT ?? 'confluent',
        FRAUDSCORE_SESSION_TIMEOUT_MS: '6000',
        FRAUDSCORE_NO_HTTP: 'true',
        FRAUDSCORE_PROGRESS: 'off',
        // The machine is shared: a 250 ms round-trip bound would degrade healthy batches under load.
        FRAUDSCORE_REDIS_TIMEOUT_MS: '2000',
      }),
    );
  }
  try {
    await Promise.all(scorers.map((s) => s.waitFor(/partitions assigned/, 180_000)));
    await sleep(3000); // the last join's rebalance settles
    // Recent event times, so that the decoder's plausibility window and the windows behave as live.
    const enc = transactionEncoder();
    const txs = [...quickStream({ count: N, seed: 11, start: Date.now() - 3 * 86_400_000, meanGapMs: 4000 })];
    const messages = txs.map((tx) => ({ key: tx.customer_id, value: enc.encode(tx) }));

    const statsBefore = await commandStats(masters);
    const kafkaPids = [1, 2, 3].map((i) => pidOf(stack, `kafka-${i}.pid`));
    const redisPids = [1, 2, 3, 4, 5, 6].map((i) => pidOf(stack, `redis-cluster-${i}.pid`));
    const scorerPids = scorers.map((s) => s.child.pid!);
    const cpu0 = {
      scorers: scorerPids.map(cpuSeconds),
      kafka: kafkaPids.map(cpuSeconds),
      redis: redisPids.map(cpuSeconds),
      bench: process.cpuUsage(),
    };

    log(`${k} scorer(s): producing ${N} transactions`);
    const t0 = performance.now();
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const producing = (async () => {
      for (let i = 0; i < messages.length; i += 2000)
        await producer.send({ topic: t.in, acks: -1, messages: messages.slice(i, i + 2000) });
      return (performance.now() - t0) / 1000;
    })();
    // Sustained rate: from the first committed progress to the end of the backlog.
    let first: { t: number; n: number } | undefined;
    let last = { t: 0, n: 0 };
    const deadline = Date.now() + 600_000;
    while (Date.now() < deadline) {
      const n = await committedCount(admin, group, t.in);
      const now = performance.now();
      if (n > 0 && first === undefined) first = { t: now, n };
      last = { t: now, n };
      if (n >= N) break;
      await sleep(100);
    }
    const produceSeconds = await producing;
    await producer.disconnect();
    if (first === undefined || last.n < N) throw new Error(`${k} scorer(s): the group committed ${last.n}/${N}`);
    const benchCpu = process.cpuUsage(cpu0.bench);
    const cpu = {
      scorers: scorerPids.map((p, i) => round(cpuSeconds(p) - cpu0.scorers[i], 2)),
      kafka_nodes: kafkaPids.map((p, i) => round(cpuSeconds(p) - cpu0.kafka[i], 2)),
      redis_nodes: redisPids.map((p, i) => round(cpuSeconds(p) - cpu0.redis[i], 2)),
      bench_producer: round((benchCpu.user + benchCpu.system) / 1e6, 2),
    };
    const statsAfter = await commandStats(masters);
    const tps = (last.n - first.n) / ((last.t - first.t) / 1000);
    const scorerCpu = cpu.scorers.reduce((a, b) => a + b, 0);
    const commands: Record<string, number> = {};
    for (const [cmd, n] of statsAfter.calls) {
      const d = n - (statsBefore.calls.get(cmd) ?? 0);
      // The bench's own INFO/SCAN calls are not the scorer's.
      if (
        d > 0 &&
        !['info', 'scan', 'memory|usage', 'cluster|slots', 'cluster|nodes', 'ping', 'replconf'].includes(cmd)
      )
        commands[cmd] = round(d / N, 3);
    }
    const mem = await prefixBytes(masters, prefix);
    log(
      `${k} scorer(s): ${Math.round(tps)} tx/s, scorer CPU ${cpu.scorers.join(' + ')} s, ${round(N / scorerCpu, 0)} tx per scorer CPU-second`,
    );

    // Latency at one rate for every k.
    const type = decisionType();
    const lat: number[] = [];
    let pacedFrom = Number.POSITIVE_INFINITY;
    const reader = await startReader(stack.brokers, t.out, `${name}.reader`, (v, now) => {
      const d = type.fromBuffer(v!.subarray(5)) as Decision;
      if (d.event_time >= pacedFrom) lat.push(now - d.event_time);
    });
    await sleep(2000);
    const pacer = kafka.producer();
    await pacer.connect();
    const stream = quickStream({ count: Math.ceil(pacedRate * PACED_S) + 1000, seed: 12 });
    const tickMs = 10;
    const perTick = pacedRate / (1000 / tickMs);
    pacedFrom = Date.now();
    const p0 = performance.now();
    let sent = 0;
    while (performance.now() - p0 < PACED_S * 1000) {
      const due = Math.floor(((performance.now() - p0) / tickMs + 1) * perTick);
      const batch = [];
      while (sent < due) {
        const tx = stream.next().value as Transaction;
        tx.event_time = Date.now();
        batch.push({ key: tx.customer_id, value: enc.encode(tx) });
        sent++;
      }
      if (batch.length > 0) void pacer.send({ topic: t.in, acks: 1, messages: batch });
      await sleep(tickMs);
    }
    const until = Date.now() + 30_000;
    while (lat.length < sent && Date.now() < until) await sleep(100);
    await pacer.disconnect();
    await reader.stop();
    // The first 10 % is warm-up.
    const steady = lat.slice(Math.floor(lat.length * 0.1)).sort((a, b) => a - b);
    log(`${k} scorer(s) at ${pacedRate} tx/s: ${lat.length}/${sent} decisions, p99 ${percentile(steady, 0.99)} ms`);
    return {
      instances: k,
      records: N,
      throughput_tps: Math.round(tps),
      drain_seconds: round((last.t - first.t) / 1000),
      produce_seconds: round(produceSeconds),
      cpu_s: cpu,
      scorer_cpu_s_total: round(scorerCpu, 2),
      tps_per_scorer_core: Math.round(N / scorerCpu),
      scorer_peak_rss_mb: scorerPids.map(peakRssMb),
      redis_commands_per_tx: commands,
      redis_bytes_per_tx: round(mem.bytes / N, 1),
      redis_keys: mem.keys,
      paced_rate_tps: pacedRate,
      paced_decisions: lat.length,
      paced_p50_ms: percentile(steady, 0.5),
      paced_p99_ms: percentile(steady, 0.99),
    };
  } finally {
    await Promise.all(scorers.map((s) => s.stop(20_000)));
    await admin.deleteTopics({ topics: Object.values(t) }).catch(() => {});
  }
}

function table(rows: readonly ScaleRow[]): string {
  return [
    '| scorers | tx/s (drain) | × 1 scorer | scorer CPU s (each) | tx per scorer CPU-s | Kafka CPU s (3 nodes) | Redis CPU s (6 nodes) | paced tx/s | p50 / p99 ms |',
    '|---:|---:|---:|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.instances} | ${r.throughput_tps} | ${(r.throughput_tps / rows[0].throughput_tps).toFixed(2)} | ${r.cpu_s.scorers.join(' + ')} | ${r.tps_per_scorer_core} | ${round(
          r.cpu_s.kafka_nodes.reduce((a, b) => a + b, 0),
        )} | ${round(r.cpu_s.redis_nodes.reduce((a, b) => a + b, 0))} | ${r.paced_rate_tps} | ${r.paced_p50_ms} / ${r.paced_p99_ms} |`,
    ),
  ].join('\n');
}

export async function main(): Promise<void> {
  const stack = new PrivateStack(true);
  log(`cluster stack in ${stack.dir} (Kafka ${stack.brokers.join(',')}, Redis Cluster ${stack.redisNodes[0]}..)`);
  stack.up('kafka', 'redis');
  await redisReplicated(stack.redisNodes);
  const kafka = new Kafka({ clientId: 'fraudscore-scale', brokers: stack.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const nodes = stack.redisNodes.map((port) => new Redis({ port, host: '127.0.0.1' }));
  const rows: ScaleRow[] = [];
  try {
    const masters: Redis[] = [];
    for (const r of nodes) if ((await r.role())[0] === 'master') masters.push(r);
    const pacedRate = Number(process.env.FRAUDSCORE_SCALE_RATE ?? 400);
    for (const k of COUNTS) rows.push(await runCount(k, stack, kafka, admin, masters, pacedRate));
    // The run's keys (every prefix starts with `${run}.`).
    for (const r of masters) {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${run}.*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) await r.del(key);
      } while (cursor !== '0');
    }
  } finally {
    for (const r of nodes) r.disconnect();
    await admin.disconnect().catch(() => {});
    if (process.env.CHAOS_KEEP_STACK !== '1') stack.run('down', 'kafka', 'redis');
  }
  const result = {
    date: new Date().toISOString(),
    note: 'npm run bench -- --scale under nice -n 10 on one 2-core machine shared with other jobs: 3 Kafka JVMs, 6 Redis and the scorers share those 2 cores, so throughput flattens with instances; compare rows within this run only',
    cpus: (await import('node:os')).cpus().length,
    loadavg_at_end: (await import('node:os')).loadavg().map((x) => round(x, 1)),
    stack: '3 combined KRaft nodes (Kafka 4.1.1, RF 3, min.insync.replicas 2), Redis Cluster 3 masters + 3 replicas',
    delivery: 'exactly-once',
    partitions: PARTITIONS,
    rows,
  };
  mkdirSync(fromRoot('bench/results'), { recursive: true });
  writeFileSync(fromRoot('bench/results/scale.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(table(rows));
  console.log('\nwrote bench/results/scale.json');
}
