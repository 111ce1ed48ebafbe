import { performance } from 'node:perf_hooks';
import {
  type BaseOptions,
  Consumer,
  FetchIsolationLevels,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import { settledWithin } from '../deadline.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { logger } from '../log/logger.js';
import type { Position } from '../pipeline/sink.js';
import type { RecordHandler, Source, SourceRecord } from '../pipeline/source.js';
import type { KafkaSourceOptions } from './kafka-source.js';
import type { PlatformaticGroupMetadata } from './platformatic-client.js';
import { CLOSE_BOUND_MS, consumerStalled, HeartbeatBound, loopStalledAfterMs, rejoinBoundMs } from './stall-watch.js';

const log = logger('platformatic-source');

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

export interface PlatformaticSourceOptions extends KafkaSourceOptions {
  /** Exit (reject run) when records wait but none was written for this long. */
  stallTimeoutMs: number;
  /** Set when the sink failed fatally: the source stops and run() rejects with it. */
  isFatal?: (err: unknown) => boolean;
  /** Settles the sink's transaction left open or in doubt, before the group's offsets are read again. */
  settleSink?: () => Promise<void>;
}

/** Records of one partition handed over from one fetch, not yet written. */
interface Chunk {
  /** The offset after its last record. */
  next: bigint;
  /** The group generation and member the records were fetched under (KIP-447). */
  meta: PlatformaticGroupMetadata;
}

/**
 * Transactions from a consumer group through @platformatic/kafka. Fetching never waits for a write:
 * the records of each fetch are handed to the processor at once while the library fetches the next;
 * above `maxInFlight` records not yet written the stream is paused (back-pressure). Offsets are
 * committed (or sent in the transaction) only for written records. The library has no per-partition
 * seek, so after a failed write (or a rebalance while records are in hand) the in-flight records are
 * dropped and the stream is replaced by a new one that starts from the group's committed offsets,
 * which are exactly the written records: at-least-once commits before `written`, exactly-once commits
 * them in the transaction. Partitions are handed over as fetched (no event-time alignment).
 */
export class PlatformaticSource implements Source {
  readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private stream: Stream | undefined;
  private handler: RecordHandler | undefined;
  private readonly assigned = new Set<string>();
  private readonly chunks = new Map<string, Chunk[]>();
  private pending: SourceRecord[] = [];
  private readonly pendingMeta = new Map<string, PlatformaticGroupMetadata>();
  private flushQueued = false;
  /** The partition whose metadata onMessage noted last (reset with pendingMeta at each flush). */
  private metaTopic: string | undefined;
  private metaPartition = -1;
  private inFlight = 0;
  private submissions = 0;
  private paused = false;
  private rewinding = false;
  private stopping = false;
  private lastProgress = Date.now();
  private failedSinceWrite = false;
  private retryDelayMs = 0;
  private idleWaiters: (() => void)[] = [];
  private finish: ((err?: unknown) => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** Wall time of the last event-loop tick: a stopped process (SIGSTOP, VM pause) is seen on resume. */
  private lastTick = Date.now();
  /** Past it with no heartbeat answered the member is out of its group (its broker stopped, say). */
  private readonly group: HeartbeatBound;
  private readonly flushBound = () => this.flush();

  constructor(
    base: BaseOptions,
    private readonly opts: PlatformaticSourceOptions,
  ) {
    const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
    this.group = new HeartbeatBound(rejoinBoundMs(opts.stallTimeoutMs, opts.sessionTimeoutMs));
    this.consumer = new Consumer({
      ...base,
      groupId: opts.groupId,
      autocommit: false,
      sessionTimeout,
      heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 4)),
      maxWaitTime: 100,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
      isolationLevel: opts.readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED,
    });
    this.consumer.on('consumer:group:join', () => this.onJoin());
    this.consumer.on('consumer:heartbeat:end', () => this.group.answered());
    // Emitted when a rejoin failed past the client's retries (e.g. the broker stopped past the session
    // timeout): no heartbeat follows, so the member is out of its group for good. Unheard, the event
    // was an uncaught exception (chaos broker-paused, 1 of 3 at-least-once lanes); heard, it is the
    // designed exit for a supervisor to restart the scorer.
    this.consumer.on('error', (err: Error) => {
      if (this.stopping) return;
      const fatal = new FraudError(
        ErrorCodes.KAFKA_FATAL,
        `the consumer left its group and could not rejoin it: ${err.message}; exiting for a supervisor to restart the scorer`,
        { cause: err },
      );
      log.error('the consumer could not rejoin its group; exiting so that a supervisor restarts the scorer', {
        err: fatal,
      });
      void this.stop(fatal);
    });
  }

  get assignment(): readonly string[] {
    return [...this.assigned];
  }

  /** Milliseconds since a record was last written (0 while nothing waits). */
  get millisSinceProgress(): number {
    return this.inFlight === 0 ? 0 : Date.now() - this.lastProgress;
  }

  /** True while every position's partition is still ours and this process was not stopped meanwhile. */
  owns(positions: readonly Position[]): boolean {
    if (this.rewinding || this.stalledLoop()) return false;
    for (const p of positions) if (!this.assigned.has(`${p.topic}/${p.partition}`)) return false;
    return true;
  }

  /**
   * The generation and member id under which the oldest unwritten records of a partition were
   * fetched: the transaction commits their offsets with it, so the broker refuses the commit once the
   * group has moved on (KIP-447), even if this member rejoined meanwhile.
   */
  groupMetadata(topic: string, partition: number): PlatformaticGroupMetadata | undefined {
    return this.chunks.get(`${topic}/${partition}`)?.[0]?.meta;
  }

  async run(handler: RecordHandler): Promise<void> {
    this.handler = handler;
    const done = new Promise<void>((resolve, reject) => {
      this.finish = (err) => (err === undefined ? resolve() : reject(err));
    });
    // The watchdog starts before the group join, and the clock it keeps from now: start-up work
    // between the constructor and run() (a transactional producer waiting for its coordinator, 2.8 s
    // in a bench) was taken for a stopped process, and the first records fetched were dropped.
    this.lastTick = Date.now();
    this.group.restart(this.lastTick);
    this.watchdog = setInterval(() => this.watch(), 250);
    try {
      this.stream = await this.open();
    } catch (err) {
      clearInterval(this.watchdog);
      throw err;
    }
    return done;
  }

  /** A stream from the group's committed offsets (the first one also joins the group). */
  private async open(): Promise<Stream> {
    const stream = await this.consumer.consume({
      topics: [this.opts.topic],
      mode: 'committed',
      fallbackMode: this.opts.fromBeginning === false ? 'latest' : 'earliest',
      autocommit: false,
    });
    stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      if (stream === this.stream) this.onMessage(m);
    });
    stream.on('error', (err: Error) => {
      if (stream === this.stream) this.onStreamError(err);
    });
    return stream;
  }

  private onMessage(m: Message<Buffer, Buffer, Buffer, Buffer>): void {
    // Dropped while rewinding: the next stream reads them again from the committed offsets.
    if (this.rewinding || this.stopping) return;
    const topic = m.topic;
    const partition = m.partition;
    this.pending.push({
      key: m.key ?? null,
      value: m.value ?? null,
      topic,
      partition,
      offset: m.offset.toString(),
      arrivedAt: 0,
      timestamp: Number(m.timestamp),
    });
    // The group metadata of each partition's first record in this turn: keyed once per partition run,
    // not per record (a fetch delivers a partition's records back to back).
    if (partition !== this.metaPartition || topic !== this.metaTopic) {
      this.metaTopic = topic;
      this.metaPartition = partition;
      const key = `${topic}/${partition}`;
      if (!this.pendingMeta.has(key)) this.pendingMeta.set(key, m.metadata.consumer as PlatformaticGroupMetadata);
    }
    if (!this.flushQueued) {
      this.flushQueued = true;
      // A fetch response is pushed record by record in one synchronous loop: hand it over once after.
      process.nextTick(this.flushBound);
    }
  }

  private flush(): void {
    this.flushQueued = false;
    this.metaTopic = undefined;
    const records = this.pending;
    this.pending = [];
    const n = records.length;
    if (n === 0 || this.rewinding || this.stopping) {
      this.pendingMeta.clear();
      return;
    }
    const arrivedAt = performance.now();
    let from = 0;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      r.arrivedAt = arrivedAt;
      const last = i + 1 === n || records[i + 1].partition !== r.partition || records[i + 1].topic !== r.topic;
      if (!last) continue;
      const key = `${r.topic}/${r.partition}`;
      let queue = this.chunks.get(key);
      if (queue === undefined) {
        queue = [];
        this.chunks.set(key, queue);
      }
      queue.push({ next: BigInt(r.offset) + 1n, meta: this.pendingMeta.get(key)! });
      this.opts.progress?.fetched(r.topic, r.partition, Number(records[from].offset), Number(r.offset) + 1);
      from = i + 1;
    }
    this.pendingMeta.clear();
    if (this.inFlight === 0 && !this.failedSinceWrite) this.lastProgress = Date.now();
    this.inFlight += n;
    this.submissions++;
    this.handler!(records).then(
      () => this.settled(n),
      (err: unknown) => {
        this.settled(n);
        this.failed(err);
      },
    );
    if (this.inFlight > this.opts.maxInFlight && !this.paused) {
      this.paused = true;
      this.stream?.pause();
    }
  }

  private settled(n: number): void {
    this.inFlight -= n;
    if (--this.submissions === 0) for (const w of this.idleWaiters.splice(0)) w();
    if (this.paused && this.inFlight < this.opts.maxInFlight / 2 && !this.rewinding && !this.stopping) {
      this.paused = false;
      this.stream?.resume();
    }
  }

  private onStreamError(err: Error): void {
    if (this.stopping) return;
    log.warn('the consumer stream failed; reopening it from the committed offsets', { err });
    this.failed(err);
  }

  /** A write failed (or the stream did): drop what is in flight, start again from the committed offsets. */
  private failed(err: unknown): void {
    if (this.opts.isFatal?.(err)) {
      log.error('the Kafka producer failed fatally; exiting so that a supervisor restarts the scorer', { err });
      void this.stop(err);
      return;
    }
    this.failedSinceWrite = true;
    if (this.rewinding || this.stopping) return;
    // Back off while writes keep failing (a broker down): 100 ms doubling to 5 s, reset by a write.
    this.retryDelayMs = Math.min(5000, this.retryDelayMs === 0 ? 100 : this.retryDelayMs * 2);
    log.warn('a micro-batch was not written; retrying from the committed offsets', {
      err,
      inFlight: this.inFlight,
      retryInMs: this.retryDelayMs,
    });
    this.rewind(this.retryDelayMs);
  }

  /**
   * Stops handing records over, waits for the submissions in hand to settle, settles the sink's
   * transaction, then replaces the stream with one reading from the group's committed offsets.
   * Retried while the broker is unreachable; past the stall timeout the source stops (exit non-zero).
   */
  private rewind(delayMs: number): void {
    this.rewinding = true;
    this.stream?.pause();
    void (async () => {
      await this.idle();
      await new Promise((r) => setTimeout(r, delayMs));
      const deadline = Date.now() + this.opts.stallTimeoutMs;
      for (let wait = 200; !this.stopping; wait = Math.min(5000, wait * 2)) {
        try {
          await this.opts.settleSink?.();
          const old = this.stream;
          // The new stream first: the topic stays tracked, so the member does not rejoin the group.
          this.stream = await this.open();
          this.chunks.clear();
          this.paused = false;
          this.rewinding = false;
          old?.close().catch((closeErr: unknown) => log.warn('closing the replaced stream failed', { err: closeErr }));
          return;
        } catch (openErr) {
          if (Date.now() + wait > deadline) {
            void this.stop(
              new FraudError(
                ErrorCodes.KAFKA_FATAL,
                `the consumer could not start again from the committed offsets within ${Math.round(this.opts.stallTimeoutMs / 1000)} s (--stall-timeout-ms): ${(openErr as Error).message}`,
                { cause: openErr },
              ),
            );
            return;
          }
          log.warn('could not reopen the consumer stream yet; retrying', { err: openErr, retryInMs: wait });
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    })();
  }

  /** Resolves once every submission handed to the processor has settled. */
  private idle(): Promise<void> {
    if (this.submissions === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Called by the sink once positions are durable. */
  written(positions: readonly Position[]): void {
    this.lastProgress = Date.now();
    this.failedSinceWrite = false;
    this.retryDelayMs = 0;
    for (const p of positions) {
      const queue = this.chunks.get(`${p.topic}/${p.partition}`);
      if (queue !== undefined) {
        const next = BigInt(p.offset);
        let k = 0;
        while (k < queue.length && queue[k].next <= next) k++;
        if (k > 0) queue.splice(0, k);
      }
      this.opts.progress?.written(p.topic, p.partition, Number(p.offset));
    }
  }

  /** At-least-once commit, after the sink's acknowledgement. */
  async commit(positions: readonly Position[]): Promise<void> {
    if (positions.length === 0) return;
    await this.consumer.commit({
      offsets: positions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        offset: BigInt(p.offset),
        leaderEpoch: -1,
      })),
    });
  }

  private onJoin(): void {
    this.group.answered();
    this.assigned.clear();
    for (const a of this.consumer.assignments ?? []) for (const p of a.partitions) this.assigned.add(`${a.topic}/${p}`);
    for (const key of this.chunks.keys()) if (!this.assigned.has(key)) this.chunks.delete(key);
    this.opts.progress?.assigned(this.assigned);
    this.opts.progress?.up();
    log.info('partitions assigned', { assigned: [...this.assigned], generation: this.consumer.generationId });
    // Records in hand were fetched under the previous generation: the stream has moved to the
    // committed offsets already, so start again from there once they settle (exactly-once: the
    // broker refuses their offsets anyway).
    if ((this.submissions > 0 || this.pending.length > 0) && !this.rewinding && !this.stopping) this.rewind(0);
  }

  /** The event loop did not run for a while: this process was stopped and may be a zombie now. */
  private stalledLoop(): boolean {
    return Date.now() - this.lastTick > loopStalledAfterMs(this.opts.sessionTimeoutMs);
  }

  private watch(): void {
    const now = Date.now();
    if (this.stalledLoop()) {
      log.warn('this process did not run for a while (stopped or starved); its in-flight batches are retried', {
        seconds: (now - this.lastTick) / 1000,
      });
      this.lastTick = now;
      this.group.restart(now);
      if (this.inFlight > 0) this.failed(new Error('process stalled'));
      return;
    }
    this.lastTick = now;
    const lost =
      consumerStalled(now, this.lastProgress, this.inFlight, this.opts.stallTimeoutMs) ?? this.group.check(now);
    if (lost !== undefined) void this.stop(lost);
  }

  /** Stops fetching, lets the processor finish what it holds (the caller closes it), leaves the group. */
  async stop(err?: unknown): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.opts.progress?.down(
      err === undefined ? 'stopped' : `stopped: ${err instanceof Error ? err.message : String(err)}`,
    );
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    try {
      if (this.submissions > 0) {
        await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 5000))]);
      }
      // Bounded: against a broker that does not answer (stopped past the rejoin bound) the close waits
      // for ever, and run() settles only after it, so the process would idle instead of exiting.
      const closing = (async () => {
        await this.stream?.close();
        await this.consumer.close();
      })();
      if (!(await settledWithin(closing, CLOSE_BOUND_MS))) {
        log.warn(
          `the consumer did not close within ${CLOSE_BOUND_MS / 1000} s (its broker does not answer); leaving it`,
        );
      }
    } catch (closeErr) {
      log.warn('consumer close failed', { err: closeErr });
    } finally {
      this.finish?.(err);
    }
  }
}
