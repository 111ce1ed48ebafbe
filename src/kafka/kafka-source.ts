import { performance } from 'node:perf_hooks';
import type { Consumer, Kafka } from 'kafkajs';
import { settledWithin } from '../deadline.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { logger } from '../log/logger.js';
import type { ProgressFeed } from '../monitoring/consumer-progress.js';
import { feedProgressFromKafkajs } from '../monitoring/kafkajs-progress.js';
import type { Position } from '../pipeline/sink.js';
import type { RecordHandler, Source, SourceRecord } from '../pipeline/source.js';
import { type AlignOptions, PartitionAligner } from './partition-aligner.js';
import { CLOSE_BOUND_MS, HeartbeatBound, loopStalledAfterMs, rejoinBoundMs } from './stall-watch.js';

const log = logger('kafka-source');

export interface KafkaSourceOptions {
  topic: string;
  groupId: string;
  /** Partitions handed to the processor at once; their records share micro-batches. */
  partitionsConcurrently: number;
  /** Above this many records in flight every partition is paused; resumed below half of it. */
  maxInFlight: number;
  /** exactly-once reads only committed input (a transactional producer upstream may abort). */
  readCommitted: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  fromBeginning?: boolean;
  /** Told the consumer's state, assignment, fetches and durable progress (lag, stall, /healthz). */
  progress?: ProgressFeed;
  /** Hand partitions over in event-time step (partition-aligner.ts); unset: as fetched. */
  align?: AlignOptions;
  /**
   * kafkajs: with it, a member whose group coordinator answered no heartbeat (nor a join) for
   * `max(stallTimeoutMs, 2 × session timeout)` exits; unset, no such watch.
   */
  stallTimeoutMs?: number;
}

/**
 * Transactions from a Kafka consumer group. Offsets are never auto-committed: the sink commits a
 * micro-batch's positions only once its decisions are durable (at-least-once), or inside the same
 * transaction (exactly-once). With `align`, a partition ahead of the others in event time is paused
 * and the rest of its fetch, left unresolved, is fetched again on resume.
 */
export class KafkaSource implements Source {
  readonly consumer: Consumer;
  /** Event-time alignment of this member's partitions (undefined: handed over as fetched). */
  readonly aligner: PartitionAligner | undefined;
  private alignTimer: NodeJS.Timeout | undefined;
  private readonly assigned = new Set<string>();
  private generation = 0;
  private paused = false;
  /** resolveOffset of each partition's batch in flight (kafkajs' local consumed position). */
  private readonly resolvers = new Map<string, (offset: string) => void>();
  private stopping = false;
  private ended: ((err?: unknown) => void) | undefined;
  private failure: FraudError | undefined;
  private lastHeartbeat = 0;
  private watchdog: NodeJS.Timeout | undefined;
  /** Wall time of the watchdog's last tick: a stopped process (SIGSTOP) is seen on resume. */
  private lastTick = 0;
  /** Past it with no heartbeat answered the member is out of its group (its broker stopped, say). */
  private readonly group: HeartbeatBound | undefined;

  constructor(
    kafka: Kafka,
    private readonly opts: KafkaSourceOptions,
  ) {
    this.aligner = opts.align === undefined ? undefined : new PartitionAligner(opts.align);
    this.group =
      opts.stallTimeoutMs === undefined
        ? undefined
        : new HeartbeatBound(rejoinBoundMs(opts.stallTimeoutMs, opts.sessionTimeoutMs));
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
      maxWaitTimeInMs: 100,
      readUncommitted: !opts.readCommitted,
      retry: { retries: 10 },
    });
    if (opts.progress) feedProgressFromKafkajs(this.consumer, opts.progress);
    const ev = this.consumer.events;
    this.consumer.on(ev.REBALANCING, () => {
      // Until the new assignment arrives nothing is ours: an exactly-once commit must not happen.
      this.generation++;
      this.assigned.clear();
    });
    this.consumer.on(ev.GROUP_JOIN, (e) => {
      this.generation++;
      this.assigned.clear();
      this.resolvers.clear();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const p of partitions) this.assigned.add(`${topic}/${p}`);
      }
      if (this.aligner !== undefined) {
        // kafkajs rebalances eagerly: this assignment is the whole set, and nothing stays held back.
        const held = this.aligner.clear();
        if (held.length > 0 && !this.paused) this.consumer.resume([{ topic: this.opts.topic, partitions: held }]);
        this.aligner.assign(e.payload.memberAssignment[this.opts.topic] ?? [], Date.now());
      }
      this.group?.answered();
      log.info('partitions assigned', { assigned: [...this.assigned], generation: this.generation });
    });
    this.consumer.on(ev.HEARTBEAT, () => {
      this.lastHeartbeat = Date.now();
      this.group?.answered();
    });
    this.consumer.on(ev.CRASH, (e) => {
      if (e.payload.restart) {
        log.warn('consumer crashed; kafkajs restarts it', { err: e.payload.error });
        return;
      }
      // kafkajs gave up on this consumer: alive and idle would be a zombie, so the process exits non-zero.
      log.error('consumer crashed and kafkajs will not restart it; exiting for a supervisor to restart the scorer', {
        err: e.payload.error,
      });
      this.failure = new FraudError(
        ErrorCodes.KAFKA_FATAL,
        `the kafkajs consumer crashed and was not restarted: ${e.payload.error?.message}`,
        { cause: e.payload.error },
      );
      void this.stop();
    });
  }

  get eventTimeFloors(): ReadonlyMap<number, number> | undefined {
    return this.aligner?.floors;
  }

  get assignment(): readonly string[] {
    return [...this.assigned];
  }

  /** True while every position's partition is still assigned to this member (exactly-once guard). */
  owns(positions: readonly Position[]): boolean {
    if (this.stopping && this.assigned.size === 0) return false;
    for (const p of positions) if (!this.assigned.has(`${p.topic}/${p.partition}`)) return false;
    return true;
  }

  async run(handler: RecordHandler): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.ended = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.lastTick = Date.now();
    if (this.group !== undefined) {
      this.group.restart(this.lastTick);
      this.watchdog = setInterval(() => this.watch(this.group!), 250);
    }
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.opts.topic, fromBeginning: this.opts.fromBeginning ?? true });
    } catch (err) {
      clearInterval(this.watchdog);
      throw err;
    }
    if (this.aligner !== undefined) {
      // A partition paused because it was ahead resumes once the others caught up or went idle.
      this.alignTimer = setInterval(() => {
        if (this.aligner!.anyPaused) this.resumeDue();
      }, 250);
      this.alignTimer.unref();
    }
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently,
      // Offsets are resolved as micro-batches are written (see written()), so that a batch kafkajs retries
      // after a failure starts after the last written record instead of repeating committed ones.
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale()) return;
        if (batch.messages.length === 0) {
          resolveOffset(batch.lastOffset());
          return;
        }
        // Aligned: only the records within the lead go now; unresolved, the rest is fetched again on resume.
        let k = batch.messages.length;
        const aligner = this.aligner;
        if (aligner !== undefined) {
          k = aligner.take(batch.partition, batch.messages, Date.now());
          if (k < batch.messages.length) this.consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          this.resumeDue();
          if (k === 0) return;
        }
        this.resolvers.set(`${batch.topic}/${batch.partition}`, resolveOffset);
        const arrivedAt = performance.now();
        const records: SourceRecord[] = new Array(k);
        for (let i = 0; i < k; i++) {
          const m = batch.messages[i];
          records[i] = {
            key: m.key,
            value: m.value,
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            arrivedAt,
            timestamp: Number(m.timestamp),
          };
        }
        // A rejection makes kafkajs fetch again from the last resolved offset: the records of this batch
        // that were not written come again (the sink aborted their transaction or never acknowledged them).
        await handler(records);
        resolveOffset(records[k - 1].offset);
        await heartbeat();
      },
    });
    return done;
  }

  /** Pauses every assigned partition while the processor is saturated. */
  backpressure(inFlight: number): void {
    if (!this.paused && inFlight > this.opts.maxInFlight) {
      this.paused = true;
      this.consumer.pause([{ topic: this.opts.topic }]);
      log.debug('paused: in-flight above limit', { inFlight });
    } else if (this.paused && inFlight < this.opts.maxInFlight / 2) {
      this.paused = false;
      this.consumer.resume([{ topic: this.opts.topic }]);
      // Partitions held back by the alignment stay paused.
      const ahead = this.aligner?.pausedPartitions() ?? [];
      if (ahead.length > 0) this.consumer.pause([{ topic: this.opts.topic, partitions: ahead }]);
    }
  }

  /** Resumes the partitions paused for being ahead that the others have caught up with. */
  private resumeDue(): void {
    const due = this.aligner!.due(Date.now());
    if (due.length === 0 || this.stopping) return;
    // While the whole topic is paused for back-pressure, the back-pressure resume lets them go.
    if (!this.paused) this.consumer.resume([{ topic: this.opts.topic, partitions: due }]);
  }

  /** Called by the sink once positions are durable: kafkajs then never re-fetches below them. */
  written(positions: readonly Position[]): void {
    for (const p of positions) {
      const key = `${p.topic}/${p.partition}`;
      // A partition revoked meanwhile is no longer ours to move: its new owner reads the commit.
      if (!this.assigned.has(key)) continue;
      this.resolvers.get(key)?.(String(BigInt(p.offset) - 1n));
    }
  }

  /** At-least-once commit, after the sink's acknowledgement. */
  async commit(positions: readonly Position[]): Promise<void> {
    if (positions.length === 0) return;
    await this.consumer.commitOffsets(positions.map((p) => ({ ...p })));
  }

  private watch(group: HeartbeatBound): void {
    const now = Date.now();
    if (now - this.lastTick > loopStalledAfterMs(this.opts.sessionTimeoutMs)) group.restart(now);
    this.lastTick = now;
    const lost = group.check(now);
    if (lost === undefined) return;
    this.failure ??= lost;
    void this.stop();
  }

  /** Finishes the in-flight batch (kafkajs waits for eachBatch), leaves the group, disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.alignTimer !== undefined) clearInterval(this.alignTimer);
    clearInterval(this.watchdog);
    try {
      // Bounded: against a broker that does not answer, the disconnect waits out kafkajs' retries, and
      // run() settles only after it.
      if (!(await settledWithin(this.consumer.disconnect(), CLOSE_BOUND_MS))) {
        log.warn(
          `the consumer did not disconnect within ${CLOSE_BOUND_MS / 1000} s (its broker does not answer); leaving it`,
        );
      }
    } finally {
      this.ended?.(this.failure);
    }
  }

  get millisSinceHeartbeat(): number {
    return this.lastHeartbeat === 0 ? 0 : Date.now() - this.lastHeartbeat;
  }
}
