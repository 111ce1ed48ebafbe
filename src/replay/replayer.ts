import { createHash } from 'node:crypto';
import type { Kafka, Message, Producer } from 'kafkajs';
import { type Encoder, labelEncoder, SCHEMA_IDS, transactionEncoder } from '../avro/encoders.js';
import { TransactionDecoder } from '../avro/transaction-decoder.js';
import { logger } from '../log/logger.js';
import type { Label, Transaction } from '../types.js';
import { openRows, type Row, type RowFile } from './row-source.js';

const log = logger('replay');

export type Pacing = { kind: 'max' } | { kind: 'rate'; perSecond: number } | { kind: 'speedup'; factor: number };

export interface ReplayOptions {
  transactionsPath: string;
  labelsPath?: string;
  topic: string;
  labelsTopic?: string;
  pacing: Pacing;
  /** Skip transactions (and labels reported) before this event time. */
  since?: number;
  /** Continue after the last committed chunk of an earlier run of the same replay. */
  resume: boolean;
  /** Names the replay's checkpoint and transactional id; default: derived from the file and topic. */
  replayId?: string;
  /** Records per Kafka transaction (and checkpoint). */
  chunk?: number;
  /** Kafka message timestamps: the time of the replay ('now') or the transaction's event time ('event'). */
  timestamps?: 'now' | 'event';
  plainAvro?: boolean;
  /** Confluent framing ids from a schema registry (default: the built-in ids). */
  schemaIds?: { transaction: number; label?: number };
  onProgress?: (fraction: number, records: number) => void;
}

export interface BadRow {
  file: string;
  n: number;
  error: string;
}

export interface ReplaySummary {
  replayId: string;
  transactions: number;
  labels: number;
  badRows: number;
  firstBadRows: BadRow[];
  skippedBeforeSince: number;
  resumedAfter: { transactions: number; labels: number };
  seconds: number;
  transactionsPerSecond: number;
  interrupted: boolean;
}

/** The group whose committed "offsets" are the replay's checkpoint: rows of each file already produced. */
export const checkpointGroup = (replayId: string): string => `fraudscore-replay-${replayId}`;

export function defaultReplayId(transactionsPath: string, topic: string): string {
  return createHash('sha256').update(`${transactionsPath}\0${topic}`).digest('hex').slice(0, 16);
}

/**
 * Produces historical transactions (and their labels, at their reported time on the same clock) to
 * Kafka. Each chunk is one Kafka transaction that also commits the replay's position (rows consumed
 * from each file) as offsets of a checkpoint group, so an interrupted replay resumes exactly after the
 * last committed chunk: nothing skipped, nothing duplicated.
 */
export class Replayer {
  private stopping = false;
  private readonly encoder: Encoder<Transaction>;
  private readonly labelEnc: Encoder<Label>;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: ReplayOptions,
  ) {
    this.encoder = transactionEncoder(opts.plainAvro ? null : (opts.schemaIds?.transaction ?? SCHEMA_IDS.transaction));
    this.labelEnc = labelEncoder(opts.plainAvro ? null : (opts.schemaIds?.label ?? SCHEMA_IDS.label));
  }

  /** Asks the replay to stop after the chunk in flight is committed. */
  stop(): void {
    this.stopping = true;
  }

  async run(): Promise<ReplaySummary> {
    const o = this.opts;
    const replayId = o.replayId ?? defaultReplayId(o.transactionsPath, o.topic);
    const group = checkpointGroup(replayId);
    const chunk = o.chunk ?? 1000;
    const start = performance.now();

    const resumedAfter = o.resume ? await this.checkpoint(group) : { transactions: 0, labels: 0 };
    const producer = this.kafka.producer({
      transactionalId: `fraudscore-replay-${replayId}`,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 10, maxRetryTime: 1000, retries: 12, factor: 0.2, multiplier: 2 },
    });
    await producer.connect();

    const txFile = openRows<Transaction>(o.transactionsPath, 'transaction');
    const labelFile = o.labelsPath && o.labelsTopic ? openRows<Label>(o.labelsPath, 'label') : undefined;
    const txIt = txFile.rows[Symbol.asyncIterator]();
    const labelIt = labelFile?.rows[Symbol.asyncIterator]();
    // Rows consumed from each file (good or bad): the checkpoint position.
    let txRows = 0;
    let labelRows = 0;
    const skip = async <T>(it: AsyncIterator<Row<T>>, n: number) => {
      for (let i = 0; i < n; i++) if ((await it.next()).done) break;
    };
    await skip(txIt, resumedAfter.transactions);
    if (labelIt) await skip(labelIt, resumedAfter.labels);
    txRows = resumedAfter.transactions;
    labelRows = resumedAfter.labels;

    const validator = new TransactionDecoder();
    const summary: ReplaySummary = {
      replayId,
      transactions: 0,
      labels: 0,
      badRows: 0,
      firstBadRows: [],
      skippedBeforeSince: 0,
      resumedAfter,
      seconds: 0,
      transactionsPerSecond: 0,
      interrupted: false,
    };
    const bad = (file: string, n: number, error: string) => {
      summary.badRows++;
      if (summary.firstBadRows.length < 20) summary.firstBadRows.push({ file, n, error });
      if (summary.badRows <= 20) log.warn('bad row skipped', { file, row: n, error });
    };

    let nextTx = await txIt.next();
    let nextLabel = labelIt ? await labelIt.next() : undefined;
    let txMsgs: Message[] = [];
    let labelMsgs: Message[] = [];
    let firstClock: number | undefined;
    const wallStart = performance.now();
    let paced = 0;

    const flush = async () => {
      if (txMsgs.length === 0 && labelMsgs.length === 0) return;
      await this.commitChunk(producer, group, txMsgs, labelMsgs, txRows, labelRows);
      summary.transactions += txMsgs.length;
      summary.labels += labelMsgs.length;
      txMsgs = [];
      labelMsgs = [];
      o.onProgress?.(txFile.bytesRead() / Math.max(1, txFile.size), summary.transactions);
    };

    try {
      while (!this.stopping && (!nextTx.done || (nextLabel !== undefined && !nextLabel.done))) {
        // Merge by clock: a transaction's event time, a label's reported time.
        const txRow = nextTx.done ? undefined : nextTx.value;
        const labelRow = nextLabel === undefined || nextLabel.done ? undefined : nextLabel.value;
        const txClock = txRow?.value?.event_time ?? (txRow ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
        const labelClock =
          labelRow?.value?.reported_time ?? (labelRow ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
        const takeTx = txRow !== undefined && txClock <= labelClock;
        const clock = takeTx ? txClock : labelClock;

        if (Number.isFinite(clock)) {
          firstClock ??= clock;
          const due = this.dueAt(clock - firstClock, paced, wallStart);
          if (due > performance.now()) {
            // Send what is already due before waiting, so paced records are not held back by the chunk.
            await flush();
            await sleepUntil(due, () => this.stopping);
            if (this.stopping) break;
          }
        }

        if (takeTx) {
          txRows++;
          const row = txRow!;
          nextTx = await txIt.next();
          if (row.value === undefined) {
            bad(o.transactionsPath, row.n, row.error ?? 'unreadable row');
            continue;
          }
          const tx = row.value;
          if (o.since !== undefined && tx.event_time < o.since) {
            summary.skippedBeforeSince++;
            continue;
          }
          try {
            validator.validate(tx, 'replay');
          } catch (err) {
            bad(o.transactionsPath, row.n, (err as Error).message);
            continue;
          }
          paced++;
          txMsgs.push({
            key: tx.customer_id,
            value: this.encoder.encode(tx),
            timestamp: o.timestamps === 'event' ? String(tx.event_time) : undefined,
          });
        } else {
          labelRows++;
          const row = labelRow!;
          nextLabel = await labelIt!.next();
          if (row.value === undefined) {
            bad(o.labelsPath!, row.n, row.error ?? 'unreadable row');
            continue;
          }
          if (o.since !== undefined && row.value.reported_time < o.since) continue;
          labelMsgs.push({ key: row.value.customer_id, value: this.labelEnc.encode(row.value) });
        }
        if (txMsgs.length + labelMsgs.length >= chunk) await flush();
      }
      await flush();
      summary.interrupted = this.stopping;
    } finally {
      await producer.disconnect();
    }
    summary.seconds = (performance.now() - start) / 1000;
    summary.transactionsPerSecond = summary.transactions / Math.max(summary.seconds, 1e-9);
    return summary;
  }

  /** Wall-clock time (performance.now()) at which a record `elapsed` ms of history after the first is due. */
  private dueAt(elapsedHistoryMs: number, index: number, wallStart: number): number {
    const p = this.opts.pacing;
    if (p.kind === 'speedup') return wallStart + elapsedHistoryMs / p.factor;
    if (p.kind === 'rate') return wallStart + (index / p.perSecond) * 1000;
    return 0;
  }

  private async commitChunk(
    producer: Producer,
    group: string,
    txMsgs: Message[],
    labelMsgs: Message[],
    txRows: number,
    labelRows: number,
  ): Promise<void> {
    const o = this.opts;
    const tx = await producer.transaction();
    try {
      const topicMessages = [];
      if (txMsgs.length > 0) topicMessages.push({ topic: o.topic, messages: txMsgs });
      if (labelMsgs.length > 0) topicMessages.push({ topic: o.labelsTopic!, messages: labelMsgs });
      await tx.sendBatch({ topicMessages, acks: -1 });
      const topics = [{ topic: o.topic, partitions: [{ partition: 0, offset: String(txRows) }] }];
      if (o.labelsTopic && o.labelsPath)
        topics.push({ topic: o.labelsTopic, partitions: [{ partition: 0, offset: String(labelRows) }] });
      await tx.sendOffsets({ consumerGroupId: group, topics });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => {});
      throw err;
    }
  }

  private async checkpoint(group: string): Promise<{ transactions: number; labels: number }> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const topics = [this.opts.topic, ...(this.opts.labelsTopic ? [this.opts.labelsTopic] : [])];
      const res = await admin.fetchOffsets({ groupId: group, topics });
      const at = (topic: string) => {
        const p = res.find((r) => r.topic === topic)?.partitions.find((x) => x.partition === 0);
        const n = p ? Number(p.offset) : -1;
        return Math.max(n, 0);
      };
      const cp = { transactions: at(this.opts.topic), labels: this.opts.labelsTopic ? at(this.opts.labelsTopic) : 0 };
      log.info('resuming after checkpoint', { group, ...cp });
      return cp;
    } finally {
      await admin.disconnect();
    }
  }
}

async function sleepUntil(t: number, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const left = t - performance.now();
    if (left <= 0) return;
    await new Promise((r) => setTimeout(r, Math.min(left, 200)));
  }
}

export type { RowFile };
