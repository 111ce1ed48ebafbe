// The store on a real Redis Cluster of 3 masters + 3 replicas (scripts/stack.sh up --redis-cluster, in a
// folder and on ports of this test's own: 21000–21005, bus 31000–31005, or FRAUDSCORE_TEST_REDIS_CLUSTER_PORT;
// below Linux's ephemeral range, 32768–60999, where an outgoing connection can hold a port a listener needs):
// - the FeatureStore contract, idempotency across instances and bit-identical parity with the in-memory
//   store, the same tests as on the single Redis;
// - one pipeline per master, keys spread over every master, hash tags ids cannot choose;
// - a master SIGKILLed under the scorer (`fraudscore run`, a paced generated stream): its replica is
//   promoted, decisions are degraded only between the kill and the promotion (plus the client's slot-map
//   refresh), none is lost, and every decision not degraded has exactly the in-memory store's features.
// FRAUDSCORE_CLUSTER_FULL=1 (npm run test:cluster) runs the failover on a longer stream, twice: the killed
// node rejoins as a replica, then the promoted one is killed too.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import { keySlot } from '../../src/features/redis-batch.js';
import { fromRoot } from '../../src/package-root.js';
import type { Decision } from '../../src/types.js';
import { OwnRedisStack, ownRedisPorts } from '../helpers/own-redis-stack.js';
import { startCli } from '../helpers/scorer-process.js';
import { randomName } from '../helpers/stack.js';
import { redisStoreContract } from './redis-contract.js';
import type { RedisTarget } from './redis-helpers.js';
import { redisStore } from './redis-helpers.js';
import { expectRedisParity } from './redis-parity.js';
import { T0, tx } from './store-contract.js';

const FULL = process.env.FRAUDSCORE_CLUSTER_FULL === '1';
const stack = new OwnRedisStack(ownRedisPorts({ redis: 26379, cluster: 21000, tls: 21010 }));
const ports = Array.from({ length: 6 }, (_, i) => stack.ports.cluster + i);
const target: RedisTarget = { url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','), cluster: true };
// A master silent this long is failed over: short, so that the test's outage is short.
const NODE_TIMEOUT_MS = 2000;

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
}

/** Master port → the port of its replica, from each node's own ROLE; only replicas whose link is up. */
function topology(): Map<number, number> {
  const out = new Map<number, number>();
  for (const port of ports) {
    const role = cli(port, 'role').split('\n');
    if (role[0] === 'slave' && role[3] === 'connected') out.set(Number(role[2]), port);
  }
  return out;
}

/** How node `port` sees the cluster: each live node's address, role and slots, sorted. */
function view(port: number): string {
  return cli(port, 'cluster', 'nodes')
    .split('\n')
    .filter((l) => l !== '' && !/fail|handshake|noaddr/.test(l.split(' ')[2]))
    .map((l) => {
      const f = l.split(' ');
      return `${f[1].split('@')[0]} ${f[2].includes('master') ? 'master' : 'replica'} ${f.slice(8).join(' ')}`;
    })
    .sort()
    .join('\n');
}

/**
 * Waits until every master has a replica with its replication link up (after create or a rejoin) and
 * every live node sees the same slot map, so that a client starting now gets a current one.
 */
async function replicated(timeoutMs = 60_000): Promise<Map<number, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = topology();
    const live = ports.filter((p) => cli(p, 'ping') === 'PONG');
    if (t.size === 3 && new Set(live.map(view)).size === 1) return t;
    if (Date.now() > deadline) throw new Error(`replicas not linked: ${JSON.stringify([...t])}`);
    await sleep(200);
  }
}

beforeAll(() => {
  stack.env.FRAUDSCORE_REDIS_CLUSTER_NODE_TIMEOUT_MS = String(NODE_TIMEOUT_MS);
  stack.sh('up', '--redis-cluster', 'redis');
  return replicated().then(() => undefined);
}, 120_000);

afterAll(() => stack.down());

describe('RedisFeatureStore on a Redis Cluster: the single-Redis tests', () => {
  redisStoreContract(target);

  it('gives the in-memory store’s features, bit for bit', async () => {
    await expectRedisParity(target);
  }, 120_000);

  it('sends one pipeline per master, spreads keys over every master, and escapes hash tags', async () => {
    const { store, prefix, cleanup } = await redisStore({}, target);
    try {
      const txs = Array.from({ length: 256 }, (_, i) => tx(`p${i}`, `c${i % 97}`, `t${i % 41}`, T0 + i * 1000, 100));
      const pipeline = vi.spyOn(store.client, 'pipeline');
      const out = new Float32Array(256 * N_FEATURES);
      expect(await store.enrich(txs, 256, out)).toBeNull();
      expect(pipeline.mock.calls.length).toBe(3);
      pipeline.mockRestore();
      const masters = [...topology().keys()];
      expect(masters).toHaveLength(3);
      for (const port of masters) {
        const r = new Redis({ port, host: '127.0.0.1' });
        expect((await r.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000))[1].length).toBeGreaterThan(0);
        r.disconnect();
      }
      expect(keySlot(store.keys.customerLog('a{b}'))).not.toBe(keySlot('b'));
    } finally {
      await cleanup();
      await store.close();
    }
  });
});

describe('RedisFeatureStore on a Redis Cluster as the least-privilege ACL user', () => {
  it('needs no command outside REDIS_STORE_COMMANDS (scripts/stack/redis.sh): parity holds, the ACL logs stay empty', async () => {
    const script = readFileSync(fromRoot('scripts/stack/redis.sh'), 'utf8');
    const commands = /^REDIS_STORE_COMMANDS="([^"]+)"/m.exec(script)![1].split(' ');
    const rule = [
      'on',
      '>acl-test-pw',
      'resetkeys',
      '~test:fs:*',
      'resetchannels',
      '-@all',
      ...commands.map((c) => `+${c}`),
    ];
    for (const port of ports) {
      expect(cli(port, 'acl', 'setuser', 'fraudscore', ...rule)).toBe('OK');
      expect(cli(port, 'acl', 'log', 'reset')).toBe('OK');
    }
    try {
      const acl = { ...target, url: target.url.replace(/^redis:\/\//, 'redis://fraudscore:acl-test-pw@') };
      await expectRedisParity(acl, { cleanupWith: target });
      const refused = ports.map((port) => cli(port, 'acl', 'log')).filter((l) => l !== '');
      expect(refused).toEqual([]);
    } finally {
      for (const port of ports) cli(port, 'acl', 'deluser', 'fraudscore');
    }
  }, 120_000);
});

describe('RedisFeatureStore on a Redis Cluster: a planned failover', () => {
  // CLUSTER FAILOVER there and back, batches sent all the while. After the switch the old master answers
  // MOVED, and ioredis refuses commands for the promoted replica until its connection is open ("Connection
  // is closed."): RedisBatch sends both kinds again. Before it did, 22 of 40 batches sent right after a
  // failover were degraded under CPU load.
  it('follows CLUSTER FAILOVER there and back without a degraded batch, features as in memory', async () => {
    const { store, cleanup } = await redisStore({}, target);
    const memory = new MemoryFeatureStore();
    let k = 0;
    let checked = 0;
    const out = new Float32Array(64 * N_FEATURES);
    const ref = new Float32Array(64 * N_FEATURES);
    const one = async () => {
      k++;
      const txs = Array.from({ length: 64 }, (_, i) =>
        tx(`m${k}-${i}`, `c${i % 31}`, `t${i % 17}`, T0 + k * 100_000 + i, 100),
      );
      const cause = await store.enrich(txs, 64, out);
      expect(cause === null ? null : `batch ${k}: ${cause} (${(store.lastFailure as Error)?.message})`).toBeNull();
      await memory.enrich(txs, 64, ref);
      expect(Array.from(out)).toEqual(Array.from(ref));
      checked++;
    };
    try {
      await one();
      const [first] = [...(await replicated()).entries()];
      for (const [master, replica] of [first, [first[1], first[0]]]) {
        expect(cli(replica, 'cluster', 'failover')).toBe('OK');
        const deadline = Date.now() + 30_000;
        while (!(cli(replica, 'role').startsWith('master') && cli(master, 'role').startsWith('slave'))) {
          if (Date.now() > deadline) throw new Error('CLUSTER FAILOVER did not complete');
          await one();
        }
        // The client still maps the moved slots to the old master, which now answers MOVED.
        await one();
        await replicated();
        await one();
      }
      expect(checked).toBeGreaterThanOrEqual(5);
    } finally {
      await cleanup();
      await store.close();
    }
  }, 120_000);
});

interface Run {
  decisions: Decision[];
  code: number | null;
  out: string;
}

describe('a Redis master SIGKILLed under the scorer', () => {
  const count = FULL ? 24_000 : 5000;
  const rate = FULL ? 800 : 500;
  const seed = 77;

  async function scorer(extra: Record<string, string>, args: string[], file: string, during?: () => Promise<void>) {
    const p = startCli(
      'run',
      [
        '--count',
        String(count),
        '--seed',
        String(seed),
        '--no-http',
        '--progress',
        'off',
        '--decisions-out',
        file,
        ...args,
      ],
      { KAFKA_BROKERS: '', REDIS_URL: '', ...extra },
    );
    if (during !== undefined) await during();
    const { code } = await p.exited;
    const decisions = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Decision);
    return { decisions, code, out: p.output() } satisfies Run;
  }

  /** Kills the master `port` once the scorer has decided `after` records; resolves to kill and promotion times. */
  async function failover(file: string, port: number, after: number) {
    const replica = (await replicated()).get(port)!;
    expect(replica).toBeDefined();
    const deadline = Date.now() + 60_000;
    while (!(existsSync(file) && statSync(file).size > after * 400) && Date.now() < deadline) await sleep(50);
    const node = ports.indexOf(port) + 1;
    // SIGKILL by pid (the stack's pid file), so that the time of the kill is known to the millisecond.
    const pid = Number(readFileSync(join(stack.dir, `redis-cluster-${node}.pid`), 'utf8').trim());
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    while (!cli(replica, 'role').startsWith('master') && Date.now() < deadline) await sleep(20);
    const promotedAt = Date.now();
    expect(cli(replica, 'role').split('\n')[0], `replica :${replica} of the killed :${port} promoted`).toBe('master');
    return { node, replica, killedAt, promotedAt };
  }

  it('promotes the replica; degraded only while the slots are unavailable; none lost, none wrong', async () => {
    const memFile = join(stack.dir, 'memory.ndjson');
    const clusterFile = join(stack.dir, 'cluster.ndjson');
    const reference = await scorer({}, [], memFile);
    expect(reference.code, reference.out).toBe(0);

    const events: { node: number; replica: number; killedAt: number; promotedAt: number }[] = [];
    const run = await scorer(
      {
        REDIS_URL: target.url,
        FRAUDSCORE_REDIS_CLUSTER: 'true',
        FRAUDSCORE_REDIS_PREFIX: `${randomName('failover')}:`,
        // A loaded machine must not time a batch out outside the outage: a dead master fails its batches
        // at once (no retry), so this bound only keeps slow-but-alive round trips from being degraded.
        FRAUDSCORE_REDIS_TIMEOUT_MS: '2000',
      },
      ['--rate', String(rate)],
      clusterFile,
      async () => {
        const masters = [...(await replicated()).keys()];
        events.push(await failover(clusterFile, masters[0], Math.floor(count / 4)));
        if (FULL) {
          // The killed node comes back as a replica; then the promoted one dies too.
          stack.sh('start', 'redis', String(events[0].node));
          events.push(await failover(clusterFile, events[0].replica, Math.floor((count * 2) / 3)));
        }
      },
    );
    expect(run.code, run.out).toBe(0);
    if (process.env.FRAUDSCORE_CLUSTER_TRACE === '1') console.log(run.out.slice(-4000));

    // None lost: every record the in-memory run decided, decided once.
    const ref = new Map(reference.decisions.map((d) => [d.transaction_id, d]));
    expect(run.decisions).toHaveLength(reference.decisions.length);
    expect(new Set(run.decisions.map((d) => d.transaction_id))).toEqual(new Set(ref.keys()));

    // Degraded only between a kill and its promotion (plus the slot-map refresh and one batch), with the
    // documented cause; at least one, or the kill proved nothing.
    const degraded = run.decisions.filter((d) => d.degraded);
    expect(degraded.length).toBeGreaterThan(0);
    const slackMs = 1500;
    for (const d of degraded) {
      expect(d.degraded_cause).toBe('FRAUD_FEATURES_UNAVAILABLE');
      const inOutage = events.some((e) => d.scored_at >= e.killedAt - 50 && d.scored_at <= e.promotedAt + slackMs);
      expect(inOutage, `degraded at ${d.scored_at}, outages ${JSON.stringify(events)}`).toBe(true);
    }

    // None wrong: every decision not degraded has the in-memory store's features, bit for bit (the
    // degraded transactions were appended once Redis answered, so later windows count them).
    let wrong = 0;
    const examples: string[] = [];
    for (const d of run.decisions) {
      if (d.degraded) continue;
      const r = ref.get(d.transaction_id)!;
      if (JSON.stringify(r.features) !== JSON.stringify(d.features) || r.score !== d.score) {
        wrong++;
        if (examples.length < 3) examples.push(`${d.transaction_id}: ${d.features} vs ${r.features}`);
      }
    }
    expect(examples).toEqual([]);
    expect(wrong).toBe(0);

    if (process.env.FRAUDSCORE_CLUSTER_TRACE === '1') {
      // Decisions (degraded) per 250 ms around the first kill, and their latency.
      const k = events[0].killedAt;
      const rows: string[] = [];
      for (let b = -4; b < 24; b++) {
        const inB = run.decisions.filter((d) => d.scored_at >= k + b * 250 && d.scored_at < k + (b + 1) * 250);
        const lat = inB.length ? Math.max(...inB.map((d) => d.latency_us)) / 1000 : 0;
        rows.push(`${b * 250}ms:${inB.length}/${inB.filter((d) => d.degraded).length}/${lat.toFixed(0)}`);
      }
      console.log(rows.join(' '));
    }
    const outages = events.map((e) => {
      const inIt = degraded.filter((d) => d.scored_at >= e.killedAt - 50 && d.scored_at <= e.promotedAt + slackMs);
      const rel = (t: number) => ((t - e.killedAt) / 1000).toFixed(2);
      return (
        `node ${e.node} killed, replica :${e.replica} master after ${rel(e.promotedAt)} s, ` +
        `${inIt.length} degraded from +${rel(Math.min(...inIt.map((d) => d.scored_at)))} s to +${rel(Math.max(...inIt.map((d) => d.scored_at)))} s`
      );
    });
    console.log(
      `[redis-cluster failover] ${run.decisions.length} decisions at ${rate} tx/s, node timeout ${NODE_TIMEOUT_MS} ms; ` +
        `${outages.join('; ')}; 0 lost, 0 wrong of ${run.decisions.length - degraded.length} not degraded`,
    );
  }, 180_000);
});
