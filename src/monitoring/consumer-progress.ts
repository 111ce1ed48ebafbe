// Progress, lag and stall of each Kafka consumer (transactions, labels), fed by whatever client reads
// the topic. The client makes these calls (ProgressFeed); everything else is computed here:
//
//   up()                                   the consumer runs (joined its group, or restarted after a crash)
//   down(reason)                           it stopped consuming (crash, fatal error); up() again if it recovers
//   assigned(["topic/partition", ...])     after every rebalance (partitions kept keep their history)
//   fetched(topic, partition, firstOffset, highWatermark)
//                                          every non-empty fetch response of a partition, before processing
//   written(topic, partition, nextOffset)  once the records before nextOffset are durably processed
//
// and the HeadPoller calls head(topic, partition, highWatermark) every few seconds from an offsets
// request, so records waiting are seen even when the consumer itself no longer fetches.
//
// Lag in records is head − next offset to process. Lag in seconds is how long the oldest record still
// waiting has been known to be at the head of its partition: each head observation is kept with the
// wall time it was first seen, and the lag is now − the time of the earliest observation whose high
// watermark lies beyond the next offset to process (0 when nothing waits). It is measured on one clock
// (this process's) and never from event or record timestamps, so a replay of old history at full speed
// is seconds behind, not years. Its resolution is the interval between head observations.
//
// A consumer is stalled when it is down for longer than `stallAfterMs`, or when records have waited for
// longer than `stallAfterMs` and no progress was made for as long. A consumer that is slow but moving
// is lagging, not stalled.

import client from 'prom-client';

/** The calls a consumer makes; see the header. Offsets are numbers (exact below 2^53). */
export interface ProgressFeed {
  up(): void;
  down(reason: string): void;
  assigned(partitions: Iterable<string>): void;
  fetched(topic: string, partition: number, firstOffset: number, highWatermark: number): void;
  written(topic: string, partition: number, nextOffset: number): void;
  head(topic: string, partition: number, highWatermark: number): void;
}

export interface ConsumerStatus {
  consumer: string;
  up: boolean;
  stalled: boolean;
  /** Why it is stalled or down (empty when fine). */
  reason: string;
  waitingRecords: number;
  /** Seconds the oldest waiting record has waited (max over partitions). */
  lagSeconds: number;
  secondsSinceProgress: number;
}

export interface ProgressOptions {
  /** Down, or records waiting with no progress, for this long = stalled (default 60 s). */
  stallAfterMs?: number;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

/** Head observations kept per partition; when full every other one is dropped (older ones thinned). */
const MAX_SEEN = 128;
/** Head observations closer than this reuse the previous entry (bounds the work per fetch). */
const SEEN_RESOLUTION_MS = 100;

class PartitionState {
  /** Next offset to process; −1 until the first fetch or write tells it. */
  next = -1;
  head = -1;
  /** Pairs (high watermark, wall ms first seen), oldest first. */
  seen: number[] = [];
  lagRecords: client.Gauge.Internal<string>;
  lagSeconds: client.Gauge.Internal<string>;

  constructor(
    readonly topic: string,
    readonly partition: string,
    m: ProgressMetrics,
    consumer: string,
  ) {
    this.lagRecords = m.lagRecords.labels(consumer, topic, partition);
    this.lagSeconds = m.lagSeconds.labels(consumer, topic, partition);
  }

  observeHead(hwm: number, now: number): void {
    if (!(hwm > this.head)) return;
    this.head = hwm;
    const s = this.seen;
    if (s.length >= 2 && now - s[s.length - 1]! < SEEN_RESOLUTION_MS) s[s.length - 2] = hwm;
    else {
      if (s.length >= MAX_SEEN * 2) {
        const thinned: number[] = [s[0]!, s[1]!];
        for (let i = 4; i < s.length; i += 4) thinned.push(s[i]!, s[i + 1]!);
        this.seen = thinned;
      }
      this.seen.push(hwm, now);
    }
    this.dropConsumed();
  }

  advance(next: number): number {
    const before = this.next;
    if (next > this.next) this.next = next;
    this.dropConsumed();
    return before < 0 ? 0 : this.next - before;
  }

  private dropConsumed(): void {
    const s = this.seen;
    let i = 0;
    while (i < s.length && s[i]! <= this.next) i += 2;
    if (i > 0) s.splice(0, i);
  }

  waiting(): number {
    return this.next < 0 || this.head < 0 ? 0 : Math.max(0, this.head - this.next);
  }

  waitedMs(now: number): number {
    return this.waiting() > 0 && this.seen.length > 0 ? Math.max(0, now - this.seen[1]!) : 0;
  }
}

/** One consumer's progress (a ProgressFeed). */
export class ConsumerProgress implements ProgressFeed {
  private readonly partitions = new Map<string, PartitionState>();
  private isUp = false;
  private downReason = 'not started';
  private downSince: number;
  private lastProgress: number;
  private readonly upGauge: client.Gauge.Internal<string>;
  private readonly progressGauge: client.Gauge.Internal<string>;
  private readonly waitingGauge: client.Gauge.Internal<string>;
  private readonly stalledGauge: client.Gauge.Internal<string>;
  private readonly records: client.Counter.Internal;

  constructor(
    readonly name: string,
    private readonly m: ProgressMetrics,
    private readonly stallAfterMs: number,
    private readonly now: () => number,
  ) {
    this.downSince = now();
    this.lastProgress = now();
    this.upGauge = m.up.labels(name);
    this.progressGauge = m.lastProgress.labels(name);
    this.waitingGauge = m.waiting.labels(name);
    this.stalledGauge = m.stalled.labels(name);
    this.records = m.progress.labels(name);
    this.records.inc(0);
  }

  up(): void {
    // Not progress: a consumer in a crash–restart loop comes up again and again without moving.
    this.isUp = true;
    this.downReason = '';
  }

  down(reason: string): void {
    if (this.isUp) this.downSince = this.now();
    this.isUp = false;
    this.downReason = reason;
  }

  assigned(partitions: Iterable<string>): void {
    const keep = new Set(partitions);
    for (const [key, p] of this.partitions) {
      if (keep.has(key)) continue;
      this.partitions.delete(key);
      this.m.lagRecords.remove(this.name, p.topic, p.partition);
      this.m.lagSeconds.remove(this.name, p.topic, p.partition);
    }
    for (const key of keep) this.state(key);
  }

  head(topic: string, partition: number, highWatermark: number): void {
    const p = this.partitions.get(`${topic}/${partition}`);
    // A poll can race a rebalance: only partitions this member owns are reported.
    if (p !== undefined) p.observeHead(highWatermark, this.now());
  }

  /** A fetch response: its first offset is where this member reads (tells the position before any write). */
  fetched(topic: string, partition: number, firstOffset: number, highWatermark: number): void {
    const p = this.partitions.get(`${topic}/${partition}`) ?? this.state(`${topic}/${partition}`);
    if (p.next < 0) p.next = firstOffset;
    p.observeHead(highWatermark, this.now());
  }

  written(topic: string, partition: number, nextOffset: number): void {
    const p = this.partitions.get(`${topic}/${partition}`);
    if (p === undefined) return;
    const n = p.advance(nextOffset);
    if (n > 0) this.records.inc(n);
    this.lastProgress = this.now();
  }

  status(): ConsumerStatus {
    const now = this.now();
    let waiting = 0;
    let waitedMs = 0;
    for (const p of this.partitions.values()) {
      waiting += p.waiting();
      waitedMs = Math.max(waitedMs, p.waitedMs(now));
    }
    const sinceProgress = now - this.lastProgress;
    let reason = '';
    if (!this.isUp && now - this.downSince >= this.stallAfterMs) reason = `down: ${this.downReason}`;
    else if (waitedMs >= this.stallAfterMs && sinceProgress >= this.stallAfterMs) {
      reason = `no progress for ${Math.round(sinceProgress / 1000)} s while ${waiting} records wait`;
    }
    return {
      consumer: this.name,
      up: this.isUp,
      stalled: reason !== '',
      reason: reason || (this.isUp ? '' : `down: ${this.downReason}`),
      waitingRecords: waiting,
      lagSeconds: waitedMs / 1000,
      secondsSinceProgress: sinceProgress / 1000,
    };
  }

  /** Sets the gauges (at scrape). */
  collect(): void {
    const now = this.now();
    const s = this.status();
    this.upGauge.set(s.up ? 1 : 0);
    this.progressGauge.set(this.lastProgress / 1000);
    this.waitingGauge.set(s.waitingRecords);
    this.stalledGauge.set(s.stalled ? 1 : 0);
    for (const p of this.partitions.values()) {
      p.lagRecords.set(p.waiting());
      p.lagSeconds.set(p.waitedMs(now) / 1000);
    }
  }

  private state(key: string): PartitionState {
    let p = this.partitions.get(key);
    if (p === undefined) {
      const i = key.lastIndexOf('/');
      p = new PartitionState(key.slice(0, i), key.slice(i + 1), this.m, this.name);
      this.partitions.set(key, p);
    }
    return p;
  }
}

/** The consumer metrics on a registry, and the consumers that feed them. */
export class ProgressMetrics {
  readonly up: client.Gauge<'consumer'>;
  readonly lastProgress: client.Gauge<'consumer'>;
  readonly waiting: client.Gauge<'consumer'>;
  readonly stalled: client.Gauge<'consumer'>;
  readonly progress: client.Counter<'consumer'>;
  readonly lagRecords: client.Gauge<'consumer' | 'topic' | 'partition'>;
  readonly lagSeconds: client.Gauge<'consumer' | 'topic' | 'partition'>;
  private readonly consumers = new Map<string, ConsumerProgress>();
  private readonly stallAfterMs: number;
  private readonly now: () => number;

  constructor(registry: client.Registry, opts: ProgressOptions = {}) {
    this.stallAfterMs = opts.stallAfterMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    const registers = [registry];
    const consumers = this.consumers;
    // One collect() refreshes every gauge of a consumer; hung on the first gauge of the scrape.
    const collect = () => {
      for (const c of consumers.values()) c.collect();
    };
    this.up = new client.Gauge({
      name: 'fraudscore_consumer_up',
      help: 'Whether the consumer is running (1) or stopped/crashed/restarting (0), by consumer (transactions, labels).',
      labelNames: ['consumer'],
      registers,
      collect,
    });
    this.lastProgress = new client.Gauge({
      name: 'fraudscore_consumer_last_progress_timestamp_seconds',
      help: 'Wall time (Unix seconds) when the consumer last durably processed records (or the process started), by consumer.',
      labelNames: ['consumer'],
      registers,
    });
    this.waiting = new client.Gauge({
      name: 'fraudscore_consumer_records_waiting',
      help: "Records between the consumer's next offset and the head (high watermark) of its assigned partitions, from fetches and a periodic offsets poll.",
      labelNames: ['consumer'],
      registers,
    });
    this.stalled = new client.Gauge({
      name: 'fraudscore_consumer_stalled',
      help: 'Whether the consumer is stalled (1): down, or records waiting and no progress, for longer than the stall timeout (--stall-timeout-ms).',
      labelNames: ['consumer'],
      registers,
    });
    this.progress = new client.Counter({
      name: 'fraudscore_consumer_progress_offsets_total',
      help: 'Offsets the consumer moved past once their records were durably processed (transaction markers included).',
      labelNames: ['consumer'],
      registers,
    });
    this.lagRecords = new client.Gauge({
      name: 'fraudscore_consumer_lag_records',
      help: 'Records behind the head (high watermark) of each assigned partition.',
      labelNames: ['consumer', 'topic', 'partition'],
      registers,
    });
    this.lagSeconds = new client.Gauge({
      name: 'fraudscore_consumer_lag_seconds',
      help: 'How far behind the head of each assigned partition the consumer is, in seconds: how long the oldest record still waiting has been known to be at the head (0 when nothing waits). Wall clock of this process only, never event or record timestamps.',
      labelNames: ['consumer', 'topic', 'partition'],
      registers,
    });
  }

  /** The progress of one consumer (created once per name). */
  consumer(name: string): ConsumerProgress {
    let c = this.consumers.get(name);
    if (c === undefined) {
      c = new ConsumerProgress(name, this, this.stallAfterMs, this.now);
      this.consumers.set(name, c);
    }
    return c;
  }

  statuses(): ConsumerStatus[] {
    return [...this.consumers.values()].map((c) => c.status());
  }
}

/**
 * Polls the heads of the consumed topics every `intervalMs`, so input waiting is seen even when the
 * consumer itself no longer fetches. `fetchHeads` is the client's offsets request (e.g. kafkajs'
 * admin.fetchTopicOffsets); a failed poll is skipped (the next one tries again).
 */
export class HeadPoller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly targets: readonly { topic: string; feed: Pick<ProgressFeed, 'head'> }[],
    private readonly fetchHeads: (topic: string) => Promise<{ partition: number; high: number }[]>,
    private readonly intervalMs = 5_000,
    private readonly onError: (err: unknown) => void = () => {},
    /** Closes what fetchHeads uses (e.g. the admin client), once, on stop(). */
    private readonly onStop: () => Promise<void> = async () => {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  async poll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const t of this.targets) {
        for (const h of await this.fetchHeads(t.topic)) t.feed.head(t.topic, h.partition, h.high);
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.onStop().catch(() => {});
  }
}
