import type { Transaction } from '../types.js';
import { normal, rng } from './random.js';

export interface QuickStreamOptions {
  count: number;
  seed: number;
  customers?: number;
  terminals?: number;
  /** Event time of the first transaction (epoch ms). */
  start?: number;
  /** Mean gap between consecutive transactions, in ms. */
  meanGapMs?: number;
  /** Share of transactions from a compromised card: amount ×5 on a fresh terminal. */
  fraudRate?: number;
  /**
   * Drift for tests and demos: from record index `driftFrom` (default 0) on, every amount is multiplied
   * by this factor (default 1, none). Applied after drawing, so the rest of the stream is unchanged.
   */
  amountScale?: number;
  driftFrom?: number;
}

/**
 * A small seeded transaction stream in event-time order, for embedded runs, tests and benchmarks:
 * customers with their own spending level, terminals near them, and a little injected fraud.
 * (The full Fraud Detection Handbook simulator lives in `fraudscore simulate`.)
 */
export function* quickStream(opts: QuickStreamOptions): Generator<Transaction> {
  const rand = rng(opts.seed);
  const nc = opts.customers ?? 500;
  const nt = opts.terminals ?? 1000;
  const meanGap = opts.meanGapMs ?? 60_000;
  const fraudRate = opts.fraudRate ?? 0.01;
  const scale = opts.amountScale ?? 1;
  const driftFrom = opts.driftFrom ?? 0;
  const means = Float64Array.from({ length: nc }, () => 5 + 95 * rand());
  const homes = Int32Array.from({ length: nc }, () => Math.floor(rand() * nt));
  let t = opts.start ?? Date.UTC(2026, 0, 1);
  for (let i = 0; i < opts.count; i++) {
    t += Math.max(1, Math.round(-Math.log(1 - rand()) * meanGap));
    const c = Math.floor(rand() * nc);
    const fraud = rand() < fraudRate;
    let amount = means[c] + (means[c] / 2) * normal(rand);
    if (amount <= 0) amount = rand() * 2 * means[c];
    if (fraud) amount *= 5;
    if (i >= driftFrom) amount *= scale;
    const terminal = fraud ? Math.floor(rand() * nt) : (homes[c] + Math.floor(rand() * 8)) % nt;
    yield {
      transaction_id: `tx-${opts.seed}-${i}`,
      event_time: t,
      customer_id: `c${c}`,
      terminal_id: `t${terminal}`,
      amount_minor: Math.round(amount * 100),
      currency: 'EUR',
      mcc: null,
      channel: rand() < 0.3 ? 'ECOM' : 'POS',
      country: null,
    };
  }
}
