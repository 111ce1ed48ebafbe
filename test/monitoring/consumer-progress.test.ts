// Consumer progress, lag and stall (src/monitoring/consumer-progress.ts) on a fake clock, and /healthz.
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HeadPoller, ProgressMetrics } from '../../src/monitoring/consumer-progress.js';
import { HttpServer } from '../../src/monitoring/http.js';

function setup(stallAfterMs = 60_000) {
  let now = 1_000_000;
  const registry = new client.Registry();
  const m = new ProgressMetrics(registry, { stallAfterMs, now: () => now });
  const tx = m.consumer('transactions');
  const scrape = () => registry.metrics();
  return { m, tx, registry, scrape, advance: (ms: number) => (now += ms) };
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

const LAG_S = 'fraudscore_consumer_lag_seconds{consumer="transactions",topic="tx",partition="0"}';
const LAG_R = 'fraudscore_consumer_lag_records{consumer="transactions",topic="tx",partition="0"}';

describe('ConsumerProgress', () => {
  it('lag seconds: how long the oldest waiting record has been at the head, 0 once caught up', async () => {
    const { tx, scrape, advance } = setup();
    tx.assigned(['tx/0']);
    tx.up();
    tx.fetched('tx', 0, 0, 100); // 100 records at the head now
    advance(3000);
    tx.head('tx', 0, 150); // 50 more, seen 3 s later
    advance(2000);
    let text = await scrape();
    expect(value(text, LAG_R)).toBe(150);
    expect(value(text, LAG_S)).toBe(5);
    tx.written('tx', 0, 120); // past the first observation: the oldest waiting record was seen 2 s ago
    text = await scrape();
    expect(value(text, LAG_S)).toBe(2);
    tx.written('tx', 0, 150);
    text = await scrape();
    expect(value(text, LAG_R)).toBe(0);
    expect(value(text, LAG_S)).toBe(0);
    expect(value(text, 'fraudscore_consumer_progress_offsets_total{consumer="transactions"}')).toBe(150);
  });

  it('a replay of old history at full speed is seconds behind, not its age (no event or record times)', async () => {
    const { tx, scrape, advance } = setup();
    tx.assigned(['tx/0']);
    tx.up();
    // Head grows 10,000 records a second; the scorer follows 0.5 s behind.
    for (let s = 1; s <= 60; s++) {
      advance(500);
      tx.fetched('tx', 0, (s - 1) * 10_000, s * 10_000);
      advance(500);
      tx.written('tx', 0, s * 10_000 - 5000);
    }
    const text = await scrape();
    expect(value(text, LAG_S)).toBeLessThanOrEqual(1);
    expect(value(text, LAG_R)).toBe(5000);
  });

  it('stalled: down past the timeout, or records waiting with no progress; slow but moving is not', () => {
    const { m, tx, advance } = setup(10_000);
    tx.assigned(['tx/0']);
    tx.up();
    tx.fetched('tx', 0, 0, 1000);
    // Slow but moving: always behind, progress every second.
    for (let i = 1; i <= 30; i++) {
      advance(1000);
      tx.head('tx', 0, 1000 + i * 100);
      tx.written('tx', 0, i * 10);
    }
    expect(tx.status().stalled).toBe(false);
    expect(tx.status().lagSeconds).toBeGreaterThan(10);
    // No progress while records wait.
    advance(10_000);
    expect(tx.status().stalled).toBe(true);
    expect(tx.status().reason).toMatch(/no progress for 10 s while \d+ records wait/);
    // Nothing waiting: idle, not stalled.
    tx.written('tx', 0, 4000);
    advance(60_000);
    expect(tx.status().stalled).toBe(false);
    // Dead: a short restart is tolerated, a consumer down past the timeout is stalled.
    tx.down('crashed (LZ4 compression not implemented); not restarted');
    advance(5000);
    expect(tx.status().stalled).toBe(false);
    expect(tx.status().up).toBe(false);
    advance(5000);
    expect(m.statuses()[0]).toMatchObject({ consumer: 'transactions', stalled: true, up: false });
    expect(tx.status().reason).toContain('LZ4');
    tx.up();
    expect(tx.status().stalled).toBe(false);
  });

  it('drops the series of revoked partitions; both consumers export the same metrics', async () => {
    const { m, tx, scrape } = setup();
    const labels = m.consumer('labels');
    tx.assigned(['tx/0', 'tx/1']);
    labels.assigned(['lb/0']);
    tx.up();
    labels.down('not started');
    let text = await scrape();
    expect(text).toContain('partition="1"');
    expect(value(text, 'fraudscore_consumer_up{consumer="transactions"}')).toBe(1);
    expect(value(text, 'fraudscore_consumer_up{consumer="labels"}')).toBe(0);
    expect(text).toContain('fraudscore_consumer_lag_seconds{consumer="labels",topic="lb",partition="0"} 0');
    for (const name of ['last_progress_timestamp_seconds', 'records_waiting', 'stalled']) {
      expect(text).toContain(`fraudscore_consumer_${name}{consumer="labels"}`);
    }
    tx.assigned(['tx/0']);
    text = await scrape();
    expect(text).not.toContain('topic="tx",partition="1"');
  });

  it('HeadPoller: heads from the offsets request reach a dead consumer’s partitions', async () => {
    const { tx } = setup();
    tx.assigned(['tx/0']);
    tx.fetched('tx', 0, 10, 10);
    tx.down('crashed');
    const poller = new HeadPoller([{ topic: 'tx', feed: tx }], async () => [{ partition: 0, high: 42 }], 60_000);
    await poller.poll();
    await poller.stop();
    expect(tx.status().waitingRecords).toBe(32);
  });
});

describe('/healthz', () => {
  it('503 with the reason when a liveness check fails, 200 otherwise', async () => {
    const { tx, registry, advance } = setup(1000);
    const http = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      checks: [],
      liveness: [
        { name: 'consumer:transactions', ready: () => !tx.status().stalled, reason: () => tx.status().reason },
      ],
    });
    const url = await http.listen();
    try {
      tx.up();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      tx.down('crashed (boom); not restarted');
      advance(1000);
      const r = await fetch(`${url}/healthz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({
        healthy: false,
        checks: [{ name: 'consumer:transactions', ready: false, reason: 'down: crashed (boom); not restarted' }],
      });
    } finally {
      await http.close();
    }
  });
});
