// The alerts as an operator runs them (issue 16): a real Prometheus server (Debian's package) scrapes
// the scorer on the local stack every second and evaluates a copy of deploy/prometheus/alerts.yml in
// which only the `for:` durations are shortened. Through Prometheus' HTTP API: during a cold start
// (empty feature store) and a clean stream paced at 300 tx/s no alert of any severity is ever pending
// or firing; once amounts drift, the feature and score drift alerts fire. About a minute and a half.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { transactionEncoder } from '../../src/avro/encoders.js';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { dropNamespace } from '../../src/features/namespace.js';
import { packageRoot } from '../../src/kafka/admin.js';
import { type QuickStreamOptions, quickStream } from '../../src/simulate/quick-stream.js';
import type { Transaction } from '../../src/types.js';
import { sampleOf, withBaseline } from '../helpers/drift-baseline.js';
import { createTestTopics, deleteTestTopics, useStackClients } from '../helpers/kafka-io.js';
import { scorerEnv } from '../helpers/scorer-env.js';
import { randomName } from '../helpers/stack.js';
import { tempDir } from '../scoring/helpers.js';

const PROMETHEUS = process.env.FRAUDSCORE_PROMETHEUS ?? '/usr/bin/prometheus';
const hasPrometheus = spawnSync(PROMETHEUS, ['--version']).status === 0;

// As the drift-pipeline test: 10-minute gaps fill the 30/37-day windows after ~5,300 records.
const STREAM: Omit<QuickStreamOptions, 'count' | 'seed'> = { customers: 500, terminals: 1000, meanGapMs: 600_000 };
const WARMUP = 6000;
const WINDOW = 3000;
const RATE = 300;
const FOR = '15s';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Produces `txs` keyed by customer at `rate` per second (chunks every 100 ms), like live traffic. */
async function producePaced(kafka: Kafka, topic: string, txs: readonly Transaction[], rate: number): Promise<void> {
  const enc = transactionEncoder();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    const chunk = Math.max(1, Math.round(rate / 10));
    const t0 = Date.now();
    for (let i = 0; i < txs.length; i += chunk) {
      const wait = t0 + (i / rate) * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await producer.send({
        topic,
        acks: -1,
        messages: txs.slice(i, i + chunk).map((tx) => ({ key: tx.customer_id, value: enc.encode(tx) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

interface Alert {
  labels: Record<string, string>;
  state: string;
}

describe.skipIf(!hasPrometheus)('alerts on a real Prometheus scraping the scorer', () => {
  const stack = useStackClients();

  it('quiet through a cold start and a clean stream; drift alerts fire on a drifted one', async () => {
    // The model in use, with a baseline of the same kind of stream (another seed).
    const modelInUse = parseRunConfig([], {}).modelDir;
    const sample = await sampleOf(modelInUse, [...quickStream({ ...STREAM, count: WARMUP + 6000, seed: 101 })], WARMUP);
    const tmp = await tempDir('prom-live');
    stack.cleanups.push(tmp.cleanup);
    const modelDir = path.join(tmp.dir, 'model');
    await withBaseline(modelInUse, sample, modelDir);

    const t = await createTestTopics(stack.admin, 'promlive', 3);
    const prefix = `${randomName('fs')}:`;
    stack.cleanups.push(
      () => deleteTestTopics(stack.admin, t),
      () => dropNamespace(stack.redis, prefix),
    );
    const app = await Pipeline.start(
      parseRunConfig(
        [
          ...['--model', modelDir, '--drift-window', String(WINDOW), '--drift-warmup', String(WARMUP)],
          ...['--http-port', '0', '--redis-prefix', prefix, '--head-poll-ms', '1000'],
        ],
        scorerEnv(t, { FRAUDSCORE_NO_HTTP: 'false' }),
      ),
    );
    stack.cleanups.push(() => app.stop());
    const running = app.runToEnd();

    // The rules as shipped, only `for:` shortened; scraped and evaluated every second.
    const rules = (await readFile(path.join(packageRoot(), 'deploy/prometheus/alerts.yml'), 'utf8')).replace(
      /^(\s+)for: \S+$/gm,
      `$1for: ${FOR}`,
    );
    await writeFile(path.join(tmp.dir, 'alerts.yml'), rules);
    const target = new URL(app.url!).host;
    await writeFile(
      path.join(tmp.dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [alerts.yml]',
        'scrape_configs:',
        `  - { job_name: fraudscore, static_configs: [{ targets: ["${target}"] }] }`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const prom: ChildProcess = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(tmp.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(tmp.dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    prom.stderr?.on('data', (d: Buffer) => {
      promLog += d.toString();
    });
    stack.cleanups.push(async () => {
      prom.kill('SIGTERM');
    });
    const api = `http://127.0.0.1:${port}`;
    const get = async <T>(p: string): Promise<T> => {
      const r = await fetch(`${api}${p}`);
      const body = (await r.json()) as { status: string; data: T };
      expect(body.status, `${p}: ${JSON.stringify(body)}`).toBe('success');
      return body.data;
    };
    const until = async (what: string, ok: () => Promise<boolean>, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await ok().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${promLog.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    await until('Prometheus ready', async () => (await fetch(`${api}/-/ready`)).ok, 30_000);
    await until('scorer ready', async () => (await fetch(`${app.url}/readyz`)).status === 200, 30_000);
    const scalar = async (q: string) => {
      const r = await get<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`);
      return r.result.length === 0 ? Number.NaN : Number(r.result[0]!.value[1]);
    };
    await until('the scorer scraped (up == 1)', async () => (await scalar('up{job="fraudscore"}')) === 1, 30_000);
    const started = Date.now();

    const live = [
      ...quickStream({
        ...STREAM,
        count: WARMUP + 2 * WINDOW + 6000,
        seed: 202,
        amountScale: 3,
        driftFrom: WARMUP + 2 * WINDOW,
      }),
    ];
    // Cold start and clean stream at 300 tx/s: the feature store starts empty (its PSIs would be huge).
    await producePaced(stack.kafka, t.transactions, live.slice(0, WARMUP + 2 * WINDOW), RATE);
    await until('the drift window warm', async () => (await scalar('fraudscore_drift_warm')) === 1, 30_000);
    await new Promise((r) => setTimeout(r, 5000)); // a few more evaluations on the warm, clean window
    const cleanSeconds = Math.ceil((Date.now() - started) / 1000);
    const everClean = await get<{ result: { metric: Record<string, string> }[] }>(
      `/api/v1/query?query=${encodeURIComponent(`max_over_time(ALERTS[${cleanSeconds}s])`)}`,
    );
    const cleanPsi = await get<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      `/api/v1/query?query=${encodeURIComponent('max by (feature) (fraudscore_feature_psi)')}`,
    );

    const slowShare = await scalar('fraudscore:processing_slo_errors:ratio_rate5m');
    const p99 = await scalar('histogram_quantile(0.99, sum by (le) (rate(fraudscore_processing_seconds_bucket[5m])))');

    // Drifted: amounts ×3 from here on.
    await producePaced(stack.kafka, t.transactions, live.slice(WARMUP + 2 * WINDOW), RATE);
    let firing: Alert[] = [];
    await until(
      'drift alerts firing',
      async () => {
        firing = (await get<{ alerts: Alert[] }>('/api/v1/alerts')).alerts.filter((a) => a.state === 'firing');
        const names = new Set(firing.map((a) => a.labels.alertname));
        return names.has('FraudscoreFeatureDrift') && names.has('FraudscoreScoreDrift');
      },
      60_000,
    );
    const drifted = firing.map((a) => `${a.labels.alertname}${a.labels.feature ? `{${a.labels.feature}}` : ''}`);
    console.log(
      `[prometheus-live] clean ${cleanSeconds} s: alerts ever pending/firing ${everClean.result.length}; ` +
        `decisions over 250 ms ${(slowShare * 100).toFixed(2)} %, processing p99 ${(p99 * 1000).toFixed(0)} ms; ` +
        `max PSI ${Math.max(...cleanPsi.result.map((r) => Number(r.value[1]))).toFixed(3)}; drifted, firing: ${drifted.join(', ')}; ` +
        `total ${Math.round((Date.now() - started) / 1000)} s`,
    );
    await app.stop();
    expect(await running).toBe(0);

    expect(
      everClean.result.map((r) => r.metric),
      'alerts during cold start and clean stream',
    ).toEqual([]);
    expect(drifted).toContain('FraudscoreFeatureDrift{amount}');
    expect(drifted).toContain('FraudscoreScoreDrift');
  }, 180_000);
});
