import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer, type ReadinessCheck } from '../../src/monitoring/http.js';
import { Metrics } from '../../src/monitoring/metrics.js';

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(checks: ReadinessCheck[], metrics = new Metrics()): Promise<string> {
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0, // a random free port
    registry: metrics.registry,
    checks,
    routes: new Map([
      ['/dashboard', () => ['text/html; charset=utf-8', '<!doctype html><p>hi</p>'] as [string, string]],
    ]),
  });
  servers.push(server);
  return server.listen();
}

describe('HttpServer', () => {
  it('serves /metrics in the Prometheus text format with the default process metrics', async () => {
    const metrics = new Metrics();
    metrics.recordsIn.inc(3);
    const url = await serve([], metrics);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^fraudscore_records_in_total 3$/m);
    expect(text).toMatch(/^fraudscore_process_cpu_seconds_total /m);
    expect(text).toMatch(/^fraudscore_event_to_decision_seconds_bucket\{le="0.0001"\} 0$/m);
    expect(text).toMatch(/^fraudscore_event_to_decision_seconds_bucket\{le="10"\} 0$/m);
  });

  it('/healthz answers while /readyz reports each check, 503 naming the one that is not ready', async () => {
    let kafka = false;
    const url = await serve([
      { name: 'model', ready: () => true },
      { name: 'features', ready: () => true },
      { name: 'kafka', ready: () => kafka },
    ]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      ready: false,
      checks: [
        { name: 'model', ready: true },
        { name: 'features', ready: true },
        { name: 'kafka', ready: false },
      ],
    });
    kafka = true;
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { ready: boolean }).ready).toBe(true);
  });

  it('a check that throws counts as not ready', async () => {
    const url = await serve([
      {
        name: 'features',
        ready: () => {
          throw new Error('boom');
        },
      },
    ]);
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
  });

  it('serves extra routes, 404 for unknown paths and 405 for writes', async () => {
    const url = await serve([]);
    const page = await fetch(`${url}/dashboard?interval=500`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('fails to listen on a port in use with the error, not silently', async () => {
    const url = await serve([]);
    const port = Number(new URL(url).port);
    const second = new HttpServer({ host: '127.0.0.1', port, registry: new Metrics().registry, checks: [] });
    await expect(second.listen()).rejects.toThrow(/EADDRINUSE/);
  });
});
