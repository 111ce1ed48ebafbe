// The feature store's share of the bench: Redis CPU per transaction (the server's own CPU time, INFO cpu), for
// customers with 5 transactions in 30 days and for one with 2,000, and the bytes Redis holds per
// customer and per terminal. With FRAUDSCORE_BENCH_BEFORE=<commit> (default: the last commit with the
// Lua store, when git is there) the same workloads also run through that commit's
// add-transaction-4.lua, so before and after come from one run on one server.
//
//   node dist/bench/feature-store.js   (REDIS_URL, default redis://127.0.0.1:6379; with KAFKA_BROKERS also
//                                       the replay_parity section)

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { RETAIN_MS } from '../src/features/compute.js';
import { DAY_MS, N_FEATURES } from '../src/features/feature-names.js';
import { dropNamespace } from '../src/features/namespace.js';
import { RedisFeatureStore } from '../src/features/redis-store.js';
import { Kafka, logLevel } from '../src/kafka/kafkajs.js';
import { fromRoot } from '../src/package-root.js';
import type { Transaction } from '../src/types.js';
import { drainParity } from './replay-parity.js';

const BATCH = 256;
const LIGHT_TX = Number(process.env.FRAUDSCORE_BENCH_FEATURE_TX ?? 20_000);
const HEAVY_TX = 2000;
/** The last commit whose store ran add-transaction-4.lua. */
const LUA_COMMIT = process.env.FRAUDSCORE_BENCH_BEFORE ?? '3610779';
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

export interface RedisBench {
  cpu_us_per_tx: number;
  cpu_us_per_tx_heavy_customer: number;
  bytes_per_customer: number;
  bytes_per_terminal: number;
  bytes_per_10k_tx: number;
  /** The same workloads through the Lua store of LUA_COMMIT (absent without git). */
  before?: { commit: string; cpu_us_per_tx: number; cpu_us_per_tx_heavy_customer: number; bytes_per_10k_tx: number };
}

/** Light customers: 5 transactions each over 30 days; 1 terminal per 10 transactions; event-time order. */
function lightStream(n: number, start: number): Transaction[] {
  const customers = Math.max(1, Math.floor(n / 5));
  const terminals = Math.max(1, Math.floor(n / 10));
  const out: Transaction[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      tx(
        `l${i}`,
        `lc${(i * 7919) % customers}`,
        `lt${(i * 104729) % terminals}`,
        start + Math.floor((i * 30 * DAY_MS) / n),
      ),
    );
  }
  return out;
}

/** One customer with `n` transactions over 30 days from `start`, spread over 50 terminals. */
function heavyStream(n: number, start: number, tag: string): Transaction[] {
  return Array.from({ length: n }, (_, i) =>
    tx(`h${tag}${i}`, 'heavy', `ht${i % 50}`, start + Math.floor((i * 30 * DAY_MS) / n)),
  );
}

function tx(id: string, customer: string, terminal: string, time: number): Transaction {
  return {
    transaction_id: id,
    event_time: time,
    customer_id: customer,
    terminal_id: terminal,
    amount_minor: 100 + ((id.length * 37) % 9000),
    currency: 'EUR',
    mcc: null,
    channel: 'pos',
    country: null,
  };
}

/**
 * Microseconds of CPU the Redis server has used so far (INFO cpu, user + system). Not the sum of INFO
 * commandstats: a command run by a script is counted there both on its own and inside the script's
 * EVAL, and both stores run theirs from scripts.
 */
async function redisCpuUsec(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6);
}

/** Bytes (MEMORY USAGE) of the keys under prefix, split by entity kind. */
async function keyBytes(redis: Redis, prefix: string): Promise<{ customer: number; terminal: number; other: number }> {
  const sums = { customer: 0, terminal: 0, other: 0 };
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', 0);
    const res = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      const b = Number(res[i][1] ?? 0);
      if (k.includes('{c:')) sums.customer += b;
      else if (k.includes('{t:')) sums.terminal += b;
      else sums.other += b;
    });
  } while (cursor !== '0');
  return sums;
}

type Runner = (txs: readonly Transaction[]) => Promise<void>;

async function measure(redis: Redis, run: Runner, txs: readonly Transaction[]): Promise<number> {
  const before = await redisCpuUsec(redis);
  for (let i = 0; i < txs.length; i += BATCH) await run(txs.slice(i, i + BATCH));
  return (await redisCpuUsec(redis)) - before;
}

interface Workloads {
  light: number;
  heavy: number;
  /** Bytes under the prefix after the light workload alone. */
  bytes: { customer: number; terminal: number };
}

async function workloads(redis: Redis, run: Runner, prefix: string): Promise<Workloads> {
  const start = Date.UTC(2026, 0, 1);
  const light = (await measure(redis, run, lightStream(LIGHT_TX, start))) / LIGHT_TX;
  const bytes = await keyBytes(redis, prefix);
  // The heavy card: 2,000 transactions in 30 days to fill its window, then 2,000 more measured.
  await measure(redis, run, heavyStream(HEAVY_TX, start, 'a'));
  const heavy = (await measure(redis, run, heavyStream(HEAVY_TX, start + 30 * DAY_MS, 'b'))) / HEAVY_TX;
  return { light, heavy, bytes };
}

function oldLuaScript(): string | undefined {
  try {
    return execFileSync('git', ['show', `${LUA_COMMIT}:src/features/lua/add-transaction-4.lua`], {
      cwd: fromRoot('.'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

export interface ReplayParityBench {
  records: number;
  equal: number;
  degraded: number;
}

/**
 * The redis section, and with `brokers` the replay_parity one: a small simulated backlog drained
 * through Kafka and Redis by a scorer process, compared record for record with backfill.
 */
export async function benchFeatureStore(
  url: string,
  brokers?: readonly string[],
): Promise<{ redis: RedisBench; replay_parity?: ReplayParityBench }> {
  const redis = await benchRedis(url);
  if (brokers === undefined) return { redis };
  return { redis, replay_parity: await benchParity(url, brokers) };
}

async function benchParity(url: string, brokers: readonly string[]): Promise<ReplayParityBench> {
  const kafka = new Kafka({ clientId: 'fraudscore-bench-parity', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const dir = await mkdtemp(path.join(tmpdir(), 'fraudscore-bench-parity-'));
  try {
    log('replay parity: a 10-day backlog drained through Kafka and Redis, compared with backfill');
    const r = await drainParity({
      kafka,
      admin,
      brokers: brokers.join(','),
      redisUrl: url,
      dir,
      days: 10,
      partitions: 6,
    });
    return { records: r.records, equal: r.equal, degraded: r.degraded };
  } finally {
    await admin.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchRedis(url: string): Promise<RedisBench> {
  const redis = new Redis(url);
  const run = `bench-fs-${Date.now().toString(36)}`;
  try {
    // Before: the Lua store, one EVALSHA per transaction over the customer's and terminal's ZSETs.
    let before: RedisBench['before'];
    const lua = oldLuaScript();
    if (lua !== undefined) {
      const prefix = `${run}-lua:`;
      const sha = (await redis.script('LOAD', lua)) as string;
      const luaRun: Runner = async (txs) => {
        const p = redis.pipeline();
        for (const t of txs) {
          p.evalsha(
            sha,
            4,
            `${prefix}{c:${t.customer_id}}:tx`,
            `${prefix}{c:${t.customer_id}}:amt`,
            `${prefix}{t:${t.terminal_id}}:tx`,
            `${prefix}{t:${t.terminal_id}}:fraud`,
            t.transaction_id,
            String(t.event_time),
            String(t.amount_minor),
            String(RETAIN_MS),
            String(45 * DAY_MS),
          );
        }
        await p.exec();
      };
      log(`feature store before (${LUA_COMMIT}'s Lua): ${LIGHT_TX} light + ${2 * HEAVY_TX} heavy-card transactions`);
      const w = await workloads(redis, luaRun, prefix);
      before = {
        commit: LUA_COMMIT,
        cpu_us_per_tx: round(w.light),
        cpu_us_per_tx_heavy_customer: round(w.heavy),
        bytes_per_10k_tx: Math.round(((w.bytes.customer + w.bytes.terminal) / LIGHT_TX) * 10_000),
      };
      await dropNamespace(redis, prefix);
    }

    // After: this store, in-process, as the scorer runs it (its cache starts empty).
    const prefix = `${run}:`;
    const store = await RedisFeatureStore.connect({ url, prefix, commandTimeoutMs: 5000 });
    const out = new Float32Array(BATCH * N_FEATURES);
    const storeRun: Runner = async (txs) => {
      const cause = await store.enrich(txs, txs.length, out);
      if (cause !== null) throw new Error(`feature store degraded during the bench (${cause})`);
    };
    log(`feature store after: ${LIGHT_TX} light + ${2 * HEAVY_TX} heavy-card transactions`);
    const w = await workloads(redis, storeRun, prefix);
    await store.close();
    await dropNamespace(redis, prefix);
    const light = lightStream(LIGHT_TX, Date.UTC(2026, 0, 1));
    const customers = new Set(light.map((t) => t.customer_id)).size;
    const terminals = new Set(light.map((t) => t.terminal_id)).size;
    return {
      cpu_us_per_tx: round(w.light),
      cpu_us_per_tx_heavy_customer: round(w.heavy),
      bytes_per_customer: Math.round(w.bytes.customer / customers),
      bytes_per_terminal: Math.round(w.bytes.terminal / terminals),
      bytes_per_10k_tx: Math.round(((w.bytes.customer + w.bytes.terminal) / LIGHT_TX) * 10_000),
      before,
    };
  } finally {
    redis.disconnect();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const brokers = process.env.KAFKA_BROKERS?.split(',');
  benchFeatureStore(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', brokers).then(
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
