// The one place that turns window aggregates into the feature vector (FEATURE_SET v3). Both stores
// return the same 17 aggregates (counts and sums of minor units, the ratio trace's count and max, and the
// terminal's known-recency times, all from windows.ts), so dividing here, once, in JS gives bit-identical
// Float32 vectors whatever store produced them.

import type { Transaction } from '../types.js';
import { DAY_MS, LABEL_DELAY_DAYS, WINDOW_DAYS } from './feature-names.js';
import { KNOWN_RECENCY_CAP_MS } from './windows.js';

/**
 * Layout of the 17 window aggregates both stores produce for one transaction:
 * [cust count 1d, cust sum-minor 1d, cust count 7d, cust sum-minor 7d, cust count 30d, cust sum-minor 30d,
 *  term count 1d, term fraud count 1d, term count 7d, term fraud count 7d, term count 30d, term fraud count 30d,
 *  cust high-ratio count 7d, cust max ratio 7d,
 *  term ms since the latest known fraud, term ms since the latest known tx, term known frauds among the last 3].
 * Customer windows are (t − n d, t] (current transaction included); terminal windows are
 * (t − 7 d − n d, t − 7 d]. The ratio trace (CustomerWindow.ratioTrace) looks at each of the customer's
 * transactions in (t − 7 d, t] against the customer's 30-day mean at that transaction's time.
 * The terminal recency aggregates (TerminalWindow.aggregates) measure from hi = t − 7 d back into
 * (hi − 30 d, hi], 30 days when there is nothing there.
 */
export const N_AGGREGATES = 17;

/**
 * The longest look-back any feature needs: the 30-day terminal window ending 7 days back, and the
 * customer's 30-day mean at a transaction up to 7 days back (both 37 days).
 */
export const MAX_LOOKBACK_MS = (LABEL_DELAY_DAYS + WINDOW_DAYS[WINDOW_DAYS.length - 1]) * DAY_MS;
/** Window entries older than (event time − RETAIN_MS) are trimmed: the longest look-back plus one day of slack. */
export const RETAIN_MS = MAX_LOOKBACK_MS + DAY_MS;

/**
 * What `writeDefaultFeatures` writes when the feature store is unavailable (the record is then decided
 * with these and marked degraded with ErrorCodes.FEATURES_UNAVAILABLE).
 */
export const DEFAULT_FEATURES_DOC =
  'Degraded (feature store unavailable) defaults: amount, is_weekend and is_night are computed from the ' +
  'transaction itself; every customer window is filled as if this were the customer’s only transaction ' +
  '(count 1, mean amount = amount, amount ratios 1, no high-ratio transaction, max ratio 1; ratios 0 ' +
  'for a zero amount); every terminal window is empty (count 0, risk 0; 30 days since a known fraud and ' +
  'since a known transaction, no known fraud among the last 3, the last known transaction not a fraud).';

// ISO 4217 minor-unit exponents that are not 2. Unknown or absent currencies use 2.
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};
const SCALES: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(EXPONENTS).map(([code, exp]) => [code, 10 ** exp]),
);

/** ISO 4217 minor-unit exponent of `currency` (2 when unknown). */
export function currencyExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/** 10^exponent(currency): what minor units are divided by to give major units. */
export function currencyScale(currency: string): number {
  return SCALES[currency] ?? 100;
}

const HOUR_MS = 3_600_000;

function writeCalendar(tx: Transaction, scale: number, out: Float32Array, offset: number): void {
  const t = tx.event_time;
  const day = Math.floor(t / DAY_MS);
  // 1970-01-01 was a Thursday: (day + 4) mod 7 is the UTC weekday with Sunday = 0.
  const weekday = (((day + 4) % 7) + 7) % 7;
  const hour = Math.floor((t - day * DAY_MS) / HOUR_MS);
  out[offset] = tx.amount_minor / scale;
  out[offset + 1] = weekday === 0 || weekday === 6 ? 1 : 0;
  out[offset + 2] = hour <= 6 ? 1 : 0;
}

/**
 * Writes tx's features (FEATURE_NAMES order) into out[offset .. offset + N_FEATURES) from its 17 window
 * aggregates read at agg[aggOffset ..] (layout: see N_AGGREGATES). The ratios amount / customer mean
 * are amount_minor · count / sum in double (0 when the sum is 0), so the currency scale cancels. The
 * terminal's last known transaction is a fraud when the latest known fraud is at the latest known
 * transaction's time (a comparison of times, so it does not depend on arrival order within a millisecond).
 */
export function writeFeatures(
  tx: Transaction,
  agg: ArrayLike<number>,
  out: Float32Array,
  offset: number,
  aggOffset = 0,
): void {
  const scale = currencyScale(tx.currency);
  writeCalendar(tx, scale, out, offset);
  let o = offset + 3;
  let a = aggOffset;
  for (let w = 0; w < 3; w++, o += 2, a += 2) {
    const count = agg[a];
    out[o] = count;
    // Mean in major units; sum / count first so both stores round in the same order.
    out[o + 1] = count > 0 ? agg[a + 1] / count / scale : 0;
  }
  for (let w = 0; w < 3; w++, o += 2, a += 2) {
    const count = agg[a];
    out[o] = count;
    out[o + 1] = count > 0 ? agg[a + 1] / count : 0;
  }
  const s7 = agg[aggOffset + 3];
  const s30 = agg[aggOffset + 5];
  out[o] = s7 > 0 ? (tx.amount_minor * agg[aggOffset + 2]) / s7 : 0;
  out[o + 1] = s30 > 0 ? (tx.amount_minor * agg[aggOffset + 4]) / s30 : 0;
  out[o + 2] = agg[aggOffset + 12];
  out[o + 3] = agg[aggOffset + 13];
  const sinceFraud = agg[aggOffset + 14];
  const sinceTx = agg[aggOffset + 15];
  out[o + 4] = sinceFraud / DAY_MS;
  out[o + 5] = sinceTx / DAY_MS;
  out[o + 6] = agg[aggOffset + 16];
  out[o + 7] = sinceTx < KNOWN_RECENCY_CAP_MS && sinceFraud === sinceTx ? 1 : 0;
}

/**
 * The degraded vector (see DEFAULT_FEATURES_DOC): customer windows as if this were the customer's only
 * transaction (count 1, mean = amount, ratios 1), terminal windows empty (count 0, risk 0, recency 30 days).
 */
export function writeDefaultFeatures(tx: Transaction, out: Float32Array, offset: number): void {
  const scale = currencyScale(tx.currency);
  writeCalendar(tx, scale, out, offset);
  const amount = tx.amount_minor / scale;
  for (let i = 3; i < 9; i += 2) {
    out[offset + i] = 1;
    out[offset + i + 1] = amount;
  }
  for (let i = 9; i < 15; i++) out[offset + i] = 0;
  const ratio = tx.amount_minor > 0 ? 1 : 0;
  out[offset + 15] = ratio;
  out[offset + 16] = ratio;
  out[offset + 17] = 0;
  out[offset + 18] = ratio;
  out[offset + 19] = KNOWN_RECENCY_CAP_MS / DAY_MS;
  out[offset + 20] = KNOWN_RECENCY_CAP_MS / DAY_MS;
  out[offset + 21] = 0;
  out[offset + 22] = 0;
}
