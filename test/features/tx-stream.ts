// A small deterministic stream of transactions and labels for feature-store tests: seeded, in delivery
// order, with fraud labels reported 7 days later, redelivered duplicates, late (out-of-order) events and
// transactions placed exactly on window boundaries.

import { DAY_MS, LABEL_DELAY_DAYS } from '../../src/features/feature-names.js';
import { rng } from '../../src/simulate/random.js';
import type { Label, Transaction } from '../../src/types.js';

export type StreamEvent = { kind: 'tx'; tx: Transaction } | { kind: 'labels'; labels: Label[] };

export interface StreamOptions {
  seed?: number;
  transactions?: number;
  days?: number;
  customers?: number;
  terminals?: number;
  start?: number;
  /** Share of transactions that are redelivered later (default 0.01). */
  duplicateRate?: number;
  /** Share of transactions delivered late, up to 2 days after later ones (default 0.02). */
  lateRate?: number;
  /** How late a late transaction can be delivered (default 2 days). */
  maxLateMs?: number;
  /** Share of transactions reported fraud (default 0.05). */
  fraudRate?: number;
}

export { rng };

const CURRENCIES = ['EUR', 'EUR', 'USD', 'GBP', 'JPY', 'KRW', 'BHD', 'KWD'];

export function txStream(options: StreamOptions = {}): StreamEvent[] {
  const random = rng(options.seed ?? 42);
  const nTx = options.transactions ?? 5000;
  const days = options.days ?? 60;
  const nCustomers = options.customers ?? 200;
  const nTerminals = options.terminals ?? 100;
  const start = options.start ?? Date.UTC(2026, 0, 1);
  const duplicateRate = options.duplicateRate ?? 0.01;
  const lateRate = options.lateRate ?? 0.02;
  const fraudRate = options.fraudRate ?? 0.05;
  const maxLateMs = options.maxLateMs ?? 2 * DAY_MS;
  const int = (n: number) => Math.floor(random() * n);

  const currencyOf = Array.from({ length: nCustomers }, () => CURRENCIES[int(CURRENCIES.length)]);
  const txs: Transaction[] = [];
  for (let i = 0; i < nTx; i++) {
    let customer = int(nCustomers);
    let terminal = int(nTerminals);
    let time = start + int(days * DAY_MS);
    // Some transactions sit exactly on a window boundary of an earlier one (same customer and terminal).
    if (txs.length > 0 && random() < 0.05) {
      const prev = txs[int(txs.length)];
      customer = Number(prev.customer_id.slice(1));
      terminal = Number(prev.terminal_id.slice(1));
      const offsets = [1, 7, 30, 8, 14, 37, 0];
      time = prev.event_time + offsets[int(offsets.length)] * DAY_MS;
    }
    const currency = currencyOf[customer];
    const scale = currency === 'JPY' || currency === 'KRW' ? 100 : currency === 'BHD' || currency === 'KWD' ? 0.1 : 1;
    txs.push({
      transaction_id: `tx-${i}`,
      event_time: time,
      customer_id: `c${customer}`,
      terminal_id: `t${terminal}`,
      amount_minor: Math.max(1, Math.round(Math.exp(random() * 9) * scale)),
      currency,
      mcc: null,
      channel: 'pos',
      country: null,
    });
  }

  type Timed = { at: number; seq: number; event: { kind: 'tx'; tx: Transaction } | { kind: 'label'; label: Label } };
  const timed: Timed[] = [];
  let seq = 0;
  for (const tx of txs) {
    const late = random() < lateRate ? 60_000 + int(maxLateMs) : 0;
    timed.push({ at: tx.event_time + late, seq: seq++, event: { kind: 'tx', tx } });
    if (random() < duplicateRate) {
      timed.push({ at: tx.event_time + late + int(DAY_MS / 4), seq: seq++, event: { kind: 'tx', tx: { ...tx } } });
    }
    const fraud = random() < fraudRate;
    if (fraud || random() < 0.02) {
      const reported = tx.event_time + LABEL_DELAY_DAYS * DAY_MS + int(DAY_MS);
      const label: Label = {
        transaction_id: tx.transaction_id,
        customer_id: tx.customer_id,
        terminal_id: tx.terminal_id,
        event_time: tx.event_time,
        reported_time: reported,
        is_fraud: fraud,
      };
      timed.push({ at: reported, seq: seq++, event: { kind: 'label', label } });
      // A redelivered label.
      if (random() < 0.1) timed.push({ at: reported + int(DAY_MS), seq: seq++, event: { kind: 'label', label } });
    }
  }
  timed.sort((a, b) => a.at - b.at || a.seq - b.seq);

  const events: StreamEvent[] = [];
  for (const { event } of timed) {
    if (event.kind === 'tx') {
      events.push(event);
    } else {
      const last = events[events.length - 1];
      if (last?.kind === 'labels') last.labels.push(event.label);
      else events.push({ kind: 'labels', labels: [event.label] });
    }
  }
  return events;
}

/** Splits a stream into the calls a pipeline would make: enrich batches of varying size and label batches. */
export type StoreCall = { kind: 'enrich'; txs: Transaction[] } | { kind: 'labels'; labels: Label[] };

export function toCalls(events: readonly StreamEvent[], batchSize: (i: number) => number): StoreCall[] {
  const calls: StoreCall[] = [];
  let batch: Transaction[] = [];
  let limit = batchSize(0);
  const flush = () => {
    if (batch.length === 0) return;
    calls.push({ kind: 'enrich', txs: batch });
    batch = [];
    limit = batchSize(calls.length);
  };
  for (const event of events) {
    if (event.kind === 'labels') {
      flush();
      calls.push({ kind: 'labels', labels: event.labels });
    } else {
      batch.push(event.tx);
      if (batch.length >= limit) flush();
    }
  }
  flush();
  return calls;
}
