import { performance } from 'node:perf_hooks';
import { withDeadline } from '../deadline.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { logger } from '../log/logger.js';
import type { Position } from '../pipeline/sink.js';
import type { RecordHandler, Source, SourceRecord } from '../pipeline/source.js';
import type { CkConsumer, CkEachBatchPayload, CkKafka, CkTopicPartition } from './confluent-client.js';
import type { KafkaSourceOptions } from './kafka-source.js';
import { PartitionAligner } from './partition-aligner.js';
import { consumerStalled, loopStalledAfterMs, rejoinBoundMs, rejoinStalled } from './stall-watch.js';

const log = logger('confluent-source');
const ASSIGN = -175; // librdkafka ERR__ASSIGN_PARTITIONS
const REVOKE = -174; // librdkafka ERR__REVOKE_PARTITIONS
/** at-least-once: a commit not answered by then is kept and sent again (see commit()). */
const COMMIT_TIMEOUT_MS = 10_000;

export interface ConfluentSourceOptions extends KafkaSourceOptions {
  /** Exit (reject run) when records wait but none was written for this long. */
  stallTimeoutMs: number;
  /** Set when the sink failed fatally: the source stops and run() rejects with it. */
  isFatal?: (err: unknown) => boolean;
  /** Settles the sink's transaction left in doubt by a failed commit (see ConfluentSink.settle). */
  settleSink?: () => Promise<void>;
  /** Where the sink's write in progress is (ConfluentSink.writeStep), for the stall error. */
  writeStep?: () => string;
}

/**
 * Transactions from a consumer group through librdkafka, which fetches in its own threads. Fetching
 * never waits for a write: each fetched batch is handed to the processor and the next one is taken at
 * once; above `maxInFlight` records not yet written, the fetch loop waits (back-pressure). Offsets are
 * committed (or sent in the transaction) only for written records; when a write fails, every
 * partition is paused, what was in flight is dropped, and each partition is sought back to just after
 * its last written record. With `align`, partitions are handed over in event-time step
 * (partition-aligner.ts): a partition ahead is paused and the rest of its fetch read again later.
 */
export class ConfluentSource implements Source {
  readonly consumer: CkConsumer;
  /** Event-time alignment of this member's partitions (undefined: handed over as fetched). */
  readonly aligner: PartitionAligner | undefined;
  private readonly assigned = new Set<string>();
  /** Per partition: the next offset after the last written record (the seek target after a failure). */
  private readonly writtenUpTo = new Map<string, string>();
  private inFlight = 0;
  private submissions = 0;
  private rewinding = false;
  private stopping = false;
  private lastProgress = Date.now();
  private failedSinceWrite = false;
  private retryDelayMs = 0;
  private idleWaiters: (() => void)[] = [];
  private lowWaiters: (() => void)[] = [];
  private lowMark = 0;
  /** at-least-once: per partition, the position of written records whose offset commit failed. */
  private readonly uncommitted = new Map<string, Position>();
  private commitRetry: NodeJS.Timeout | undefined;
  private commitRetryMs = 0;
  private commitFailingSince = 0;
  private finish: ((err?: unknown) => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** Wall time of the last event-loop tick: a stopped process (SIGSTOP, VM pause) is seen on resume. */
  private lastTick = Date.now();
  /** Since when this member waits for an assignment (the start, or its last revoke); undefined: assigned. */
  private unassignedSince: number | undefined;
  private unassignedAfter = 'the start';

  constructor(
    kafka: CkKafka,
    private readonly opts: ConfluentSourceOptions,
  ) {
    this.aligner = opts.align === undefined ? undefined : new PartitionAligner(opts.align);
    this.consumer = kafka.consumer({
      'group.id': opts.groupId,
      'enable.auto.commit': false,
      'auto.offset.reset': opts.fromBeginning === false ? 'latest' : 'earliest',
      'isolation.level': opts.readCommitted ? 'read_committed' : 'read_uncommitted',
      'session.timeout.ms': opts.sessionTimeoutMs ?? 30_000,
      'heartbeat.interval.ms': Math.min(3000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 4)),
      'fetch.wait.max.ms': 100,
      'max.partition.fetch.bytes': opts.maxBytesPerPartition ?? 1_048_576,
      'js.consumer.max.batch.size': 1024,
      // The compat layer turns what it fetches into JS objects at once and keeps up to 1.5 s of
      // consumption (its default) cached: about 37k records at 25k tx/s, alive across young-generation
      // GCs. With 100 ms (and --max-in-flight 3072) a drain's scavenges took 372–468 ms in all against
      // 483–601, their longest 17–33 ms against 29–40 (bench/results/ab-cache-inflight.json).
      'js.consumer.max.cache.size.per.worker.ms': 100,
      rebalance_cb: (err: { code: number }, assignment: CkTopicPartition[]) => this.onRebalance(err, assignment),
    });
  }

  get eventTimeFloors(): ReadonlyMap<number, number> | undefined {
    return this.aligner?.floors;
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

  async run(handler: RecordHandler): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.finish = (err) => (err === undefined ? resolve() : reject(err));
    });
    // The watchdog's clock starts now, not at construction: start-up work in between is no stall.
    this.lastTick = Date.now();
    this.unassignedSince = this.lastTick;
    this.watchdog = setInterval(() => this.watch(), 250);
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [this.opts.topic] });
    } catch (err) {
      clearInterval(this.watchdog);
      throw err;
    }
    await this.consumer.run({
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.onBatch(payload, handler),
    });
    return done;
  }

  private async onBatch({ batch, resolveOffset }: CkEachBatchPayload, handler: RecordHandler): Promise<void> {
    const n = batch.messages.length;
    // Unresolved, the batch is fetched again from its first offset (the compat layer seeks back).
    if (n === 0 || this.rewinding || this.stopping) return;
    const key = `${batch.topic}/${batch.partition}`;
    if (!this.writtenUpTo.has(key)) {
      // Once per partition and assignment: where this member starts (the trail of a takeover).
      log.info('first records of a partition', { partition: batch.partition, offset: batch.messages[0].offset });
      this.writtenUpTo.set(key, batch.messages[0].offset);
    }
    this.opts.progress?.fetched(
      batch.topic,
      batch.partition,
      Number(batch.messages[0].offset),
      Number(batch.highWatermark),
    );
    // Aligned: only the records within the lead go now; unresolved, the rest is fetched again on resume.
    let k = n;
    const aligner = this.aligner;
    if (aligner !== undefined) {
      k = aligner.take(batch.partition, batch.messages, Date.now());
      if (k < n) this.pauseAhead(batch.topic, batch.partition);
      this.resumeDue();
      if (k === 0) return;
    }
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
    // The fetch position moves on now; the commit follows the writes (written()).
    resolveOffset(batch.messages[k - 1].offset);
    // A stall is measured from the last write, or from when work arrived after an idle spell; retries
    // after a failed write do not restart the clock.
    if (this.inFlight === 0 && !this.failedSinceWrite) this.lastProgress = Date.now();
    this.inFlight += k;
    this.submissions++;
    handler(records).then(
      () => this.settled(k),
      (err: unknown) => {
        this.settled(k);
        this.failed(err);
      },
    );
    // Back-pressure: this worker (one of partitionsConcurrently) takes no more batches until the
    // records in hand fall below half the bound; librdkafka's prefetch queue is bounded too. (The
    // compat layer's pause()/resume() can leave a partition paused for good when every worker idles.)
    if (this.inFlight > this.opts.maxInFlight) await this.below(this.opts.maxInFlight / 2);
  }

  /** Stops fetching a partition that is ahead (its fetch is cut; the rest comes again on resume). */
  private pauseAhead(topic: string, partition: number): void {
    try {
      this.consumer.pause([{ topic, partitions: [partition] }]);
    } catch (err) {
      log.warn('pause failed (consumer not connected)', { err, partition });
    }
  }

  /** Resumes the paused partitions the others have caught up with. */
  private resumeDue(): void {
    const due = this.aligner!.due(Date.now());
    if (due.length === 0) return;
    try {
      this.consumer.resume([{ topic: this.opts.topic, partitions: due }]);
    } catch (err) {
      log.warn('resume failed (consumer not connected)', { err, partitions: due });
    }
  }

  private settled(n: number): void {
    this.inFlight -= n;
    if (--this.submissions === 0) for (const w of this.idleWaiters.splice(0)) w();
    if (this.lowWaiters.length > 0 && (this.inFlight < this.lowMark || this.stopping || this.rewinding)) {
      for (const w of this.lowWaiters.splice(0)) w();
    }
  }

  /** Resolves once fewer than `mark` records are in hand (or the source stops or rewinds). */
  private below(mark: number): Promise<void> {
    this.lowMark = mark;
    return new Promise((r) => this.lowWaiters.push(r));
  }

  /** A write failed: drop what is in flight, seek every partition back to its last written record. */
  private failed(err: unknown): void {
    if (this.opts.isFatal?.(err)) {
      log.error('the Kafka producer failed fatally; exiting so that a supervisor restarts the scorer', { err });
      void this.stop(err);
      return;
    }
    this.failedSinceWrite = true;
    if (this.rewinding || this.stopping) return;
    // Batches fetched meanwhile are handed back unresolved (the compat layer seeks to their start);
    // the seeks below, queued after those, put each partition back after its last written record.
    this.rewinding = true;
    for (const w of this.lowWaiters.splice(0)) w();
    // Back off while writes keep failing (a broker down): 100 ms doubling to 5 s, reset by a write.
    this.retryDelayMs = Math.min(5000, this.retryDelayMs === 0 ? 100 : this.retryDelayMs * 2);
    const delay = this.retryDelayMs;
    log.warn('a micro-batch was not written; retrying from the last written record of each partition', {
      err,
      inFlight: this.inFlight,
      retryInMs: this.retryDelayMs,
    });
    const uncertain = (err as { commitUncertain?: boolean })?.commitUncertain === true;
    void (async () => {
      await this.idle();
      await new Promise((r) => setTimeout(r, delay));
      if (uncertain && !(await this.committedTargets())) return;
      const targets: string[] = [];
      for (const key of this.assigned) {
        const offset = this.writtenUpTo.get(key);
        if (offset === undefined) continue;
        const slash = key.lastIndexOf('/');
        targets.push(`${key.slice(slash + 1)}@${offset}`);
        try {
          this.consumer.seek({ topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), offset });
        } catch (seekErr) {
          log.warn('seek failed (partition moved meanwhile)', { err: seekErr, partition: key });
        }
      }
      log.info('sought back to the last written records', { targets });
      // Where each partition stands is known again from its next fetch.
      const paused = this.aligner?.reset(Date.now()) ?? [];
      if (paused.length > 0) {
        try {
          this.consumer.resume([{ topic: this.opts.topic, partitions: paused }]);
        } catch (resumeErr) {
          log.warn('resume failed after a rewind', { err: resumeErr });
        }
      }
      this.rewinding = false;
    })();
  }

  /**
   * After a commit in doubt, the seek targets come from the broker: the sink's transaction is settled
   * first (committed or aborted), then the group's committed offsets replace this member's own record.
   * Retried while the broker is unreachable; past the stall timeout the source stops (exit non-zero).
   */
  private async committedTargets(): Promise<boolean> {
    const deadline = Date.now() + this.opts.stallTimeoutMs;
    for (let wait = 200; !this.stopping; wait = Math.min(5000, wait * 2)) {
      try {
        await this.opts.settleSink?.();
        const tps = [...this.assigned].map((key) => {
          const slash = key.lastIndexOf('/');
          return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)) };
        });
        const committed = tps.length === 0 ? [] : await this.consumer.committed(tps, 10_000);
        for (const c of committed) {
          const key = `${c.topic}/${c.partition}`;
          // No committed offset yet: this member's first fetched offset stands.
          if (this.assigned.has(key) && Number(c.offset) >= 0) this.writtenUpTo.set(key, c.offset);
        }
        log.info('resuming from the group committed offsets after a commit in doubt', {
          partitions: committed.length,
        });
        return true;
      } catch (settleErr) {
        if (Date.now() + wait > deadline) {
          void this.stop(
            new FraudError(
              ErrorCodes.KAFKA_FATAL,
              `a transaction commit in doubt could not be settled within ${Math.round(this.opts.stallTimeoutMs / 1000)} s (--stall-timeout-ms): ${(settleErr as Error).message}`,
              { cause: settleErr },
            ),
          );
          return false;
        }
        log.warn('could not settle a transaction commit in doubt yet; retrying', { err: settleErr, retryInMs: wait });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    return false;
  }

  /** Resolves once every submission handed to the processor has settled. */
  private idle(): Promise<void> {
    if (this.submissions === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Called by the sink once positions are durable. */
  written(positions: readonly Position[]): void {
    if (this.failedSinceWrite) {
      log.info('writing again after a failed write', {
        written: positions.map((p) => `${p.partition}@${p.offset}`),
      });
    }
    this.lastProgress = Date.now();
    this.failedSinceWrite = false;
    this.retryDelayMs = 0;
    for (const p of positions) {
      const key = `${p.topic}/${p.partition}`;
      if (!this.assigned.has(key)) continue;
      this.writtenUpTo.set(key, p.offset);
      this.opts.progress?.written(p.topic, p.partition, Number(p.offset));
    }
  }

  /**
   * At-least-once commit, after the sink's acknowledgement. A failed commit does not fail the write:
   * its decisions are in Kafka already, and the rewind that followed produced every record in flight
   * again (139 of 1,500 for two failed commits in commit-failed.test.ts). The offsets are kept and go
   * with the next commit, or with a retry when no write comes; a partition lost meanwhile is read again
   * by its next owner from the group's offset, as at-least-once allows.
   */
  async commit(positions: readonly Position[]): Promise<void> {
    for (const p of positions) this.uncommitted.set(`${p.topic}/${p.partition}`, p);
    await this.commitPending();
  }

  /** Commits every kept position of a partition still ours; keeps them and arms a retry when that fails. */
  private async commitPending(): Promise<void> {
    if (this.uncommitted.size === 0) return;
    const sent: [string, Position][] = [];
    for (const entry of this.uncommitted) {
      if (this.assigned.has(entry[0])) sent.push(entry);
      else this.uncommitted.delete(entry[0]);
    }
    if (sent.length === 0) return;
    try {
      // Bounded: librdkafka holds a commit while the group rebalances or its coordinator moves, and a
      // write waiting on it would hold up every write behind it.
      await withDeadline(
        this.consumer.commitOffsets(
          sent.map(([, p]) => ({ topic: p.topic, partition: p.partition, offset: p.offset })),
        ),
        COMMIT_TIMEOUT_MS,
        () => new Error(`offset commit not answered within ${COMMIT_TIMEOUT_MS} ms`),
      );
    } catch (err) {
      if (this.commitRetryMs === 0)
        log.warn(
          'offset commit failed; the written records are not produced again, their offsets are committed later',
          {
            err,
            partitions: sent.map(([key, p]) => `${key}@${p.offset}`),
          },
        );
      if (this.commitRetryMs === 0) this.commitFailingSince = Date.now();
      else if (Date.now() - this.commitFailingSince > this.opts.stallTimeoutMs) {
        // Writing on without ever committing would leave a restart to read everything again.
        void this.stop(
          new FraudError(
            ErrorCodes.KAFKA_FATAL,
            `offset commits have failed for ${Math.round((Date.now() - this.commitFailingSince) / 1000)} s (--stall-timeout-ms): ${(err as Error).message}`,
            { cause: err },
          ),
        );
        return;
      }
      this.commitRetryMs = Math.min(5000, this.commitRetryMs === 0 ? 200 : this.commitRetryMs * 2);
      if (this.commitRetry === undefined && !this.stopping) {
        this.commitRetry = setTimeout(() => {
          this.commitRetry = undefined;
          void this.commitPending();
        }, this.commitRetryMs);
      }
      return;
    }
    // A later position put in meanwhile (a concurrent write) stays for the next commit.
    for (const [key, p] of sent) if (this.uncommitted.get(key) === p) this.uncommitted.delete(key);
    if (this.commitRetryMs > 0) {
      log.info('offsets committed again after a failed commit', { partitions: sent.length });
      this.commitRetryMs = 0;
    }
  }

  private async onRebalance(err: { code: number }, tps: CkTopicPartition[]): Promise<void> {
    if (err.code === ASSIGN) {
      this.unassignedSince = undefined;
      for (const tp of tps) this.assigned.add(`${tp.topic}/${tp.partition}`);
      this.aligner?.assign(
        tps.filter((tp) => tp.topic === this.opts.topic).map((tp) => tp.partition),
        Date.now(),
      );
      this.opts.progress?.assigned(this.assigned);
      this.opts.progress?.up();
      log.info('partitions assigned', { assigned: [...this.assigned] });
      return;
    }
    if (err.code !== REVOKE) return;
    // Let the batches in flight finish while the partitions are still ours (bounded: the group waits).
    if (this.submissions > 0 && !this.stalledLoop()) {
      await Promise.race([
        this.idle(),
        new Promise((r) => setTimeout(r, Math.min(10_000, (this.opts.sessionTimeoutMs ?? 30_000) / 2))),
      ]);
    }
    // Offsets kept from a failed commit are sent now, while the partitions are still ours; not awaited
    // (the group waits for this callback), and forgotten if that commit fails.
    if (this.uncommitted.size > 0) void this.commitPending();
    for (const tp of tps) {
      const key = `${tp.topic}/${tp.partition}`;
      this.assigned.delete(key);
      this.writtenUpTo.delete(key);
      this.uncommitted.delete(key);
    }
    if (this.aligner !== undefined) {
      const gone = tps.filter((tp) => tp.topic === this.opts.topic).map((tp) => tp.partition);
      // Not left paused for whoever holds the partition next in this process.
      const held = this.aligner.pausedPartitions().filter((p) => gone.includes(p));
      this.aligner.revoke(gone);
      if (held.length > 0) {
        try {
          this.consumer.resume([{ topic: this.opts.topic, partitions: held }]);
        } catch (resumeErr) {
          log.warn('resume of revoked partitions failed', { err: resumeErr });
        }
      }
    }
    this.opts.progress?.assigned(this.assigned);
    this.unassignedSince = Date.now();
    this.unassignedAfter = 'partitions were revoked';
    log.info('partitions revoked', { revoked: tps.map((tp) => `${tp.topic}/${tp.partition}`) });
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
      // The rejoin bound counts from the resume: a stopped process could not rejoin.
      if (this.unassignedSince !== undefined) this.unassignedSince = now;
      if (this.inFlight > 0) this.failed(new Error('process stalled'));
      return;
    }
    this.lastTick = now;
    // A partition paused because it was ahead resumes once the others caught up or went idle.
    if (this.aligner?.anyPaused && !this.rewinding && !this.stopping) this.resumeDue();
    const stalled = consumerStalled(
      now,
      this.lastProgress,
      this.inFlight,
      this.opts.stallTimeoutMs,
      () =>
        `${this.submissions} submissions unsettled${this.rewinding ? ', rewinding' : ''}; ${this.opts.writeStep?.() ?? 'write step unknown'}`,
    );
    // Nothing in hand is no sign of health either: a member that never rejoined holds nothing.
    const lost =
      stalled ??
      rejoinStalled(
        now,
        this.unassignedSince,
        rejoinBoundMs(this.opts.stallTimeoutMs, this.opts.sessionTimeoutMs),
        this.unassignedAfter,
      );
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
    for (const w of this.lowWaiters.splice(0)) w();
    try {
      if (this.submissions > 0) {
        await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 5000))]);
      }
      clearTimeout(this.commitRetry);
      if (this.uncommitted.size > 0) await this.commitPending();
      await this.consumer.disconnect();
    } catch (discErr) {
      log.warn('consumer disconnect failed', { err: discErr });
    } finally {
      this.finish?.(err);
    }
  }
}
