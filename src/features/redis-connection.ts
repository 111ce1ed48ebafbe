// How the feature store reaches Redis: the seed nodes and credentials of a REDIS_URL (one URL, or for a
// Redis Cluster a comma-separated list), the TLS settings and a password read from a file. Files are
// read once, at start, and a file that cannot be read is a one-line configuration error. Nothing here
// ever puts a password into a message.

import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { ErrorCodes, FraudError } from '../errors.js';

export interface RedisSecurityOptions {
  /** PEM file of the CA that signed the server's certificate (default: Node's bundled CAs). */
  tlsCaFile?: string;
  /** PEM client certificate and key, for servers that ask for one (tls-auth-clients). */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Name sent as SNI and checked against the server's certificate (default: the host of the URL). */
  tlsServername?: string;
  /** File whose first line is the password; wins over a password in the URL. */
  passwordFile?: string;
}

/** What the store hands ioredis: TLS options (only for rediss://) and a password (from a file). */
export interface RedisConnectionSecrets {
  tls?: ConnectionOptions;
  password?: string;
}

export interface RedisSeeds {
  nodes: { host: string; port: number }[];
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
  db: number;
}

/**
 * Splits `redis[s]://[user:pw@]host:port[/db][,host:port,…]`: every item may be a whole URL or host:port;
 * the scheme, user, password and database come from the first.
 */
export function parseRedisSeeds(url: string): RedisSeeds {
  const items = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const first = new URL(items[0]);
  const nodes = items.map((item) => {
    const u = /^[a-z][a-z0-9+.-]*:\/\//i.test(item) ? new URL(item) : new URL(`${first.protocol}//${item}`);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) };
  });
  return {
    nodes,
    username: first.username === '' ? undefined : decodeURIComponent(first.username),
    password: first.password === '' ? undefined : decodeURIComponent(first.password),
    tls: first.protocol === 'rediss:',
    db: Number(first.pathname.slice(1) || 0),
  };
}

/** Reads the CA, certificate, key and password files named by the options (once, at start). */
export async function loadRedisSecrets(url: string, o: RedisSecurityOptions): Promise<RedisConnectionSecrets> {
  const out: RedisConnectionSecrets = {};
  if (o.passwordFile !== undefined) {
    out.password = (await readSecret(o.passwordFile, '--redis-password-file / REDIS_PASSWORD_FILE'))
      .split(/\r?\n/)[0]
      .trim();
    if (out.password === '')
      throw new FraudError(ErrorCodes.INVALID_CONFIG, `the Redis password file ${o.passwordFile} is empty`);
  }
  const tlsWanted =
    o.tlsCaFile !== undefined ||
    o.tlsCertFile !== undefined ||
    o.tlsKeyFile !== undefined ||
    o.tlsServername !== undefined;
  if (!/^rediss:\/\//i.test(url.trim())) {
    if (tlsWanted)
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        'the --redis-tls-* options need a TLS Redis URL: write REDIS_URL as rediss://host:port',
      );
    return out;
  }
  if ((o.tlsCertFile === undefined) !== (o.tlsKeyFile === undefined))
    throw new FraudError(
      ErrorCodes.INVALID_CONFIG,
      'give both --redis-tls-cert and --redis-tls-key (a client certificate needs its key), or neither',
    );
  const tls: ConnectionOptions = {};
  if (o.tlsCaFile !== undefined) tls.ca = await readSecret(o.tlsCaFile, '--redis-tls-ca / REDIS_TLS_CA');
  if (o.tlsCertFile !== undefined) tls.cert = await readSecret(o.tlsCertFile, '--redis-tls-cert / REDIS_TLS_CERT');
  if (o.tlsKeyFile !== undefined) tls.key = await readSecret(o.tlsKeyFile, '--redis-tls-key / REDIS_TLS_KEY');
  if (o.tlsServername !== undefined) tls.servername = o.tlsServername;
  out.tls = tls;
  return out;
}

async function readSecret(file: string, option: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new FraudError(ErrorCodes.INVALID_CONFIG, `${option}: cannot read ${file} (${code})`, { cause: err });
  }
}

/** Errors a reconnect cannot cure: refused credentials and certificates that do not verify. */
export function fatalConnectError(err: unknown): 'auth' | 'tls' | null {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | undefined)?.code ?? '';
  if (/^(WRONGPASS|NOAUTH)|invalid password|invalid username-password/i.test(message)) return 'auth';
  if (
    /^(CERT_|ERR_TLS_CERT|ERR_SSL_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_OSSL)/.test(code) ||
    /certificate|ssl3?_|tlsv1 alert|wrong version number/i.test(message)
  )
    return 'tls';
  return null;
}
