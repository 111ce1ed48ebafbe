// Redis services a test brings up through scripts/stack.sh in a folder and on ports of its own (so that
// it can kill nodes without touching the shared stack), and takes down again.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../../src/package-root.js';

export interface OwnRedisPorts {
  /** The single Redis `up redis` always starts beside the others. */
  redis: number;
  /** First of the six Redis Cluster nodes. */
  cluster: number;
  tls: number;
}

/**
 * Ports from FRAUDSCORE_TEST_REDIS_* when set, else the given defaults. Defaults (and a cluster's bus ports,
 * +10000) stay below 32768: Linux hands out 32768–60999 to outgoing connections, and one of those once
 * held a test's listening port.
 */
export function ownRedisPorts(defaults: OwnRedisPorts): OwnRedisPorts {
  const env = (name: string, d: number) => Number(process.env[name] ?? d);
  return {
    redis: env('FRAUDSCORE_TEST_REDIS_PORT', defaults.redis),
    cluster: env('FRAUDSCORE_TEST_REDIS_CLUSTER_PORT', defaults.cluster),
    tls: env('FRAUDSCORE_TEST_REDIS_TLS_PORT', defaults.tls),
  };
}

export class OwnRedisStack {
  readonly dir = mkdtempSync(join(tmpdir(), 'fraudscore-own-redis-'));
  readonly env: Record<string, string>;

  constructor(readonly ports: OwnRedisPorts) {
    this.env = {
      ...(process.env as Record<string, string>),
      FRAUDSCORE_STACK_DIR: this.dir,
      FRAUDSCORE_REDIS_PORT: String(ports.redis),
      FRAUDSCORE_REDIS_CLUSTER_PORT: String(ports.cluster),
      FRAUDSCORE_REDIS_TLS_PORT: String(ports.tls),
    };
  }

  /** Runs `scripts/stack.sh ...args` and throws with its output when it fails. */
  sh(...args: string[]): string {
    const r = spawnSync('bash', [fromRoot('scripts/stack.sh'), ...args], { env: this.env, encoding: 'utf8' });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`stack.sh ${args.join(' ')} failed (${r.status}):\n${out.slice(-3000)}`);
    return out;
  }

  /** KEY=value lines of a file the stack wrote (e.g. secure/redis.env). */
  envFile(name: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of readFileSync(join(this.dir, name), 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) out[m[1]] = m[2];
    }
    return out;
  }

  /** Stops everything it started and removes its folder. */
  down(): void {
    try {
      this.sh('down', 'redis');
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
