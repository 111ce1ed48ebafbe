// The live FeatureStore: one pipelined round trip per micro-batch, one EVALSHA of
// lua/add-transaction-4.lua per transaction. A slow or absent Redis never stalls the pipeline: commands
// time out fast, nothing queues while disconnected, and enrich() then writes the documented defaults
// (compute.ts DEFAULT_FEATURES_DOC) and resolves to FEATURES_UNAVAILABLE until Redis answers again.

import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { ErrorCodes, FraudError } from '../errors.js';
import type { Label, Transaction } from '../types.js';
import { RETAIN_MS, writeDefaultFeatures, writeFeatures } from './compute.js';
import { DAY_MS, N_FEATURES } from './feature-names.js';
import type { FeatureStore } from './feature-store.js';
import { DEFAULT_KEY_PREFIX, type FeatureKeys, featureKeys } from './keys.js';
import { type LuaScript, readLuaScript } from './lua-scripts.js';

export interface RedisFeatureStoreOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Prefix of every key (default 'fs:'). */
  prefix?: string;
  /** Per-command timeout: how long a slow Redis may hold a batch before it is decided degraded (default 50). */
  commandTimeoutMs?: number;
  /** How long connect() waits for Redis at start before failing with STACK_UNAVAILABLE (default 3000). */
  connectTimeoutMs?: number;
  /** Window entries older than (event time − retainMs) are trimmed (default RETAIN_MS, 38 days). */
  retainMs?: number;
  /** PEXPIRE set on every key written, so idle customers and terminals vanish (wall time; default 45 days). */
  ttlMs?: number;
}

/** What lua/add-label-2.lua returns. */
export const LabelScriptResult = {
  MARKED: 1,
  ALREADY_MARKED: 0,
  /** The terminal does not hold the transaction (never seen, or trimmed): the label is ignored. */
  UNKNOWN_TRANSACTION: -1,
} as const;

const DEFAULT_COMMAND_TIMEOUT_MS = 50;
const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_TTL_MS = 45 * DAY_MS;

interface LoadedScript extends LuaScript {
  readonly sha: string;
}

type PipelineReplies = [error: Error | null, result: unknown][];

export class RedisFeatureStore implements FeatureStore {
  readonly keys: FeatureKeys;
  private readonly redis: Redis;
  private readonly url: string;
  private readonly commandTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly retainArg: string;
  private readonly ttlArg: string;
  private txScript: LoadedScript | undefined;
  private labelScript: LoadedScript | undefined;
  private healthy = false;
  private closing = false;
  private lastError: unknown;

  constructor(options: RedisFeatureStoreOptions) {
    this.url = options.url;
    this.keys = featureKeys(options.prefix ?? DEFAULT_KEY_PREFIX);
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.retainArg = String(options.retainMs ?? RETAIN_MS);
    this.ttlArg = String(options.ttlMs ?? DEFAULT_TTL_MS);
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      commandTimeout: this.commandTimeoutMs,
      // Fail fast: nothing waits for a reconnect; the batch is decided on default features instead.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: Math.min(this.connectTimeoutMs, 2000),
      // Keep reconnecting forever, at most 500 ms apart, so recovery needs no restart.
      retryStrategy: (attempt) => Math.min(attempt * 50, 500),
    });
    this.redis.on('error', (err) => {
      this.lastError = err;
      this.healthy = false;
    });
    this.redis.on('close', () => {
      this.healthy = false;
    });
    // A reconnect may reach a server that restarted empty: load the scripts again before using it.
    this.redis.on('ready', () => {
      this.loadScripts().then(
        () => {
          this.healthy = true;
        },
        (err) => {
          this.lastError = err;
        },
      );
    });
  }

  /**
   * Connects and loads the scripts. Rejects with FraudError STACK_UNAVAILABLE when Redis does not answer
   * within connectTimeoutMs.
   */
  static async connect(options: RedisFeatureStoreOptions): Promise<RedisFeatureStore> {
    const store = new RedisFeatureStore(options);
    await store.start();
    return store;
  }

  /** The last error Redis or the client reported (for logs); undefined when none. */
  get lastFailure(): unknown {
    return this.lastError;
  }

  /** The underlying client (tests and diagnostics). */
  get client(): Redis {
    return this.redis;
  }

  private async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const [tx, label] = await Promise.all([readLuaScript('add-transaction-4.lua'), readLuaScript('add-label-2.lua')]);
      this.txScript = withSha(tx);
      this.labelScript = withSha(label);
      const ready = new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${this.connectTimeoutMs} ms`)),
          this.connectTimeoutMs,
        );
        this.redis.once('ready', () => resolve());
      });
      // The first attempt may fail; retryStrategy keeps trying until 'ready' or the timer.
      this.redis.connect().catch(() => {});
      await ready;
      await this.loadScripts();
      this.healthy = true;
    } catch (err) {
      this.closing = true;
      this.redis.disconnect();
      const why =
        this.lastError instanceof Error
          ? `${(err as Error).message}; last error: ${this.lastError.message}`
          : (err as Error).message;
      throw new FraudError(
        ErrorCodes.STACK_UNAVAILABLE,
        `Redis feature store at ${redactUrl(this.url)} is unavailable (${why}). Start Redis (npm run stack:up) or fix the Redis URL.`,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private async loadScripts(): Promise<void> {
    const scripts = [this.txScript, this.labelScript];
    await Promise.all(
      scripts.map(async (script) => {
        if (script === undefined) return;
        const sha = (await this.redis.script('LOAD', script.source)) as string;
        if (sha !== script.sha)
          throw new Error(`SCRIPT LOAD of ${script.name} returned ${sha}, expected ${script.sha}`);
      }),
    );
  }

  async enrich(txs: readonly Transaction[], n: number, out: Float32Array): Promise<string | null> {
    if (n <= 0) return null;
    try {
      const replies = await this.execWithReload((pipeline, script) => {
        const k = this.keys;
        for (let i = 0; i < n; i++) {
          const tx = txs[i];
          pipeline.evalsha(
            script.sha,
            4,
            k.customerTx(tx.customer_id),
            k.customerAmounts(tx.customer_id),
            k.terminalTx(tx.terminal_id),
            k.terminalFraud(tx.terminal_id),
            tx.transaction_id,
            String(tx.event_time),
            String(tx.amount_minor),
            this.retainArg,
            this.ttlArg,
          );
        }
      }, this.txScript);
      for (let i = 0; i < n; i++) {
        const agg = replies[i][1];
        if (!Array.isArray(agg) || agg.length !== 12) throw new Error(`unexpected script reply for record ${i}`);
        writeFeatures(txs[i], agg as number[], out, i * N_FEATURES);
      }
      this.healthy = true;
      return null;
    } catch (err) {
      this.lastError = err;
      this.healthy = false;
      for (let i = 0; i < n; i++) writeDefaultFeatures(txs[i], out, i * N_FEATURES);
      return ErrorCodes.FEATURES_UNAVAILABLE;
    }
  }

  /**
   * Marks fraud labels (non-fraud labels are a no-op) in one round trip. Labels for transactions the
   * terminal does not hold are ignored (see lua/add-label-2.lua). Rejects with a retryable
   * FEATURES_UNAVAILABLE FraudError when Redis is unavailable, so the caller can retry before committing.
   */
  async applyLabels(labels: readonly Label[]): Promise<void> {
    const fraud = labels.filter((label) => label.is_fraud);
    if (fraud.length === 0) return;
    try {
      await this.execWithReload((pipeline, script) => {
        for (const label of fraud) {
          pipeline.evalsha(
            script.sha,
            2,
            this.keys.terminalTx(label.terminal_id),
            this.keys.terminalFraud(label.terminal_id),
            label.transaction_id,
            this.ttlArg,
          );
        }
      }, this.labelScript);
      this.healthy = true;
    } catch (err) {
      this.lastError = err;
      this.healthy = false;
      throw new FraudError(ErrorCodes.FEATURES_UNAVAILABLE, `could not apply ${fraud.length} fraud labels`, {
        cause: err,
        canRetry: true,
      });
    }
  }

  /**
   * Runs one pipeline; if Redis lost the script (restarted empty, SCRIPT FLUSH), loads it and runs the
   * pipeline once more. Throws on any other error. Every script write is idempotent, so a retry is safe.
   */
  private async execWithReload(
    fill: (pipeline: ReturnType<Redis['pipeline']>, script: LoadedScript) => void,
    script: LoadedScript | undefined,
  ): Promise<PipelineReplies> {
    if (script === undefined) throw new Error('feature store not started: call RedisFeatureStore.connect()');
    // Fail fast while disconnected instead of building a pipeline that can only fail.
    if (this.redis.status !== 'ready') throw new Error(`Redis connection is ${this.redis.status}`);
    for (let attempt = 0; ; attempt++) {
      const pipeline = this.redis.pipeline();
      fill(pipeline, script);
      const replies = (await pipeline.exec()) as PipelineReplies | null;
      if (replies === null) throw new Error('pipeline aborted');
      let noScript = false;
      for (const [err] of replies) {
        if (err === null) continue;
        if (attempt === 0 && err.message.startsWith('NOSCRIPT')) noScript = true;
        else throw err;
      }
      if (!noScript) return replies;
      await this.loadScripts();
    }
  }

  isHealthy(): boolean {
    return this.healthy && this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.healthy = false;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

function withSha(script: LuaScript): LoadedScript {
  return { ...script, sha: createHash('sha1').update(script.source).digest('hex') };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable Redis URL>';
  }
}
