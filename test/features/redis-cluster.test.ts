// The store on a real Redis Cluster (3 masters of Debian's redis-server, started here on 26400–26402 or
// FRAUDSCORE_TEST_CLUSTER_PORT…+2): every command names one key, a batch is one pipeline per master,
// and the features equal the in-memory store's for a stream with labels, duplicates and late events.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { N_FEATURES } from '../../src/features/feature-names.js';
import type { FeatureStore } from '../../src/features/feature-store.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import { keySlot } from '../../src/features/redis-batch.js';
import { RedisFeatureStore } from '../../src/features/redis-store.js';
import type { Transaction } from '../../src/types.js';
import { rng, type StoreCall, toCalls, txStream } from './tx-stream.js';

const BASE = Number(process.env.FRAUDSCORE_TEST_CLUSTER_PORT ?? 26400);
const PORTS = [BASE, BASE + 1, BASE + 2];

async function run(store: FeatureStore, calls: readonly StoreCall[]): Promise<Float32Array[]> {
  const outputs: Float32Array[] = [];
  for (const call of calls) {
    if (call.kind === 'labels') await store.applyLabels(call.labels);
    else {
      const out = new Float32Array(call.txs.length * N_FEATURES);
      expect(await store.enrich(call.txs, call.txs.length, out)).toBeNull();
      outputs.push(out);
    }
  }
  return outputs;
}

describe('RedisFeatureStore on a Redis Cluster', () => {
  const servers: ChildProcess[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fraudscore-cluster-'));
    for (const port of PORTS) {
      servers.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            path.join(dir, `nodes-${port}.conf`),
            '--dir',
            dir,
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of PORTS) {
      for (let i = 0; ; i++) {
        const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
        if (r.stdout.trim() === 'PONG') break;
        if (i > 100) throw new Error(`redis-server on ${port} did not start`);
        await sleep(50);
      }
    }
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...PORTS.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8' },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (let i = 0; ; i++) {
      const info = spawnSync('redis-cli', ['-p', String(BASE), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
      if (info.includes('cluster_state:ok')) break;
      if (i > 200) throw new Error('cluster did not become ok');
      await sleep(50);
    }
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the in-memory store’s features, one pipeline per master', async () => {
    const events = txStream({ seed: 13, transactions: 3000, days: 50, customers: 150, terminals: 80 });
    const sizes = rng(5);
    const calls = toCalls(events, () => 1 + Math.floor(sizes() * 300));
    const store = await RedisFeatureStore.connect({
      url: `redis://127.0.0.1:${BASE}`,
      cluster: true,
      prefix: 'fs:',
      commandTimeoutMs: 2000,
      connectTimeoutMs: 5000,
    });
    const memory = new MemoryFeatureStore();
    try {
      const a = await run(memory, calls);
      const b = await run(store, calls);
      let mismatches = 0;
      for (let c = 0; c < a.length; c++)
        for (let i = 0; i < a[c].length; i++) if (!Object.is(a[c][i], b[c][i])) mismatches++;
      expect(mismatches).toBe(0);
      // The keys spread over all three masters, and an id with braces stays in its own slot.
      const nodes = new Set<string>();
      for (const port of PORTS) {
        const r = new Redis({ port, host: '127.0.0.1' });
        if ((await r.dbsize()) > 0) nodes.add(String(port));
        r.disconnect();
      }
      expect(nodes.size).toBe(3);
      expect(keySlot(store.keys.customerLog('a{b}'))).not.toBe(keySlot('b'));
      // A batch over many customers and terminals: one pipeline per master.
      const pipeline = vi.spyOn(store.client, 'pipeline');
      const batch = (calls.find((c) => c.kind === 'enrich' && c.txs.length > 100) as { txs: Transaction[] }).txs;
      const out = new Float32Array(batch.length * N_FEATURES);
      await store.enrich(batch, batch.length, out);
      expect(pipeline.mock.calls.length).toBeLessThanOrEqual(3);
      pipeline.mockRestore();
    } finally {
      await store.close();
      await memory.close();
    }
  }, 120_000);
});
