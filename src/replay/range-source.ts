import type { Consumer, Kafka } from 'kafkajs';
import { logger } from '../log/logger.js';
import type { Position } from '../pipeline/sink.js';
import type { RecordHandler, Source, SourceRecord } from '../pipeline/source.js';

const log = logger('range-source');

export interface RangeSourceOptions {
  topic: string;
  /** The re-scoring run's own group: the live group's offsets are never touched. */
  groupId: string;
  /** Start reading at the first offset whose timestamp is ≥ this (offsets-for-times). */
  fromTimestamp: number;
  /** Records are routed by event time: before `since` they only warm the feature windows. */
  eventTimeOf: (value: Buffer | null) => number | undefined;
  since: number;
  until: number;
  warm: (records: SourceRecord[]) => Promise<void>;
  /** Called before records are handed to the processor, with the newest event time among them. */
  beforeScore?: (maxEventTime: number) => Promise<void>;
}

/**
 * A bounded read of one topic: from offsets-for-times(fromTimestamp) to the end offsets seen at start.
 * Records before `since` (event time) go to `warm` (feature windows only), records in [since, until)
 * to the processor, later ones are skipped. It ends by itself when every partition is read.
 *
 * Kafka's offsets-for-times uses message timestamps; for a topic filled by a replay with
 * `--timestamps now` those are replay times, and the read then starts at the beginning — still
 * correct, because routing is by each record's event time.
 */
export class RangeSource implements Source {
  readonly consumer: Consumer;
  private end = new Map<number, bigint>();
  private done = new Set<number>();
  private finished: (() => void) | undefined;
  private stopped = false;
  readonly counts = { warmed: 0, scored: 0, skipped: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: RangeSourceOptions,
  ) {
    this.consumer = kafka.consumer({ groupId: opts.groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  }

  owns(_positions: readonly Position[]): boolean {
    return !this.stopped;
  }

  async commit(positions: readonly Position[]): Promise<void> {
    if (positions.length > 0) await this.consumer.commitOffsets(positions.map((p) => ({ ...p })));
  }

  async run(handler: RecordHandler): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    let starts: { partition: number; offset: string }[];
    try {
      const ends = await admin.fetchTopicOffsets(this.opts.topic);
      for (const p of ends) this.end.set(p.partition, BigInt(p.high));
      starts = await admin.fetchTopicOffsetsByTimestamp(this.opts.topic, this.opts.fromTimestamp);
    } finally {
      await admin.disconnect();
    }
    for (const s of starts) {
      // -1: no record at or after the timestamp; nothing to read there.
      if (s.offset === '-1' || BigInt(s.offset) >= (this.end.get(s.partition) ?? 0n)) this.done.add(s.partition);
    }
    log.info('range', {
      topic: this.opts.topic,
      starts,
      ends: Object.fromEntries([...this.end].map(([p, o]) => [p, String(o)])),
    });
    const finished = new Promise<void>((resolve) => {
      this.finished = resolve;
    });
    if (this.done.size === this.end.size) return;

    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      for (const s of starts) {
        if (!this.done.has(s.partition))
          this.consumer.seek({ topic: this.opts.topic, partition: s.partition, offset: s.offset });
      }
    });
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        const end = this.end.get(batch.partition) ?? 0n;
        const warm: SourceRecord[] = [];
        const score: SourceRecord[] = [];
        let maxScored = 0;
        const now = performance.now();
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= end) break;
          const r: SourceRecord = {
            key: m.key,
            value: m.value,
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            arrivedAt: now,
          };
          const t = this.opts.eventTimeOf(m.value);
          // Undecodable records go to the processor, which dead-letters them with their reason.
          if (t === undefined || (t >= this.opts.since && t < this.opts.until)) {
            score.push(r);
            if (t !== undefined && t > maxScored) maxScored = t;
          } else if (t < this.opts.since) warm.push(r);
          else this.counts.skipped++;
        }
        if (warm.length > 0) {
          await this.opts.warm(warm);
          this.counts.warmed += warm.length;
        }
        if (score.length > 0) {
          await this.opts.beforeScore?.(maxScored);
          await handler(score);
          this.counts.scored += score.length;
        }
        const last = batch.messages.at(-1);
        if (last !== undefined && BigInt(last.offset) + 1n >= end) this.markDone(batch.partition);
      },
    });
    // Partitions assigned but with a start at their end never deliver a batch.
    await finished;
  }

  private markDone(partition: number): void {
    this.done.add(partition);
    if (this.done.size >= this.end.size) this.finished?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect().catch(() => {});
    this.finished?.();
  }
}
