// Backfill: replays transactions and labels through a FeatureStore (the live path's own code) in event
// time, and writes one training row per transaction. No feature is computed anywhere else.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { FEATURE_NAMES, N_FEATURES } from '../features/feature-names.js';
import type { FeatureStore } from '../features/feature-store.js';
import type { Label, Transaction } from '../types.js';

export interface ReplayOptions {
  /** Transactions per enrich() call between label arrivals (default 256, the pipeline's batch size). */
  batchSize?: number;
  /** Called after each enrich() with the batch and its features (n × N_FEATURES); arrays are reused. */
  onBatch: (txs: readonly Transaction[], n: number, features: Float32Array) => void | Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

/** Stable sort by a numeric key, without touching the input. */
function sortedBy<T>(xs: readonly T[], key: (x: T) => number): T[] {
  const idx = Array.from(xs.keys());
  idx.sort((a, b) => key(xs[a]) - key(xs[b]) || a - b);
  return idx.map((i) => xs[i]);
}

/**
 * Feeds transactions to `store` in event-time order (ties: input order) and labels in reported-time
 * order, each label applied before every transaction whose event time is at or after its reported time
 * (a label with reported_time ≤ t is known when the transaction at t is scored), as the live pipeline
 * sees them when the labels topic runs on time.
 */
export async function replay(
  store: FeatureStore,
  transactions: readonly Transaction[],
  labels: readonly Label[],
  opts: ReplayOptions,
): Promise<void> {
  const batchSize = opts.batchSize ?? 256;
  const txs = sortedBy(transactions, (t) => t.event_time);
  const lbs = sortedBy(labels, (l) => l.reported_time);
  const batch: Transaction[] = [];
  const features = new Float32Array(batchSize * N_FEATURES);
  let nextLabel = 0;
  let done = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const cause = await store.enrich(batch, batch.length, features);
    if (cause !== null) throw new Error(`feature store degraded during backfill (${cause})`);
    await opts.onBatch(batch, batch.length, features);
    done += batch.length;
    batch.length = 0;
    opts.onProgress?.(done, txs.length);
  };
  for (const tx of txs) {
    if (nextLabel < lbs.length && lbs[nextLabel].reported_time <= tx.event_time) {
      await flush();
      let end = nextLabel;
      while (end < lbs.length && lbs[end].reported_time <= tx.event_time) end++;
      await store.applyLabels(lbs.slice(nextLabel, end));
      nextLabel = end;
    }
    batch.push(tx);
    if (batch.length === batchSize) await flush();
  }
  await flush();
}

/** The training-set columns after the 15 features. */
export const ROW_COLUMNS = [
  ...FEATURE_NAMES,
  'is_fraud',
  'transaction_id',
  'customer_id',
  'terminal_id',
  'event_time',
  'amount_minor',
] as const;

/**
 * The shortest decimal that reads back (double, then rounded to float32) as exactly `f`: the CSV holds
 * the very Float32 values the live path computes, and pandas (float_precision='round_trip') and
 * Number() both read them back exactly.
 */
export function float32Text(f: number): string {
  if (Number.isInteger(f)) return String(f);
  for (let p = 6; p < 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(Number(f.toPrecision(9)));
}

/** Writes training rows as CSV with a header (ROW_COLUMNS); `end()` resolves when the file is closed. */
export class RowWriter {
  private readonly out;
  private buffer: string[] = [];
  rows = 0;

  constructor(
    path: string,
    private readonly labelOf: (transactionId: string) => boolean | undefined,
  ) {
    this.out = createWriteStream(path);
    this.buffer.push(`${ROW_COLUMNS.join(',')}\n`);
  }

  async write(txs: readonly Transaction[], n: number, features: Float32Array): Promise<void> {
    for (let i = 0; i < n; i++) {
      const tx = txs[i];
      let line = '';
      for (let f = 0; f < N_FEATURES; f++) line += `${float32Text(features[i * N_FEATURES + f])},`;
      const label = this.labelOf(tx.transaction_id);
      line += `${label === undefined ? '' : label ? 1 : 0},${tx.transaction_id},${tx.customer_id},${tx.terminal_id},${tx.event_time},${tx.amount_minor}\n`;
      this.buffer.push(line);
    }
    this.rows += n;
    if (this.buffer.length >= 4096) await this.drain();
  }

  private async drain(): Promise<void> {
    const chunk = this.buffer.join('');
    this.buffer = [];
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async end(): Promise<void> {
    await this.drain();
    this.out.end();
    await once(this.out, 'close');
  }
}

/** Parses a training-set CSV (as RowWriter writes it); features come back as the exact Float32 values. */
export interface TrainingRows {
  n: number;
  features: Float32Array;
  isFraud: Uint8Array;
  transactionId: string[];
  customerId: string[];
  terminalId: string[];
  eventTime: Float64Array;
  amountMinor: Float64Array;
}

export function parseRows(text: string, keep?: (eventTime: number) => boolean): TrainingRows {
  const lines = text.split('\n');
  const header = lines[0].split(',');
  if (header.join(',') !== ROW_COLUMNS.join(',')) throw new Error(`unexpected training-set header: ${lines[0]}`);
  const features: number[] = [];
  const isFraud: number[] = [];
  const transactionId: string[] = [];
  const customerId: string[] = [];
  const terminalId: string[] = [];
  const eventTime: number[] = [];
  const amountMinor: number[] = [];
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l];
    if (line === '') continue;
    const c = line.split(',');
    const t = Number(c[N_FEATURES + 4]);
    if (keep && !keep(t)) continue;
    for (let f = 0; f < N_FEATURES; f++) features.push(Number(c[f]));
    isFraud.push(c[N_FEATURES] === '1' ? 1 : 0);
    transactionId.push(c[N_FEATURES + 1]);
    customerId.push(c[N_FEATURES + 2]);
    terminalId.push(c[N_FEATURES + 3]);
    eventTime.push(t);
    amountMinor.push(Number(c[N_FEATURES + 5]));
  }
  return {
    n: isFraud.length,
    features: Float32Array.from(features),
    isFraud: Uint8Array.from(isFraud),
    transactionId,
    customerId,
    terminalId,
    eventTime: Float64Array.from(eventTime),
    amountMinor: Float64Array.from(amountMinor),
  };
}
