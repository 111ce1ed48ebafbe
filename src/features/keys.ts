// Every Redis key name the feature store uses is built here. An entity's keys carry a hash tag
// ({c:<customer>} or {t:<terminal>}) so that they land in one Redis Cluster slot; ids are escaped so that
// no id can choose or break a hash tag (an id holding '{' or '}' is written %7B / %7D, '%' as %25).
// Every store command touches exactly one key, so no command can span slots.

export const DEFAULT_KEY_PREFIX = 'fs:';

/** Event-time span of one log key. Windows reach back at most 38 days, so 4–5 buckets are live. */
export const BUCKET_MS = 10 * 86_400_000;

export interface FeatureKeys {
  readonly prefix: string;
  /** STRING, append-only log of the customer's transactions (see entity-log.ts). */
  customerLog(customerId: string): string;
  /** STRING, append-only log of the terminal's transactions and fraud marks whose event time falls in `bucket`. */
  terminalLog(terminalId: string, bucket: number): string;
  /** STRING: the namespace's epoch marker (see redis-store.ts: how an emptied Redis is detected). */
  readonly meta: string;
  /** HASH, partition → '<progress event time>:<wall ms>': the shared event-time watermark. */
  readonly watermark: string;
  /** SCAN pattern that matches every key under this prefix (tests and cleanup). */
  readonly pattern: string;
}

/** The bucket holding event time t. */
export function bucketOf(t: number): number {
  return Math.floor(t / BUCKET_MS);
}

/** Escapes an id so that it holds no '{' or '}' (and stays reversible). */
export function escapeId(id: string): string {
  return /[{}%]/.test(id) ? id.replace(/[{}%]/g, (c) => (c === '{' ? '%7B' : c === '}' ? '%7D' : '%25')) : id;
}

export function featureKeys(prefix: string = DEFAULT_KEY_PREFIX): FeatureKeys {
  if (/[{}]/.test(prefix)) throw new Error(`the Redis key prefix must not contain '{' or '}': ${prefix}`);
  return {
    prefix,
    customerLog: (id) => `${prefix}{c:${escapeId(id)}}`,
    terminalLog: (id, bucket) => `${prefix}{t:${escapeId(id)}}:${bucket}`,
    meta: `${prefix}meta`,
    watermark: `${prefix}wm`,
    pattern: `${escapeGlob(prefix)}*`,
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
