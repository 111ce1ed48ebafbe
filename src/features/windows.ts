// One customer's and one terminal's window state, and the 17 aggregates of compute.ts read from it. The
// in-memory store and the Redis store's scorer-side cache both use these classes, so for the same
// sequence of operations they return the same aggregates by construction.

import { DAY_MS, LABEL_DELAY_DAYS } from './feature-names.js';
import { SortedWindow } from './sorted-window.js';

const DELAY_MS = LABEL_DELAY_DAYS * DAY_MS;
/** What the terminal recency aggregates say when the 30-day known window holds nothing to measure from. */
export const KNOWN_RECENCY_CAP_MS = 30 * DAY_MS;

/** A customer's transactions (value = amount in minor units). */
export class CustomerWindow {
  readonly tx = new SortedWindow();

  /** Adds a transaction unless its id is present (idempotent), then trims entries older than t − retainMs. */
  add(t: number, id: string, amountMinor: number, retainMs: number): boolean {
    const added = this.tx.insert(t, id, amountMinor);
    this.tx.trimBefore(t - retainMs);
    return added;
  }

  /** Count and sum of minor units over (t − n d, t], n = 1, 7, 30, into agg[0..6), and the ratio trace into agg[12..14). */
  aggregates(t: number, agg: Float64Array): void {
    const w = this.tx;
    const lo1 = t - DAY_MS;
    const lo7 = t - 7 * DAY_MS;
    let c1 = 0;
    let s1 = 0;
    let c7 = 0;
    let s7 = 0;
    let c30 = 0;
    let s30 = 0;
    const end = w.upperBound(t);
    for (let i = w.upperBound(t - 30 * DAY_MS); i < end; i++) {
      const ts = w.timeAt(i);
      const a = w.valueAt(i);
      c30++;
      s30 += a;
      if (ts > lo7) {
        c7++;
        s7 += a;
        if (ts > lo1) {
          c1++;
          s1 += a;
        }
      }
    }
    agg[0] = c1;
    agg[1] = s1;
    agg[2] = c7;
    agg[3] = s7;
    agg[4] = c30;
    agg[5] = s30;
    this.ratioTrace(t, agg);
  }

  /**
   * The 7-day ratio trace into agg[12..14): over the transactions i in (t − 7 d, t], r_i = amount_i /
   * (the customer's mean amount over (t_i − 30 d, t_i]), "the mean at that time": every entry of the
   * log with a time ≤ t_i counts, the transaction itself and any of the same millisecond included,
   * as the log holds them now (so it is a function of the log's entries up to t alone, whatever order
   * they arrived in). agg[12] = how many r_i > 2.5 (compared exactly on integers: 2·a·c > 5·s),
   * agg[13] = max r_i (a·c / s in double; 0 when every sum is 0). Two pointers over the sorted log:
   * O(entries in 37 days), no allocation.
   */
  private ratioTrace(t: number, agg: Float64Array): void {
    const w = this.tx;
    const end = w.upperBound(t);
    let i = w.upperBound(t - 7 * DAY_MS);
    if (i >= end) {
      agg[12] = 0;
      agg[13] = 0;
      return;
    }
    let lo = w.upperBound(w.timeAt(i) - 30 * DAY_MS);
    let hi = lo;
    let c = 0;
    let s = 0;
    let high = 0;
    let max = 0;
    for (; i < end; i++) {
      const ti = w.timeAt(i);
      while (hi < end && w.timeAt(hi) <= ti) {
        s += w.valueAt(hi);
        c++;
        hi++;
      }
      const cut = ti - 30 * DAY_MS;
      while (w.timeAt(lo) <= cut) {
        s -= w.valueAt(lo);
        c--;
        lo++;
      }
      if (s <= 0) continue;
      const ac = w.valueAt(i) * c;
      if (ac * 2 > s * 5) high++;
      const r = ac / s;
      if (r > max) max = r;
    }
    agg[12] = high;
    agg[13] = max;
  }
}

/**
 * A terminal's transactions and fraud reports. A fraud report for transaction X, reported at r, counts
 * for a transaction at t when X.event_time < r ≤ t: a label is known from its reported time on, in event
 * time, whatever order the labels and transactions topics are read in (backfill applies labels exactly
 * so). Reports may arrive before their transaction; they wait in `pending`.
 */
export class TerminalWindow {
  readonly tx = new SortedWindow();
  /** Reported-fraud transactions: time = the transaction's event time, value = reported time. */
  readonly fraud = new SortedWindow();
  /** Reports whose transaction is not (yet) here: time = reported time. */
  readonly pending = new SortedWindow();

  /** Adds a transaction unless its id is present, then trims entries older than t − retainMs. */
  add(t: number, id: string, retainMs: number): boolean {
    const added = this.tx.insert(t, id);
    if (added) {
      const r = this.pending.timeOf(id);
      if (r !== undefined && t < r) this.fraud.insert(t, id, r);
    }
    const cut = t - retainMs;
    this.tx.trimBefore(cut);
    this.fraud.trimBefore(cut);
    this.pending.trimBefore(cut);
    return added;
  }

  /** Adds a transaction another writer logged (no trimming: that follows this member's own event times). */
  insertSeen(t: number, id: string): void {
    if (!this.tx.insert(t, id)) return;
    const r = this.pending.timeOf(id);
    if (r !== undefined && t < r) this.fraud.insert(t, id, r);
  }

  /** Records a fraud report (idempotent: the first report of a transaction stands). */
  mark(id: string, reportedTime: number): void {
    if (this.fraud.has(id)) return;
    const t = this.tx.timeOf(id);
    if (t === undefined) this.pending.insert(reportedTime, id);
    else if (t < reportedTime) this.fraud.insert(t, id, reportedTime);
  }

  /**
   * Over the terminal's known past (t − 7 d − n d, t − 7 d], n = 1, 7, 30: count and fraud count into
   * agg[6..12). And how recent what is known is, over the 30-day window (hi = t − 7 d), into agg[14..17):
   * agg[14] = hi − the latest known fraud's event time, agg[15] = hi − the latest transaction's event
   * time (both in ms, KNOWN_RECENCY_CAP_MS when there is none), agg[16] = how many known frauds are at or
   * after the terminal's 3rd-latest transaction time (all of the window with fewer than 3). A compromised
   * terminal's recent known transactions are all fraud, which a day-long window of a terminal with about
   * one transaction a day often misses. Only entry times are compared, never their order within one
   * millisecond, so the answer does not depend on the order the entries arrived in.
   */
  aggregates(t: number, agg: Float64Array): void {
    const hi = t - DELAY_MS;
    const tx = this.tx;
    agg[6] = tx.count(hi - DAY_MS, hi);
    agg[8] = tx.count(hi - 7 * DAY_MS, hi);
    const lo30 = hi - 30 * DAY_MS;
    const txStart = tx.upperBound(lo30);
    const txEnd = tx.upperBound(hi);
    agg[10] = txEnd - txStart;
    agg[15] = txEnd > txStart ? hi - tx.timeAt(txEnd - 1) : KNOWN_RECENCY_CAP_MS;
    const since3 = txEnd - txStart >= 3 ? tx.timeAt(txEnd - 3) : Number.NEGATIVE_INFINITY;
    const f = this.fraud;
    const lo1 = hi - DAY_MS;
    const lo7 = hi - 7 * DAY_MS;
    let f1 = 0;
    let f7 = 0;
    let f30 = 0;
    let last3 = 0;
    let latest = Number.NEGATIVE_INFINITY;
    const end = f.upperBound(hi);
    for (let i = f.upperBound(lo30); i < end; i++) {
      if (f.valueAt(i) > t) continue;
      f30++;
      const ts = f.timeAt(i);
      latest = ts;
      if (ts >= since3) last3++;
      if (ts > lo7) {
        f7++;
        if (ts > lo1) f1++;
      }
    }
    agg[7] = f1;
    agg[9] = f7;
    agg[11] = f30;
    agg[14] = f30 > 0 ? hi - latest : KNOWN_RECENCY_CAP_MS;
    agg[16] = last3;
  }
}
