import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  ready(): boolean;
  /** Why it is not ready, shown in the JSON (optional). */
  reason?(): string;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  registry: Registry;
  checks: readonly ReadinessCheck[];
  /** /healthz answers 503 when one of these fails (e.g. a consumer dead or stalled); none = always 200. */
  liveness?: readonly ReadinessCheck[];
  /** Extra routes (e.g. /dashboard), path → handler returning [content type, body]. */
  routes?: ReadonlyMap<string, () => Promise<[string, string]> | [string, string]>;
}

/**
 * /metrics for Prometheus, /healthz (the process answers and no liveness check fails: a supervisor
 * restarts it on 503), /readyz (every dependency is ready).
 */
export class HttpServer {
  private readonly server: Server;

  constructor(private readonly opts: HttpServerOptions) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const reply = (status: number, type: string, body: string): void => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
      if (path === '/metrics') {
        opts.registry.metrics().then(
          (body) => reply(200, opts.registry.contentType, body),
          (err: Error) => reply(500, 'text/plain', `${err.message}\n`),
        );
        return;
      }
      if (path === '/healthz') {
        const live = opts.liveness ?? [];
        if (live.length === 0) return reply(200, 'text/plain', 'ok\n');
        const status = live.map(checkStatus);
        const ok = status.every((s) => s.ready);
        return reply(ok ? 200 : 503, 'application/json', `${JSON.stringify({ healthy: ok, checks: status })}\n`);
      }
      if (path === '/readyz') {
        const status = opts.checks.map(checkStatus);
        const ok = status.every((s) => s.ready);
        return reply(ok ? 200 : 503, 'application/json', `${JSON.stringify({ ready: ok, checks: status })}\n`);
      }
      const route = opts.routes?.get(path);
      if (route) {
        Promise.resolve(route()).then(
          ([type, body]) => reply(200, type, body),
          (err: Error) => reply(500, 'text/plain', `${err.message}\n`),
        );
        return;
      }
      reply(404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        const a = this.server.address() as AddressInfo;
        resolve(`http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}

function checkStatus(c: ReadinessCheck): { name: string; ready: boolean; reason?: string } {
  const ready = safeReady(c);
  if (ready || c.reason === undefined) return { name: c.name, ready };
  let reason: string;
  try {
    reason = c.reason();
  } catch (err) {
    reason = (err as Error).message;
  }
  return { name: c.name, ready, reason };
}

function safeReady(c: ReadinessCheck): boolean {
  try {
    return c.ready();
  } catch {
    return false;
  }
}
