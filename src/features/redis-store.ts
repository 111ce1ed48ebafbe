// The live FeatureStore. Redis holds each customer's and terminal's events as append-only logs
// (entity-log.ts); the windows are computed here, in the scorer, from a cache of those logs (windows.ts,
// the in-memory store's own classes). Per transaction Redis does constant work — one APPEND to the
// customer's log and one to the terminal's — whatever the windows hold; reads happen once per entity
// per process (and, for terminals, when the watermark or the label refresh interval asks), and each byte
// is read once. One pipelined round trip per micro-batch (per node of a Redis Cluster) in the steady
// state; a second only for a customer that another member wrote meanwhile, or a terminal whose window
// must be re-read after the watermark moved.
//
// Why a cache is safe:
// - customers: the Kafka key is the customer, so one member writes a customer at a time. APPEND returns
//   the log's new length; a length other than the cached one plus ours means someone else wrote (a
//   rebalance, a crash replay) and the log is re-read before any feature is computed.
// - terminals: every member writes them. A terminal window ends 7 days back, so it only needs events
//   every partition has passed (watermark.ts); the cache is re-read when the window end passes the
//   watermark seen at the last read, and at least every labelRefreshMs for fresh fraud reports.
// - idempotency: a transaction id already in a window is not appended again; a log that holds an id
//   twice (a crash between Redis and Kafka) counts it once, since reads go through the same windows.
// - an emptied Redis (restart without persistence, FLUSHALL): the namespace marker disappears; every
//   member drops its cache, a new marker records from which event time the state is whole, and records
//   whose windows reach back before it are decided with what is there and marked FEATURES_INCOMPLETE.
//
// A slow or absent Redis never stalls the pipeline: commands time out fast, nothing queues while
// disconnected, and enrich() then writes the documented defaults (compute.ts DEFAULT_FEATURES_DOC) and
// resolves to FEATURES_UNAVAILABLE until Redis answers again.

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis } from 'ioredis';
import { ErrorCodes, FraudError } from '../errors.js';
import { logger } from '../log/logger.js';
import { redactUrls } from '../log/redact.js';
import type { Label, Transaction } from '../types.js';
import { MAX_LOOKBACK_MS, N_AGGREGATES, RETAIN_MS, writeDefaultFeatures, writeFeatures } from './compute.js';
import { ENTRY_FRAUD, ENTRY_TX, encodeEntry, entryBytes, parseLog } from './entity-log.js';
import { DAY_MS, LABEL_DELAY_DAYS, N_FEATURES } from './feature-names.js';
import type { EnrichContext, FeatureStore } from './feature-store.js';
import { BUCKET_MS, bucketOf, DEFAULT_KEY_PREFIX, type FeatureKeys, featureKeys } from './keys.js';
import { readLuaScript } from './lua-scripts.js';
import { RedisBatch, type RedisClient, type Reply, withTimeout } from './redis-batch.js';
import { fatalConnectError, parseRedisSeeds } from './redis-connection.js';
import { type RedisErrorCause, RedisErrorReporter } from './redis-errors.js';
import { DEFAULT_WATERMARK_IDLE_MS, Watermark } from './watermark.js';
import { CustomerWindow, TerminalWindow } from './windows.js';

export interface RedisFeatureStoreOptions {
  /** redis://[user:password@]host:port[/db]; for a Cluster, any one node (the rest are discovered). */
  url: string;
  /** Talk to a Redis Cluster (ioredis Cluster) instead of a single node; `url` may then list several seeds. */
  cluster?: boolean;
  /** TLS settings for a rediss:// URL (CA, client certificate and key, server name); see redis-connection.ts. */
  tls?: ConnectionOptions;
  /** Password (e.g. read from a file); wins over one in the URL. */
  password?: string;
  /** Prefix of every key (default 'fs:'). */
  prefix?: string;
  /** Per-command timeout: how long a slow Redis may hold a batch before it is decided degraded (default 50). */
  commandTimeoutMs?: number;
  /** How long connect() waits for Redis at start before failing with STACK_UNAVAILABLE (default 3000). */
  connectTimeoutMs?: number;
  /** Window entries older than (event time − retainMs) are trimmed (default RETAIN_MS, 38 days). */
  retainMs?: number;
  /** PEXPIRE on every log key, so idle customers and terminals vanish (wall time; default 60 days). */
  ttlMs?: number;
  /** A partition silent this long does not hold the watermark (default 30 s). */
  watermarkIdleMs?: number;
  /** Longest a batch waits for the watermark before it is decided FEATURES_INCOMPLETE (default 10 s). */
  watermarkMaxWaitMs?: number;
  /** Terminal caches are re-read at least this often, for other members' fraud reports (default 1000 ms). */
  labelRefreshMs?: number;
  /** Most customers (and, separately, terminals) cached; the longest cached go first (default 500,000). */
  maxCachedEntities?: number;
  /**
   * Most transactions held in the windows of cached customers and terminals together (default
   * 1,000,000): past it, the least recently used entities are dropped and their logs read again on their
   * next transaction. What bounds the store's memory: an entity's window holds up to 38 days.
   */
  maxCachedEntries?: number;
  /** Every failed Redis request, by cause (a counter). */
  onRedisError?: (cause: RedisErrorCause) => void;
  /** Partitions left out of the watermark as idle (a counter). */
  onWatermarkIdle?: (partitions: number) => void;
  /** Milliseconds a batch waited for the watermark (a histogram). */
  onWatermarkWait?: (ms: number) => void;
  /** After each batch: window entries cached (a gauge) and entities this batch evicted (a counter). */
  onCacheEntries?: (entries: number, evicted: number) => void;
}

const log = logger('features');

const DEFAULT_COMMAND_TIMEOUT_MS = 50;
const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_TTL_MS = 60 * DAY_MS;
const DELAY_MS = LABEL_DELAY_DAYS * DAY_MS;
/** How far ahead of the watermark a partition may run: a terminal window ends this far back. */
const MAX_LEAD_MS = DELAY_MS;
/** Terminal buckets wholly older than (watermark − this) are deleted: the longest look-back, a partition's lead, slack. */
const TERMINAL_KEEP_MS = RETAIN_MS + MAX_LEAD_MS;
/** PEXPIRE is sent again after this long (wall time), not per transaction. */
const EXPIRE_REFRESH_MS = 3_600_000;
const WAIT_POLL_MS = 25;
const MIN_COMPACT_ENTRIES = 64;
/** Window entries cached in all (maxCachedEntries): about 1 GB of RSS once full (npm run soak). */
const DEFAULT_MAX_CACHED_ENTRIES = 1_000_000;
/** Entities used this recently (in batches) are evicted last. */
const RECENT_BATCHES = 64;
/** Transactions of failed batches kept for appending once Redis answers: about 50 s at 1,000 tx/s, ~50 MB. */
const MAX_PENDING_TXS = 50_000;

interface PendingBatch {
  txs: Transaction[];
  context: EnrichContext | undefined;
}

/** Transaction ids a batch queued for one entity's log, so that a batch holding an id twice appends it once. */
class Queued {
  /** Batch stamp of the last batch that queued an append. */
  private queuedStamp = 0;
  private readonly queued: string[] = [];

  /** True when `id` is already queued in batch `stamp`; else remembers it. */
  queue(stamp: number, id: string): boolean {
    if (this.queuedStamp !== stamp) {
      this.queuedStamp = stamp;
      this.queued.length = 0;
    } else if (this.queued.includes(id)) return true;
    this.queued.push(id);
    return false;
  }
}

class CustomerState extends Queued {
  /** Its log's key, built once. */
  readonly key: string;
  constructor(
    readonly id: string,
    keys: FeatureKeys,
  ) {
    super();
    this.key = keys.customerLog(id);
  }
  win = new CustomerWindow();
  /** Entries of win as last counted (RedisFeatureStore.customerEntries), and the batch that counted them. */
  size = 0;
  counted = 0;
  /** Bytes of the Redis log reflected in win; -1 until read. */
  len = -1;
  /** Entries in those bytes (duplicates and trimmed ones included): decides compaction. */
  entries = 0;
  expireAt = 0;
  /** Batch stamp of the last batch that queued this customer. */
  stamp = 0;
}

class TerminalState extends Queued {
  constructor(readonly id: string) {
    super();
  }
  win = new TerminalWindow();
  /** The key of the bucket last written, built once per bucket. */
  private lastBucket = Number.NaN;
  private lastKey = '';

  keyOf(bucket: number, keys: FeatureKeys): string {
    if (bucket !== this.lastBucket) {
      this.lastBucket = bucket;
      this.lastKey = keys.terminalLog(this.id, bucket);
    }
    return this.lastKey;
  }
  size = 0;
  counted = 0;
  /** bucket → bytes of its log reflected in win. */
  readonly buckets = new Map<number, number>();
  /** bucket → wall time its PEXPIRE is due again. */
  readonly expireAt = new Map<number, number>();
  /** Every event earlier than this (event time) is in win: the watermark when it was last read. */
  covered = Number.NEGATIVE_INFINITY;
  refreshedAt = 0;
  stamp = 0;
}

interface Append {
  state: CustomerState | TerminalState;
  bucket: number;
  key: string;
  entry: string;
  reply: number;
  bytes: number;
}

interface Read {
  state: CustomerState | TerminalState;
  bucket: number;
  from: number;
  /** A read of every bucket held: the cache then covers everything before the watermark it was sent with. */
  refresh: boolean;
  reply: number;
}

export class RedisFeatureStore implements FeatureStore {
  readonly keys: FeatureKeys;
  private readonly redis: RedisClient;
  private readonly url: string;
  private readonly commandTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly retainMs: number;
  private readonly ttlMs: number;
  private readonly ttlArg: string;
  private readonly maxWaitMs: number;
  private readonly labelRefreshMs: number;
  private readonly maxCached: number;
  private readonly maxEntries: number;
  /** Sums of the cached customers' and terminals' sizes as last counted. */
  private customerEntries = 0;
  private terminalEntries = 0;
  /** Entities dropped to keep within maxEntries, since start. */
  private evictedEntities = 0;
  private readonly onWait: (ms: number) => void;
  private readonly onCache: (entries: number, evicted: number) => void;
  private readonly errors: RedisErrorReporter;
  private readonly watermark: Watermark;
  private readonly customers = new Map<string, CustomerState>();
  private readonly terminals = new Map<string, TerminalState>();
  /** Entities this member wrote back whole after Redis lost its data (see restoreCaches). */
  private readonly restoredCustomers = new Set<string>();
  private readonly restoredTerminals = new Set<string>();
  private readonly agg = new Float64Array(N_AGGREGATES);
  private stamp = 0;
  private compactScript = '';
  /** The namespace marker as we last read it, and the event time from which its state is whole. */
  private marker: string | null = null;
  private since = Number.NEGATIVE_INFINITY;
  private healthy = false;
  private closing = false;
  private lastError: unknown;
  private lastCause: RedisErrorCause | null = null;
  /** Failed batches whose transactions are appended once Redis answers again (keepForReplay). */
  private readonly pending: PendingBatch[] = [];
  private pendingTxs = 0;
  private droppedTxs = 0;
  private readonly isCluster: boolean;
  private slotsRefreshedAt = 0;
  /** Terminal buckets the batch in flight reads for the first time (rolled back if it fails). */
  private readonly unread: [TerminalState, number][] = [];

  constructor(options: RedisFeatureStoreOptions) {
    this.url = options.url;
    this.keys = featureKeys(options.prefix ?? DEFAULT_KEY_PREFIX);
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.retainMs = options.retainMs ?? RETAIN_MS;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.ttlArg = String(this.ttlMs);
    this.maxWaitMs = options.watermarkMaxWaitMs ?? 10_000;
    this.labelRefreshMs = options.labelRefreshMs ?? 1000;
    this.maxCached = options.maxCachedEntities ?? 500_000;
    this.maxEntries = options.maxCachedEntries ?? DEFAULT_MAX_CACHED_ENTRIES;
    this.onWait = options.onWatermarkWait ?? (() => {});
    this.onCache = options.onCacheEntries ?? (() => {});
    this.errors = new RedisErrorReporter(options.onRedisError);
    this.watermark = new Watermark({
      idleMs: options.watermarkIdleMs ?? DEFAULT_WATERMARK_IDLE_MS,
      onIdle: options.onWatermarkIdle,
    });
    const redisOptions = {
      // No commandTimeout: every command goes in a RedisBatch, timed once per round trip (ioredis arms and
      // clears a timer per command).
      // Fail fast: nothing waits for a reconnect; the batch is decided on default features instead.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: Math.min(this.connectTimeoutMs, 2000),
      // Keep reconnecting forever, at most 500 ms apart, so recovery needs no restart.
      retryStrategy: (attempt: number) => Math.min(attempt * 50, 500),
    };
    const seeds = parseRedisSeeds(options.url);
    const auth = {
      username: seeds.username,
      password: options.password ?? seeds.password,
      // rediss:// without options: TLS with Node's CAs and the host name checked.
      tls: seeds.tls ? { ...options.tls } : undefined,
      // CLIENT SETINFO is not in the store's ACL rule (and Redis < 7.2 lacks it).
      disableClientInfo: true,
    };
    this.isCluster = options.cluster === true;
    if (options.cluster) {
      this.redis = new Cluster(seeds.nodes, {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: (attempt) => Math.min(attempt * 50, 500),
        // Fail fast while a master is down (ioredis would retry for ~1.6 s, stalling the pipeline): the
        // batch is decided degraded, and refreshSlots() finds the promoted replica.
        retryDelayOnFailover: 0,
        retryDelayOnClusterDown: 0,
        // A failover is noticed from the MOVED and connection errors of the batches; refresh soon after.
        slotsRefreshTimeout: Math.min(this.connectTimeoutMs, 2000),
        redisOptions: { ...redisOptions, ...auth },
      });
    } else {
      const { host, port } = seeds.nodes[0];
      this.redis = new Redis({ host, port, db: seeds.db, lazyConnect: true, ...redisOptions, ...auth });
    }
    // Every node connected as soon as the client knows it, replicas too: a promoted replica then
    // takes commands at once (ioredis refuses them while a node's connection is being opened).
    if (this.redis instanceof Cluster) this.redis.on('+node', (node: Redis) => node.connect().catch(() => {}));
    this.redis.on('error', (err) => {
      this.lastError = err;
      this.healthy = false;
    });
    this.redis.on('close', () => {
      this.healthy = false;
    });
    // Reconnected: healthy again unless the last failure was one a reconnect does not cure.
    this.redis.on('ready', () => {
      if (!this.closing && this.marker !== null && this.lastCause !== 'noperm' && this.lastCause !== 'auth')
        this.healthy = true;
    });
  }

  /**
   * Connects, checks the database and the namespace marker. Rejects with FraudError STACK_UNAVAILABLE when
   * Redis does not answer within connectTimeoutMs, INVALID_CONFIG when the URL names a database the
   * server lacks.
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

  /** Why the last failed request failed ('noperm', 'timeout', …), null after a success (for /readyz). */
  get failureCause(): RedisErrorCause | null {
    return this.lastCause;
  }

  /** The underlying client (tests and diagnostics). */
  get client(): RedisClient {
    return this.redis;
  }

  /** The current event-time watermark (−Infinity before the first batch with a context). */
  get watermarkTime(): number {
    return this.watermark.current;
  }

  private async start(): Promise<void> {
    // EVAL, not EVALSHA: compactions are rare, and a server that restarted empty needs no reload.
    this.compactScript = (await readLuaScript('compact-customer-1.lua')).source;
    let timer: NodeJS.Timeout | undefined;
    let onError: ((err: unknown) => void) | undefined;
    try {
      const ready = new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${this.connectTimeoutMs} ms`)),
          this.connectTimeoutMs,
        );
        this.redis.once('ready', () => resolve());
        // Refused credentials or a certificate that does not verify: say so now, retrying cannot help.
        onError = (err: unknown) => {
          this.lastError = err;
          if (fatalConnectError(err) !== null) reject(err);
        };
        this.redis.on('error', onError);
        this.redis.on('node error', onError);
      });
      // The first attempt may fail; retryStrategy keeps trying until 'ready' or the timer.
      this.redis.connect().catch(() => {});
      await ready;
    } catch (err) {
      this.fail();
      throw this.connectError(err);
    } finally {
      clearTimeout(timer);
      if (onError !== undefined) {
        this.redis.off('error', onError);
        this.redis.off('node error', onError);
      }
    }
    await this.checkDatabase();
    try {
      await this.probe();
      await this.readMarker(Number.NEGATIVE_INFINITY);
      this.healthy = true;
    } catch (err) {
      this.fail();
      throw this.connectError(err);
    }
  }

  /** One line that says what is wrong and what to change, without a secret. */
  private connectError(err: unknown): FraudError {
    const at = `Redis at ${redactUrl(this.url)}`;
    const last = this.lastError instanceof Error ? this.lastError : err instanceof Error ? err : undefined;
    const detail = (e: Error | undefined) => redactUrl(e?.message ?? String(err)).split('\n')[0];
    const fatal = fatalConnectError(last) ?? fatalConnectError(err);
    if (fatal === 'auth')
      return new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `${at} refused the credentials (${detail(last)}). Check the user in REDIS_URL and the password (REDIS_PASSWORD_FILE).`,
        { cause: err },
      );
    if (fatal === 'tls') {
      const code = (last as { code?: string } | undefined)?.code;
      return new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `TLS to ${at} failed: ${detail(last)}${code ? ` (${code})` : ''}. Check --redis-tls-ca (the CA that signed the server's certificate), --redis-tls-servername and the client certificate.`,
        { cause: err },
      );
    }
    if (err instanceof Error && /^NOPERM/.test(err.message))
      return new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `${at}: the Redis user may not run the feature store's commands on its keys (${detail(err)}). Grant the rule in README "Redis: TLS, the ACL user, a Redis Cluster" for prefix ${JSON.stringify(this.keys.prefix)}.`,
        { cause: err },
      );
    if (err instanceof FraudError) return err;
    const why =
      last !== undefined && last !== err
        ? `${detail(err instanceof Error ? err : undefined)}; last error: ${detail(last)}`
        : detail(last);
    return new FraudError(
      ErrorCodes.STACK_UNAVAILABLE,
      `Redis feature store at ${redactUrl(this.url)} is unavailable (${why}). Start Redis (npm run stack:up) or fix the Redis URL.`,
      { cause: err },
    );
  }

  /**
   * Runs every command the store sends once, on a scratch key under the prefix (and the watermark read),
   * so that a user missing one of them (NOPERM) is refused at start rather than degrading every batch.
   */
  private async probe(): Promise<void> {
    const key = `${this.keys.prefix}probe:${randomBytes(6).toString('hex')}`;
    const hash = `${key}:h`;
    const wm = this.keys.watermark;
    const batch = new RedisBatch();
    batch.append(key, '');
    batch.push(key, (p) => p.getrangeBuffer(key, 0, -1));
    batch.push(key, (p) => p.eval(this.compactScript, 1, key, '-1', '', '1000'));
    batch.push(key, (p) => p.pexpire(key, 1000));
    batch.push(key, (p) => p.del(key));
    batch.push(hash, (p) => p.hset(hash, 'p', '0'));
    batch.push(hash, (p) => p.del(hash));
    batch.push(wm, (p) => p.hgetall(wm));
    throwFirst(await batch.exec(this.redis, this.commandTimeoutMs));
  }

  /** ioredis ignores a failed SELECT and stays on database 0: ask again and refuse to start. */
  private async checkDatabase(): Promise<void> {
    if (this.redis instanceof Cluster) return;
    let db = 0;
    try {
      db = Number(new URL(this.url).pathname.slice(1) || 0);
    } catch {}
    if (!Number.isInteger(db) || db === 0) return;
    try {
      await withTimeout(this.redis.select(db), this.commandTimeoutMs, 'SELECT');
    } catch (err) {
      this.fail();
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `Redis at ${redactUrl(this.url)} has no database ${db} (${(err as Error).message}). Use a database the server has (see its 'databases' setting).`,
        { cause: err },
      );
    }
  }

  private fail(): void {
    this.closing = true;
    this.redis.disconnect();
  }

  /** Creates the namespace marker if absent (whole from `since` on) and adopts whatever is there. */
  private async readMarker(since: number): Promise<void> {
    const value = Number.isFinite(since)
      ? `${randomBytes(6).toString('hex')}:${since}`
      : randomBytes(6).toString('hex');
    const batch = new RedisBatch();
    const key = this.keys.meta;
    batch.push(key, (p) => p.set(key, value, 'NX'));
    const get = batch.push(key, (p) => p.get(key));
    const replies = await batch.exec(this.redis, this.commandTimeoutMs);
    throwFirst(replies);
    this.adoptMarker(replies[get][1] as string | null);
  }

  private adoptMarker(value: string | null): void {
    this.marker = value;
    const colon = value?.indexOf(':') ?? -1;
    this.since = colon === -1 ? Number.NEGATIVE_INFINITY : Number(value!.slice(colon + 1));
  }

  async enrich(
    txs: readonly Transaction[],
    n: number,
    out: Float32Array,
    context?: EnrichContext,
  ): Promise<string | null> {
    if (n <= 0) return null;
    try {
      // Fail fast while disconnected instead of building a pipeline that can only fail.
      if (this.redis.status !== 'ready') throw new Error(`Redis connection is ${this.redis.status}`);
      await this.replayPending();
      const cause = await this.enrichOnce(txs, n, out, context, true);
      this.healthy = true;
      this.lastCause = null;
      return cause;
    } catch (err) {
      this.failed(err, 'feature batch');
      this.keepForReplay(txs, n, context);
      for (let i = 0; i < n; i++) writeDefaultFeatures(txs[i], out, i * N_FEATURES);
      return ErrorCodes.FEATURES_UNAVAILABLE;
    }
  }

  /**
   * A failed batch was decided on default features, but its transactions still belong in the windows of
   * later ones (as in the in-memory store and backfill): they are kept, in order, and appended before
   * the next batch once Redis answers. The caches keep only what was read whole (buckets whose first
   * read failed are forgotten); an append that ran anyway shows up as a longer log at the next append,
   * and is harmless when replayed: a log that holds an id twice counts it once.
   */
  private keepForReplay(txs: readonly Transaction[], n: number, context: EnrichContext | undefined): void {
    // Buckets queued for a first read that never came back would pass for read and empty: forget them.
    for (const [st, b] of this.unread) if (st.buckets.get(b) === 0) st.buckets.delete(b);
    this.unread.length = 0;
    if (this.closing) return;
    const kept: PendingBatch = {
      txs: txs.slice(0, n),
      context:
        context === undefined
          ? undefined
          : {
              partitions: Array.from({ length: n }, (_, i) => context.partitions[i]),
              partitionCount: context.partitionCount,
              floors: context.floors,
            },
    };
    this.pending.push(kept);
    this.pendingTxs += n;
    // Bounded: past this, the oldest are given up (their windows then miss them; counted in the log).
    while (this.pendingTxs > MAX_PENDING_TXS && this.pending.length > 1) {
      const dropped = this.pending.shift()!;
      this.pendingTxs -= dropped.txs.length;
      this.droppedTxs += dropped.txs.length;
    }
    if (this.isCluster) this.refreshSlots();
  }

  /** Appends the transactions of failed batches, oldest first; throws (and keeps them) if Redis fails again. */
  private async replayPending(): Promise<void> {
    if (this.pending.length === 0) return;
    if (this.droppedTxs > 0) {
      log.warn('feature store: transactions of failed batches given up (their windows miss them)', {
        dropped: this.droppedTxs,
      });
      this.droppedTxs = 0;
    }
    while (this.pending.length > 0) {
      const p = this.pending[0];
      const out = new Float32Array(p.txs.length * N_FEATURES);
      await this.enrichOnce(p.txs, p.txs.length, out, p.context, true);
      this.pending.shift();
      this.pendingTxs -= p.txs.length;
    }
  }

  /** After a failed batch on a Cluster: ask for the slot map again (a failover moves slots), at most every 200 ms. */
  private refreshSlots(): void {
    const now = Date.now();
    if (now - this.slotsRefreshedAt < 200) return;
    this.slotsRefreshedAt = now;
    (this.redis as Cluster).refreshSlotsCache(() => {});
  }

  private failed(err: unknown, what: string): void {
    this.lastError = err;
    this.healthy = false;
    this.lastCause = this.errors.report(err, what);
  }

  private async enrichOnce(
    txs: readonly Transaction[],
    n: number,
    out: Float32Array,
    context: EnrichContext | undefined,
    firstTry: boolean,
  ): Promise<string | null> {
    const stamp = ++this.stamp;
    if (firstTry) this.unread.length = 0;
    const now = Date.now();
    const k = this.keys;
    const batch = new RedisBatch();
    const metaIdx = batch.push(k.meta, (p) => p.get(k.meta));
    // Without a context the input is one in-order stream: everything written is behind it.
    const wKnown = context === undefined ? Number.POSITIVE_INFINITY : this.watermark.current;

    const cust = new Array<CustomerState>(n);
    const term = new Array<TerminalState>(n);
    const reads: Read[] = [];
    const appends: Append[] = [];
    const compactions: { state: CustomerState; reply: number; bytes: number; entries: number }[] = [];
    const refreshed = new Set<TerminalState>();
    const expiring: CustomerState[] = [];
    const expiringBuckets: [TerminalState, number][] = [];

    // Customers: read the ones not cached, compact long logs, append what is new.
    for (let i = 0; i < n; i++) {
      const tx = txs[i];
      const st = this.customer(tx.customer_id);
      cust[i] = st;
      const key = st.key;
      if (st.stamp !== stamp) {
        st.stamp = stamp;
        if (st.len < 0) {
          const reply = batch.push(key, (p) => p.getrangeBuffer(key, 0, -1));
          reads.push({ state: st, bucket: 0, from: 0, refresh: false, reply });
        } else if (st.entries >= MIN_COMPACT_ENTRIES && st.win.tx.size * 2 < st.entries) {
          const { text, bytes } = liveCustomerLog(st.win);
          compactions.push({
            state: st,
            bytes,
            entries: st.win.tx.size,
            reply: batch.push(key, (p) => p.eval(this.compactScript, 1, key, String(st.len), text, this.ttlArg)),
          });
        }
        if (now >= st.expireAt) {
          batch.push(key, (p) => p.pexpire(key, this.ttlArg));
          expiring.push(st);
        }
      }
      if (st.len >= 0 && st.win.tx.has(tx.transaction_id, tx.event_time)) continue;
      if (st.queue(stamp, tx.transaction_id)) continue;
      const entry = encodeEntry(ENTRY_TX, tx.event_time, tx.amount_minor, tx.transaction_id);
      appends.push({ state: st, bucket: 0, bytes: entryBytes(entry, tx.transaction_id), key, entry, reply: -1 });
    }

    // Terminals: read buckets not cached or due for a refresh, append what is new.
    const deleteBefore = bucketOf(Math.min(wKnown, maxTime(txs, n)) - TERMINAL_KEEP_MS) - 1;
    for (let i = 0; i < n; i++) {
      const tx = txs[i];
      const st = this.terminal(tx.terminal_id);
      term[i] = st;
      const hi = tx.event_time - DELAY_MS;
      if (st.stamp !== stamp) {
        st.stamp = stamp;
        for (const b of st.buckets.keys()) {
          if (b > deleteBefore) continue;
          const key = k.terminalLog(tx.terminal_id, b);
          batch.push(key, (p) => p.del(key));
          st.buckets.delete(b);
          st.expireAt.delete(b);
        }
      }
      const due = (hi >= st.covered && hi < wKnown) || now - st.refreshedAt > this.labelRefreshMs;
      this.queueTerminalReads(batch, st, hi, due, reads, refreshed);
      const b = bucketOf(tx.event_time);
      if (now >= (st.expireAt.get(b) ?? 0)) {
        const key = k.terminalLog(tx.terminal_id, b);
        batch.push(key, (p) => p.pexpire(key, this.ttlArg));
        // Due again only if this batch fails; set for real once it succeeds.
        st.expireAt.set(b, now + 1);
        expiringBuckets.push([st, b]);
      }
      if (st.win.tx.has(tx.transaction_id, tx.event_time)) continue;
      if (st.queue(stamp, tx.transaction_id)) continue;
      const key = st.keyOf(b, k);
      const entry = encodeEntry(ENTRY_TX, tx.event_time, 0, tx.transaction_id);
      appends.push({ state: st, bucket: b, bytes: entryBytes(entry, tx.transaction_id), key, entry, reply: -1 });
    }
    // After every read, compaction and deletion above (a read of a log must not see this batch's entries),
    // and as one run, which a single Redis takes as one command (RedisBatch.append).
    for (const a of appends) a.reply = batch.append(a.key, a.entry);

    // The watermark: our partitions' progress (written after our appends), then everyone's.
    let wmIdx = -1;
    if (context !== undefined) {
      this.watermark.partitionCount = context.partitionCount;
      const times = new Float64Array(n);
      for (let i = 0; i < n; i++) times[i] = txs[i].event_time;
      const fields = this.watermark.advance(times, context.partitions, n, now, context.floors);
      batch.push(k.watermark, (p) => p.hset(k.watermark, ...fields));
      wmIdx = batch.push(k.watermark, (p) => p.hgetall(k.watermark));
    }

    const replies = await batch.exec(this.redis, this.commandTimeoutMs);
    throwFirst(replies);

    // An emptied Redis: drop everything cached, mark from when the state is whole, and start over.
    const marker = replies[metaIdx][1] as string | null;
    if (marker !== this.marker) {
      if (!firstTry) throw new Error('the feature-store namespace marker keeps changing');
      if (this.marker === null) {
        // Never read (the start-up check failed): adopt it, nothing was lost on our side.
        await this.readMarker(Number.NEGATIVE_INFINITY);
      } else {
        // Redis lost its data. What this member holds is whole for the entities it cached: write it
        // back and vouch for those; everything else is incomplete until its windows refill.
        const lead = context === undefined ? 0 : MAX_LEAD_MS;
        await this.readMarker(maxTime(txs, n) + lead);
        await this.restoreCaches();
      }
      return this.enrichOnce(txs, n, out, context, false);
    }

    for (const r of reads) this.applyRead(r, replies[r.reply][1] as Buffer, wKnown, now);
    for (const c of compactions) {
      if (replies[c.reply][1] === 1) {
        c.state.len = c.bytes;
        c.state.entries = c.entries;
      }
    }
    // Appends: a length other than ours on top of what we hold means another writer. What they move is
    // applied only once nothing more can fail, together with the entries themselves (compute below): a
    // cache never holds a length whose entries it lacks.
    const stale = new Map<CustomerState, [number, number][]>();
    const custLen = new Map<CustomerState, number>();
    const custAdded = new Map<CustomerState, number>();
    const bucketLen: [TerminalState, number, number][] = [];
    for (const a of appends) {
      const len = replies[a.reply][1] as number;
      if (a.state instanceof CustomerState) {
        const st = a.state;
        const held = custLen.get(st) ?? st.len;
        if (held >= 0 && len === held + a.bytes && !stale.has(st)) {
          custLen.set(st, len);
          custAdded.set(st, (custAdded.get(st) ?? 0) + 1);
        } else {
          let own = stale.get(st);
          if (own === undefined) {
            own = [];
            stale.set(st, own);
          }
          own.push([len - a.bytes, len]);
        }
      } else {
        const known = a.state.buckets.get(a.bucket) ?? 0;
        if (len === known + a.bytes) bucketLen.push([a.state, a.bucket, len]);
      }
    }
    if (wmIdx >= 0) this.watermark.update(hgetall(replies[wmIdx][1]), now);

    // Second trip, only when needed: customers another member wrote, terminals whose window passed
    // what was read, after waiting (bounded) for the watermark to pass their window end.
    let incomplete = false;
    if (stale.size > 0 || (context !== undefined && this.needsCover(txs, n, term)))
      incomplete = !(await this.catchUp(txs, n, term, stale, context !== undefined));

    for (const [st, len] of custLen) {
      if (stale.has(st)) continue;
      st.entries += custAdded.get(st) ?? 0;
      st.len = len;
    }
    for (const [st, b, len] of bucketLen) st.buckets.set(b, len);
    for (const st of expiring) st.expireAt = now + EXPIRE_REFRESH_MS;
    for (const [st, b] of expiringBuckets) st.expireAt.set(b, now + EXPIRE_REFRESH_MS);

    // A window end the watermark has not passed may miss events: say so rather than pass it off as whole.
    const certain = context === undefined ? Number.POSITIVE_INFINITY : this.watermark.certain;
    const agg = this.agg;
    for (let i = 0; i < n; i++) {
      const tx = txs[i];
      const t = tx.event_time;
      cust[i].win.add(t, tx.transaction_id, tx.amount_minor, this.retainMs);
      cust[i].win.aggregates(t, agg);
      term[i].win.add(t, tx.transaction_id, this.retainMs);
      term[i].win.aggregates(t, agg);
      writeFeatures(tx, agg, out, i * N_FEATURES);
      if (t - DELAY_MS >= certain) incomplete = true;
      else if (
        t - MAX_LOOKBACK_MS < this.since &&
        !(this.restoredCustomers.has(tx.customer_id) && this.restoredTerminals.has(tx.terminal_id))
      )
        incomplete = true;
    }
    this.countEntries(cust, term, n, stamp);
    return incomplete ? ErrorCodes.FEATURES_INCOMPLETE : null;
  }

  /** Recounts the entities this batch touched; past maxEntries, drops the least recently used ones. */
  private countEntries(cust: CustomerState[], term: TerminalState[], n: number, stamp: number): void {
    for (let i = 0; i < n; i++) {
      const c = cust[i];
      if (c.counted !== stamp) {
        c.counted = stamp;
        const size = c.win.tx.size;
        this.customerEntries += size - c.size;
        c.size = size;
      }
      const t = term[i];
      if (t.counted !== stamp) {
        t.counted = stamp;
        const size = t.win.tx.size + t.win.fraud.size + t.win.pending.size;
        this.terminalEntries += size - t.size;
        t.size = size;
      }
    }
    if (this.customerEntries + this.terminalEntries <= this.maxEntries) {
      this.onCache(this.customerEntries + this.terminalEntries, 0);
      return;
    }
    // Down to 90 %, so that eviction comes in bursts rather than at every batch once full; from the
    // kind that holds more.
    const target = this.maxEntries * 0.9;
    const before = this.evictedEntities;
    while (this.customerEntries + this.terminalEntries > target) {
      if (this.customerEntries >= this.terminalEntries) {
        const st = evictLeastRecent(this.customers, stamp);
        if (st === undefined) break; // everything cached is this batch's
        this.customerEntries -= st.size;
      } else {
        const st = evictLeastRecent(this.terminals, stamp);
        if (st === undefined) break;
        this.terminalEntries -= st.size;
      }
      this.evictedEntities++;
    }
    this.onCache(this.customerEntries + this.terminalEntries, this.evictedEntities - before);
  }

  /** What the in-memory windows hold: entities, entries (as last counted) and entities evicted since start. */
  get cacheStats(): { customers: number; terminals: number; entries: number; evicted: number } {
    return {
      customers: this.customers.size,
      terminals: this.terminals.size,
      entries: this.customerEntries + this.terminalEntries,
      evicted: this.evictedEntities,
    };
  }

  /**
   * Queues reads of a terminal's buckets: those of (hi − 30 d, hi] never read, and when `refresh`, every
   * bucket held (from where it was read up to), once per batch.
   */
  private queueTerminalReads(
    batch: RedisBatch,
    st: TerminalState,
    hi: number,
    refresh: boolean,
    reads: Read[],
    refreshed: Set<TerminalState>,
  ): void {
    const full = refresh && !refreshed.has(st);
    if (full) {
      refreshed.add(st);
      for (const [b, from] of st.buckets) {
        const key = this.keys.terminalLog(st.id, b);
        reads.push({
          state: st,
          bucket: b,
          from,
          refresh: true,
          reply: batch.push(key, (p) => p.getrangeBuffer(key, from, -1)),
        });
      }
    }
    const last = bucketOf(hi);
    for (let b = bucketOf(hi - 30 * DAY_MS + 1); b <= last; b++) {
      if (st.buckets.has(b)) continue;
      const key = this.keys.terminalLog(st.id, b);
      reads.push({
        state: st,
        bucket: b,
        from: 0,
        refresh: full,
        reply: batch.push(key, (p) => p.getrangeBuffer(key, 0, -1)),
      });
      st.buckets.set(b, 0);
      this.unread.push([st, b]);
    }
  }

  /** Folds a read into its cache; `covered` is the watermark known when the read was sent. */
  private applyRead(r: Read, buf: Buffer, covered: number, now: number): void {
    if (r.state instanceof CustomerState) {
      const st = r.state;
      parseLog(buf, (kind, time, amount, id) => {
        if (kind === ENTRY_TX) st.win.tx.insert(time, id, amount);
        st.entries++;
      });
      st.len = buf.length;
      return;
    }
    const st = r.state;
    parseLog(buf, (kind, time, _amount, id) => {
      if (kind === ENTRY_TX) st.win.insertSeen(time, id);
      else st.win.mark(id, time);
    });
    st.buckets.set(r.bucket, r.from + buf.length);
    if (r.refresh) {
      st.covered = covered;
      st.refreshedAt = now;
    }
  }

  private needsCover(txs: readonly Transaction[], n: number, term: TerminalState[]): boolean {
    for (let i = 0; i < n; i++) if (txs[i].event_time - DELAY_MS >= term[i].covered) return true;
    return false;
  }

  /**
   * Re-reads stale customers and uncovered terminals, first waiting (up to watermarkMaxWaitMs) for the
   * watermark to pass every terminal window end. Resolves false when the wait ran out.
   */
  private async catchUp(
    txs: readonly Transaction[],
    n: number,
    term: TerminalState[],
    stale: Map<CustomerState, [number, number][]>,
    bounded: boolean,
  ): Promise<boolean> {
    let highest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n && bounded; i++) {
      const hi = txs[i].event_time - DELAY_MS;
      if (hi >= term[i].covered && hi > highest) highest = hi;
    }
    let complete = true;
    if (highest >= this.watermark.current) {
      const started = Date.now();
      const key = this.keys.watermark;
      // Partitions of our own that are behind wait in our own queue, behind this batch: no use waiting.
      while (highest >= this.watermark.current && !this.watermark.heldOnlyByOwn(highest)) {
        if (Date.now() - started >= this.maxWaitMs) {
          complete = false;
          break;
        }
        await sleep(WAIT_POLL_MS);
        const batch = new RedisBatch();
        batch.push(key, (p) => p.hgetall(key));
        const replies = await batch.exec(this.redis, this.commandTimeoutMs);
        throwFirst(replies);
        this.watermark.update(hgetall(replies[0][1]), Date.now());
      }
      this.onWait(Date.now() - started);
    }
    const w = bounded ? this.watermark.current : Number.POSITIVE_INFINITY;
    const now = Date.now();
    const batch = new RedisBatch();
    const reads: Read[] = [];
    const custReads: { state: CustomerState; own: [number, number][]; reply: number }[] = [];
    for (const [st, own] of stale) {
      const key = st.key;
      custReads.push({ state: st, own, reply: batch.push(key, (p) => p.getrangeBuffer(key, 0, -1)) });
    }
    const refreshed = new Set<TerminalState>();
    for (let i = 0; i < n && bounded; i++) {
      const hi = txs[i].event_time - DELAY_MS;
      if (hi < term[i].covered) continue;
      this.queueTerminalReads(batch, term[i], hi, true, reads, refreshed);
    }
    const replies = await batch.exec(this.redis, this.commandTimeoutMs);
    throwFirst(replies);
    for (const c of custReads) {
      // Rebuild from the whole log, leaving out this batch's own appends: they are added in batch order.
      const st = c.state;
      const buf = replies[c.reply][1] as Buffer;
      st.win = new CustomerWindow();
      st.entries = 0;
      parseLog(buf, (kind, time, amount, id, start, end) => {
        st.entries++;
        if (kind !== ENTRY_TX) return;
        for (const [s, e] of c.own) if (s === start && e === end) return;
        st.win.tx.insert(time, id, amount);
      });
      st.len = buf.length;
    }
    for (const r of reads) this.applyRead(r, replies[r.reply][1] as Buffer, w, now);
    return complete;
  }

  private customer(id: string): CustomerState {
    let st = this.customers.get(id);
    if (st === undefined) {
      st = new CustomerState(id, this.keys);
      this.customers.set(id, st);
      if (this.customers.size > this.maxCached) this.customerEntries -= evictOldest(this.customers, this.stamp);
    }
    return st;
  }

  private terminal(id: string): TerminalState {
    let st = this.terminals.get(id);
    if (st === undefined) {
      st = new TerminalState(id);
      this.terminals.set(id, st);
      if (this.terminals.size > this.maxCached) this.terminalEntries -= evictOldest(this.terminals, this.stamp);
    }
    return st;
  }

  private dropCaches(): void {
    this.customers.clear();
    this.terminals.clear();
    this.customerEntries = 0;
    this.terminalEntries = 0;
  }

  /**
   * Appends every cached customer's and terminal's entries to their (emptied) logs, remembers them as
   * whole, and drops the caches so that the next reads see exactly what Redis holds. Chunks of 2,000
   * commands, so one restore never holds Redis for long.
   */
  private async restoreCaches(): Promise<void> {
    let batch = new RedisBatch();
    const flush = async () => {
      throwFirst(await batch.exec(this.redis, this.commandTimeoutMs));
      batch = new RedisBatch();
    };
    for (const st of this.customers.values()) {
      if (st.len < 0) continue;
      const key = st.key;
      const { text } = liveCustomerLog(st.win);
      if (text !== '') {
        batch.push(key, (p) => p.append(key, text));
        batch.push(key, (p) => p.pexpire(key, this.ttlArg));
      }
      this.restoredCustomers.add(st.id);
      if (batch.length >= 2000) await flush();
    }
    for (const st of this.terminals.values()) {
      if (st.buckets.size === 0) continue;
      const byBucket = new Map<number, string>();
      const add = (t: number, entry: string) => {
        const b = bucketOf(t);
        byBucket.set(b, (byBucket.get(b) ?? '') + entry);
      };
      const { tx, fraud } = st.win;
      for (let i = tx.start; i < tx.end; i++) add(tx.timeAt(i), encodeEntry(ENTRY_TX, tx.timeAt(i), 0, tx.idAt(i)));
      for (let i = fraud.start; i < fraud.end; i++)
        add(fraud.timeAt(i), encodeEntry(ENTRY_FRAUD, fraud.valueAt(i), 0, fraud.idAt(i)));
      for (const [b, text] of byBucket) {
        const key = this.keys.terminalLog(st.id, b);
        batch.push(key, (p) => p.append(key, text));
        batch.push(key, (p) => p.pexpire(key, this.ttlArg));
      }
      this.restoredTerminals.add(st.id);
      if (batch.length >= 2000) await flush();
    }
    await flush();
    this.dropCaches();
  }

  /**
   * Appends fraud reports (non-fraud labels are a no-op) to their terminals' logs in one round trip; a
   * report counts from its reported time on (see windows.ts TerminalWindow). Rejects with a retryable
   * FEATURES_UNAVAILABLE FraudError when Redis is unavailable, so the caller can retry before committing.
   */
  async applyLabels(labels: readonly Label[]): Promise<void> {
    const fraud = labels.filter((label) => label.is_fraud);
    if (fraud.length === 0) return;
    try {
      if (this.redis.status !== 'ready') throw new Error(`Redis connection is ${this.redis.status}`);
      const batch = new RedisBatch();
      for (const label of fraud) {
        const key = this.keys.terminalLog(label.terminal_id, bucketOf(label.event_time));
        const entry = encodeEntry(ENTRY_FRAUD, label.reported_time, 0, label.transaction_id);
        batch.push(key, (p) => p.append(key, entry));
        batch.push(key, (p) => p.pexpire(key, this.ttlArg));
      }
      throwFirst(await batch.exec(this.redis, this.commandTimeoutMs));
      // Our own cache sees them at once; other members at their next refresh.
      for (const label of fraud)
        this.terminals.get(label.terminal_id)?.win.mark(label.transaction_id, label.reported_time);
      this.healthy = true;
      this.lastCause = null;
    } catch (err) {
      this.failed(err, 'label batch');
      throw new FraudError(ErrorCodes.FEATURES_UNAVAILABLE, `could not apply ${fraud.length} fraud labels`, {
        cause: err,
        canRetry: true,
      });
    }
  }

  isHealthy(): boolean {
    return this.healthy && this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.healthy = false;
    this.dropCaches();
    try {
      await withTimeout(this.redis.quit(), this.commandTimeoutMs, 'QUIT');
    } catch {
      this.redis.disconnect();
    }
  }
}

function throwFirst(replies: readonly Reply[]): void {
  for (const [err] of replies) if (err !== null) throw err;
}

function hgetall(reply: unknown): Record<string, string> {
  if (Array.isArray(reply)) {
    const o: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) o[String(reply[i])] = String(reply[i + 1]);
    return o;
  }
  return (reply ?? {}) as Record<string, string>;
}

function maxTime(txs: readonly Transaction[], n: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) if (txs[i].event_time > m) m = txs[i].event_time;
  return m;
}

/** The customer's live entries as a log, for compaction. */
function liveCustomerLog(win: CustomerWindow): { text: string; bytes: number } {
  const w = win.tx;
  let text = '';
  let bytes = 0;
  for (let i = w.start; i < w.end; i++) {
    const id = w.idAt(i);
    const entry = encodeEntry(ENTRY_TX, w.timeAt(i), w.valueAt(i), id);
    text += entry;
    bytes += entryBytes(entry, id);
  }
  return { text, bytes };
}

/** Drops the least recently inserted entity not used by the batch in flight; returns its counted size. */
function evictOldest<V extends { stamp: number; size: number }>(map: Map<string, V>, stamp: number): number {
  for (const [id, v] of map) {
    if (v.stamp === stamp) continue;
    map.delete(id);
    return v.size;
  }
  return 0;
}

/**
 * Drops the least recently used entity not used by the batch in flight, and returns it. The map is in
 * insertion order; one used in the last RECENT_BATCHES batches gets a second chance (moved to the end),
 * so the order tends to last use without reordering the map on every hit (CLOCK).
 */
function evictLeastRecent<V extends { stamp: number }>(map: Map<string, V>, stamp: number): V | undefined {
  let fallback: [string, V] | undefined;
  let budget = map.size;
  for (const [id, v] of map) {
    if (budget-- <= 0) break;
    if (v.stamp > stamp - RECENT_BATCHES) {
      if (v.stamp !== stamp) fallback ??= [id, v];
      map.delete(id);
      map.set(id, v);
      continue;
    }
    map.delete(id);
    return v;
  }
  if (fallback === undefined) return undefined;
  map.delete(fallback[0]);
  return fallback[1];
}

function redactUrl(url: string): string {
  return redactUrls(url);
}

export { BUCKET_MS };
