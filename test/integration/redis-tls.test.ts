// The scorer on a TLS-only Redis as the least-privilege ACL user (scripts/stack.sh up --redis-tls, on
// ports of this test's own): features bit-identical to the in-memory store's, no command refused by the
// ACL, and each misconfiguration (foreign CA, wrong password, a prefix outside the ACL's key pattern)
// ends the process at start with one line and a non-zero exit.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRoot } from '../../src/package-root.js';
import { OwnRedisStack, ownRedisPorts } from '../helpers/own-redis-stack.js';
import { startCli } from '../helpers/scorer-process.js';
import { randomName } from '../helpers/stack.js';

interface DecisionLine {
  transaction_id: string;
  score: number;
  degraded: boolean;
  features: number[];
}

const COUNT = 3000;

describe('scorer on a TLS Redis as the ACL user (own stack)', () => {
  // Below the ephemeral range (a CI run once failed: an outgoing connection held 57010).
  const stack = new OwnRedisStack(ownRedisPorts({ redis: 26479, cluster: 22000, tls: 22010 }));
  let env: Record<string, string>;
  let secure: string;
  let tlsEnv: Record<string, string>;

  beforeAll(() => {
    stack.sh('up', '--redis-tls', 'redis');
    env = stack.envFile('secure/redis.env');
    secure = join(stack.dir, 'secure');
    tlsEnv = {
      REDIS_URL: env.STACK_REDIS_TLS_URL,
      REDIS_PASSWORD_FILE: env.STACK_REDIS_PASSWORD_FILE,
      REDIS_TLS_CA: env.STACK_TLS_CA_FILE,
      REDIS_TLS_CERT: env.STACK_TLS_CLIENT_CERT_FILE,
      REDIS_TLS_KEY: env.STACK_TLS_CLIENT_KEY_FILE,
      REDIS_TLS_SERVERNAME: 'localhost',
      FRAUDSCORE_REDIS_PREFIX: `${env.STACK_REDIS_KEY_PREFIX}${randomName('tls')}:`,
    };
  }, 120_000);

  afterAll(() => stack.down());

  /** `fraudscore run` embedded (generated stream) with `extra` env; resolves to its exit and output. */
  async function run(extra: Record<string, string>, args: string[] = []) {
    const p = startCli('run', ['--count', String(COUNT), '--no-http', '--progress', 'off', ...args], {
      KAFKA_BROKERS: '',
      REDIS_URL: '',
      ...extra,
    });
    const { code } = await p.exited;
    return { code, out: p.output() };
  }

  function admin(): Redis {
    return new Redis({
      host: '127.0.0.1',
      port: stack.ports.tls,
      password: readFileSync(env.STACK_REDIS_ADMIN_PASSWORD_FILE, 'utf8').trim(),
      tls: { ca: readFileSync(env.STACK_TLS_CA_FILE) },
    });
  }

  it('scores a stream with features identical to the in-memory store, nothing refused by the ACL', async () => {
    const a = admin();
    try {
      await a.acl('LOG', 'RESET');
      const memFile = join(stack.dir, 'memory.ndjson');
      const tlsFile = join(stack.dir, 'tls.ndjson');
      const [mem, tls] = await Promise.all([
        run({}, ['--decisions-out', memFile]),
        run(tlsEnv, ['--decisions-out', tlsFile]),
      ]);
      expect(mem.code, mem.out).toBe(0);
      expect(tls.code, tls.out).toBe(0);
      const read = (f: string) =>
        readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as DecisionLine);
      const m = new Map(read(memFile).map((d) => [d.transaction_id, d]));
      const t = read(tlsFile);
      // Every generated record decided (a few generated bad records are dead letters), in both runs.
      expect(t.length).toBeGreaterThan(COUNT * 0.99);
      expect(m.size).toBe(t.length);
      let differing = 0;
      let withHistory = 0;
      for (const d of t) {
        expect(d.degraded).toBe(false);
        const ref = m.get(d.transaction_id)!;
        if (JSON.stringify(ref.features) !== JSON.stringify(d.features) || ref.score !== d.score) differing++;
        if (d.features[3] > 1) withHistory++;
      }
      expect(differing).toBe(0);
      expect(withHistory).toBeGreaterThan(COUNT / 2);
      // The store wrote under its prefix, and the ACL refused none of its commands or keys.
      const keys = await a.keys(`${tlsEnv.FRAUDSCORE_REDIS_PREFIX}*`);
      expect(keys.length).toBeGreaterThan(100);
      const refused = (await a.acl('LOG')) as unknown[][];
      expect(refused.map((e) => JSON.stringify(e))).toEqual([]);
      // No secret reaches the output.
      const password = readFileSync(env.STACK_REDIS_PASSWORD_FILE, 'utf8').trim();
      expect(tls.out).not.toContain(password);
    } finally {
      a.disconnect();
    }
  }, 120_000);

  it('exits non-zero at start with one line for a foreign CA, a wrong password and NOPERM', async () => {
    const foreign = join(stack.dir, 'foreign-ca');
    expect(spawnSync('bash', [fromRoot('scripts/stack/certs.sh'), foreign]).status).toBe(0);
    const [wrongCa, wrongPw, noPerm] = await Promise.all([
      run({ ...tlsEnv, REDIS_TLS_CA: join(foreign, 'ca.pem') }),
      run({ ...tlsEnv, REDIS_PASSWORD_FILE: join(secure, 'redis-admin.password') }),
      run({ ...tlsEnv, FRAUDSCORE_REDIS_PREFIX: 'other:' }),
    ]);
    const oneLine = (r: { code: number | null; out: string }, re: RegExp) => {
      expect(r.code, r.out).toBe(2);
      const lines = r.out.trim().split('\n');
      expect(lines, r.out).toHaveLength(1);
      expect(lines[0]).toMatch(re);
      expect(lines[0]).toMatch(/\[FRAUD_INVALID_CONFIG\]$/);
    };
    oneLine(wrongCa, /TLS to Redis at rediss:\/\/fraudscore@127\.0\.0\.1:\d+ failed: .*certificate/);
    oneLine(wrongPw, /refused the credentials \(WRONGPASS/);
    oneLine(noPerm, /NOPERM/);
    const adminPassword = readFileSync(join(secure, 'redis-admin.password'), 'utf8').trim();
    expect(wrongPw.out).not.toContain(adminPassword);
  }, 120_000);
});
