import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS } from '../../src/cli/commands.js';
import { parseRunConfig } from '../../src/config/config.js';
import { commandHelp } from '../../src/config/help.js';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { fatalConnectError, loadRedisSecrets, parseRedisSeeds } from '../../src/features/redis-connection.js';

function problems(argv: string[], env: Record<string, string>): string {
  try {
    parseRunConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(FraudError);
    return (err as Error).message;
  }
  return '';
}

describe('Redis TLS, password file and Cluster options', () => {
  it('takes flags and environment variables', () => {
    const cfg = parseRunConfig(['--redis-tls-servername', 'redis.internal', '--redis-cluster'], {
      REDIS_URL: 'rediss://fraudscore@h1:7000,h2:7001',
      REDIS_TLS_CA: '/run/ca.pem',
      REDIS_TLS_CERT: '/run/c.pem',
      REDIS_TLS_KEY: '/run/k.pem',
      REDIS_PASSWORD_FILE: '/run/pw',
    });
    expect(cfg.redisCluster).toBe(true);
    expect(cfg.redisTlsCa).toBe('/run/ca.pem');
    expect(cfg.redisTlsServername).toBe('redis.internal');
    expect(cfg.redisPasswordFile).toBe('/run/pw');
    expect(parseRunConfig([], { REDIS_URL: 'redis://h:1', FRAUDSCORE_REDIS_CLUSTER: 'true' }).redisCluster).toBe(true);
  });

  it('says which options do not fit together, without showing a password', () => {
    const text = problems([], {
      REDIS_URL: 'redis://u:s3cret@h1:7000,h2:7001',
      REDIS_TLS_CA: '/ca.pem',
      REDIS_TLS_CERT: '/c.pem',
    });
    expect(text).toMatch(/several nodes: that is a Redis Cluster, add --redis-cluster/);
    expect(text).toMatch(/--redis-tls-\* options need a TLS URL: write REDIS_URL as rediss:/);
    expect(text).toMatch(/both --redis-tls-cert and --redis-tls-key/);
    expect(problems(['--redis-cluster'], {})).toMatch(/need REDIS_URL/);
    expect(problems([], { REDIS_URL: 'http://u:s3cret@h:1' })).not.toContain('s3cret');
  });

  it('lists every Redis option in --help', () => {
    const help = commandHelp(COMMAND_SPECS.run);
    for (const flag of [
      '--redis-cluster',
      '--redis-password-file',
      '--redis-tls-ca',
      '--redis-tls-cert',
      '--redis-tls-key',
      '--redis-tls-servername',
    ])
      expect(help).toContain(flag);
    expect(help).toContain('REDIS_PASSWORD_FILE');
  });
});

describe('Redis connection settings', () => {
  it('splits a seed list; scheme, user, password and database come from the first', () => {
    expect(parseRedisSeeds('rediss://u:p%40ss@h1:7000/2,h2:7001, redis://h3')).toEqual({
      nodes: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 7001 },
        { host: 'h3', port: 6379 },
      ],
      username: 'u',
      password: 'p@ss',
      tls: true,
      db: 2,
    });
  });

  it('reads the CA, certificate, key and the first line of the password file; one line for a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fraudscore-redis-secrets-'));
    writeFileSync(join(dir, 'pw'), 'hunter2\n');
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const s = await loadRedisSecrets('rediss://h:1', {
      tlsCaFile: join(dir, 'ca.pem'),
      tlsServername: 'localhost',
      passwordFile: join(dir, 'pw'),
    });
    expect(s).toEqual({ password: 'hunter2', tls: { ca: 'CA', servername: 'localhost' } });
    expect(await loadRedisSecrets('redis://h:1', {})).toEqual({});
    const err = await loadRedisSecrets('rediss://h:1', { tlsCaFile: join(dir, 'nope.pem') }).catch((e) => e);
    expect(err).toBeInstanceOf(FraudError);
    expect((err as FraudError).code).toBe(ErrorCodes.INVALID_CONFIG);
    expect((err as Error).message).toBe(`--redis-tls-ca / REDIS_TLS_CA: cannot read ${join(dir, 'nope.pem')} (ENOENT)`);
    writeFileSync(join(dir, 'empty'), '\n');
    await expect(loadRedisSecrets('redis://h:1', { passwordFile: join(dir, 'empty') })).rejects.toThrow(/is empty/);
  });

  it('tells errors a reconnect cannot cure from those it can', () => {
    expect(fatalConnectError(new Error('WRONGPASS invalid username-password pair'))).toBe('auth');
    expect(
      fatalConnectError(Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })),
    ).toBe('tls');
    expect(fatalConnectError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe('tls');
    expect(fatalConnectError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeNull();
  });
});
