// CPU profile of the scorer draining a backlog: where its Node thread spends its time.
//
//   node dist/bench/profile.js [client=confluent] [records=60000] [cli=bin/fraudscore.js]
//
// Runs `node --cpu-prof <cli> run` on a fresh topic holding `records` transactions until the group has
// committed them all, stops it with SIGTERM, and prints the top self-time entries of the profile.
// `cli` may point at another checkout's launcher to profile a "before" build on the same work.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { transactionEncoder } from '../src/avro/encoders.js';
import { dropNamespace } from '../src/features/namespace.js';
import { Kafka, logLevel } from '../src/kafka/kafkajs.js';
import { fromRoot } from '../src/package-root.js';
import { quickStream } from '../src/simulate/quick-stream.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Top `n` self-time entries (function, file:line, share of samples) of a .cpuprofile. */
export function topSelfTime(path: string, n = 5): { name: string; where: string; share: number }[] {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const counts = new Map<number, number>();
  for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const byKey = new Map<string, { name: string; where: string; n: number }>();
  for (const node of prof.nodes) {
    const c = counts.get(node.id) ?? 0;
    if (c === 0) continue;
    const f = node.callFrame;
    const where = f.url
      ? `${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(dist|src)\//, '$1/')}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName}|${where}`;
    const e = byKey.get(key) ?? { name: f.functionName || '(anonymous)', where, n: 0 };
    e.n += c;
    byKey.set(key, e);
  }
  const total = prof.samples.length;
  // (idle) is the thread waiting on Kafka or Redis, not work: reported apart by the caller.
  return [...byKey.values()]
    .filter((e) => e.name !== '(idle)')
    .sort((a, b) => b.n - a.n)
    .slice(0, n)
    .map((e) => ({ name: e.name, where: e.where, share: Math.round((e.n / total) * 1000) / 10 }));
}

async function main(): Promise<void> {
  const [client = 'confluent', recordsArg = '60000', cli = fromRoot('bin/fraudscore.js')] = process.argv.slice(2);
  const records = Number(recordsArg);
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const run = `prof-${Date.now().toString(36)}`;
  const kafka = new Kafka({ clientId: 'fraudscore-profile', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const t = { in: `${run}.in`, out: `${run}.out`, dlq: `${run}.dlq`, labels: `${run}.labels` };
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(t).map((topic) => ({ topic, numPartitions: topic.endsWith('dlq') ? 1 : 6 })),
  });
  const enc = transactionEncoder();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  // Ends before now: a record past the decoder's future bound would be dead-lettered, not scored.
  const start = Date.now() - Math.max(3 * 86_400_000, records * 4000 * 1.2);
  const txs = [...quickStream({ count: records, seed: 5, start, meanGapMs: 4000 })];
  for (let i = 0; i < txs.length; i += 2000) {
    await producer.send({
      topic: t.in,
      acks: -1,
      messages: txs.slice(i, i + 2000).map((tx) => ({ key: tx.customer_id, value: enc.encode(tx) })),
    });
  }
  await producer.disconnect();
  const dir = mkdtempSync(join(tmpdir(), 'fraudscore-prof-'));
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, resolve(cli), 'run'], {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      REDIS_URL: redisUrl,
      FRAUDSCORE_TRANSACTIONS_TOPIC: t.in,
      FRAUDSCORE_DECISIONS_TOPIC: t.out,
      FRAUDSCORE_DLQ_TOPIC: t.dlq,
      FRAUDSCORE_LABELS_TOPIC: t.labels,
      FRAUDSCORE_GROUP_ID: run,
      FRAUDSCORE_CLIENT_ID: `${run}-scorer`,
      FRAUDSCORE_REDIS_PREFIX: `${run}:`,
      FRAUDSCORE_KAFKA_CLIENT: client,
      FRAUDSCORE_NO_HTTP: 'true',
      FRAUDSCORE_PROGRESS: 'off',
    },
    stdio: ['ignore', 'ignore', process.env.FRAUDSCORE_PROFILE_LOG ? 'inherit' : 'ignore'],
  });
  const t0 = Date.now();
  for (;;) {
    const res = await admin.fetchOffsets({ groupId: run, topics: [t.in] });
    let n = 0;
    for (const p of res[0]?.partitions ?? []) n += Math.max(0, Number(p.offset));
    if (n >= records || Date.now() - t0 > 300_000) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (Date.now() - t0) / 1000;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await admin.deleteTopics({ topics: Object.values(t) }).catch(() => {});
  await admin.disconnect();
  const redis = new Redis(redisUrl);
  await dropNamespace(redis, run).finally(() => redis.disconnect());
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  console.log(
    `${client} via ${cli}: ${records} records in ${seconds.toFixed(1)} s (incl. start-up); ${join(dir, file)}`,
  );
  for (const e of topSelfTime(join(dir, file)))
    console.log(`  ${e.share.toFixed(1).padStart(5)} %  ${e.name}  ${e.where}`);
}

if (process.argv[1]?.endsWith('profile.js')) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error('[profile] failed:', err);
      process.exit(1);
    },
  );
}
