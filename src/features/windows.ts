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
  // Found by (time, id): nothing looks a customer's transaction up by id alone.
  readonly tx = new SortedWindow(false);

  // Caches keyed by tx's indices, so that a customer with a long history costs O(log n) per transaction
  // instead of a scan of its whole window (a card an attacker drives hard must not take scoring from
  // everyone else). They give exactly what the scans gave: amounts are integers, so prefix-sum
  // differences are exact, and each ratio is computed by the same formula from the same count and sum.
  //   pre[i] = the sum of the values at indices below i (from the last rebuild), valid for i ≤ preValid;
  //   the ratio trace's r_j (-1 when the customer's sum was 0) in a max segment tree over j, and hc (the
  //   prefix count of r_j > 2.5), both valid for j in [rLow, rValid).
  private pre: number[] = [0];
  private preValid = 0;
  private hc: number[] = [0];
  private rLow = 0;
  private rValid = 0;
  private readonly ratioMax = new MaxTree();
  private readonly changes = { shifted: false, minInserted: 0, maxCut: 0 };

  /** Adds a transaction unless its id is present (idempotent), then trims entries older than t − retainMs. */
  add(t: number, id: string, amountMinor: number, retainMs: number): boolean {
    const added = this.tx.insert(t, id, amountMinor);
    this.tx.trimBefore(t - retainMs);
    return added;
  }

  /** Count and sum of minor units over (t − n d, t], n = 1, 7, 30, into agg[0..6), and the ratio trace into agg[12..14). */
  aggregates(t: number, agg: Float64Array): void {
    this.sync();
    const w = this.tx;
    const end = w.upperBound(t);
    this.extendPrefix(end);
    const pre = this.pre;
    const i1 = w.upperBound(t - DAY_MS);
    const i7 = w.upperBound(t - 7 * DAY_MS);
    const i30 = w.upperBound(t - 30 * DAY_MS);
    agg[0] = end - i1;
    agg[1] = pre[end] - pre[i1];
    agg[2] = end - i7;
    agg[3] = pre[end] - pre[i7];
    agg[4] = end - i30;
    agg[5] = pre[end] - pre[i30];
    this.ratioTrace(i7, end, agg);
  }

  /** Drops what the window's changes since the last call made stale. */
  private sync(): void {
    const w = this.tx;
    const c = this.changes;
    w.takeChanges(c);
    if (c.shifted) {
      this.pre.length = 1;
      this.preValid = 0;
      this.dropRatios();
      return;
    }
    if (c.minInserted !== Number.POSITIVE_INFINITY) {
      // Entries before k are older than every insert: they neither moved nor gained a neighbour.
      const k = w.lowerBound(c.minInserted);
      if (k < this.preValid) this.preValid = k;
      if (k < this.rValid) this.rValid = k;
    }
    if (c.maxCut !== Number.NEGATIVE_INFINITY) {
      // A ratio looks back 30 days: those of entries younger than cut + 30 d lost nothing.
      const k = w.lowerBound(c.maxCut + 30 * DAY_MS);
      if (k > this.rLow) this.rLow = k;
    }
    if (this.rLow >= this.rValid) this.dropRatios();
  }

  private dropRatios(): void {
    this.rLow = 0;
    this.rValid = 0;
  }

  private extendPrefix(end: number): void {
    const w = this.tx;
    const pre = this.pre;
    for (let i = this.preValid; i < end; i++) pre[i + 1] = pre[i] + w.valueAt(i);
    if (end > this.preValid) this.preValid = end;
  }

  /**
   * The 7-day ratio trace into agg[12..14): over the transactions i in (t − 7 d, t] (indices [from, end)),
   * r_i = amount_i / (the customer's mean amount over (t_i − 30 d, t_i]), "the mean at that time": every
   * entry of the log with a time ≤ t_i counts, the transaction itself and any of the same millisecond
   * included, as the log holds them now (so it is a function of the log's entries up to t alone,
   * whatever order they arrived in). agg[12] = how many r_i > 2.5 (compared exactly on integers:
   * 2·a·c > 5·s), agg[13] = max r_i (a·c / s in double; 0 when every sum is 0). Each r_i is computed
   * once and kept until an insert before it or a trim within its look-back makes it stale.
   */
  private ratioTrace(from: number, end: number, agg: Float64Array): void {
    if (from >= end) {
      agg[12] = 0;
      agg[13] = 0;
      return;
    }
    if (from < this.rLow || this.rLow >= this.rValid) {
      // Not cached that far back (or nothing cached): start the cache at `from`.
      this.dropRatios();
      this.rLow = from;
      this.rValid = from;
      this.hc[from] = 0;
    }
    for (let j = this.rValid; j < end; j++) this.pushRatio(j);
    if (end > this.rValid) this.rValid = end;
    agg[12] = this.hc[end] - this.hc[from];
    const max = this.ratioMax.max(from, end);
    agg[13] = max;
  }

  /** Computes r_j (pre must be valid through j's window) and appends it to the caches. */
  private pushRatio(j: number): void {
    const w = this.tx;
    const tj = w.timeAt(j);
    const hi = w.upperBound(tj);
    this.extendPrefix(hi);
    const lo = w.upperBound(tj - 30 * DAY_MS);
    const c = hi - lo;
    const s = this.pre[hi] - this.pre[lo];
    let r = -1;
    let high = 0;
    if (s > 0) {
      const ac = w.valueAt(j) * c;
      if (ac * 2 > s * 5) high = 1;
      r = ac / s;
    }
    this.ratioMax.set(j, r);
    this.hc[j + 1] = this.hc[j] + high;
  }
}

/** Max over index ranges of values ≥ -1, with point updates: O(log n) each (a bottom-up segment tree). */
class MaxTree {
  private cap = 4;
  private tree = new Float64Array(8).fill(-1);

  set(i: number, v: number): void {
    if (i >= this.cap) this.grow(i);
    let k = i + this.cap;
    const t = this.tree;
    t[k] = v;
    for (k >>= 1; k >= 1; k >>= 1) t[k] = Math.max(t[2 * k], t[2 * k + 1]);
  }

  /** max(0, the values at [from, end)). */
  max(from: number, end: number): number {
    const t = this.tree;
    let m = 0;
    let l = from + this.cap;
    let r = end + this.cap;
    while (l < r) {
      if (l & 1) {
        if (t[l] > m) m = t[l];
        l++;
      }
      if (r & 1) {
        r--;
        if (t[r] > m) m = t[r];
      }
      l >>= 1;
      r >>= 1;
    }
    return m;
  }

  private grow(i: number): void {
    let cap = this.cap;
    while (cap <= i) cap *= 2;
    const t = new Float64Array(2 * cap).fill(-1);
    t.set(this.tree.subarray(this.cap, 2 * this.cap), cap);
    for (let k = cap - 1; k >= 1; k--) t[k] = Math.max(t[2 * k], t[2 * k + 1]);
    this.cap = cap;
    this.tree = t;
  }
}

/**
 * A terminal's transactions and fraud reports. A fraud report for transaction X, reported at r, counts
 * for a transaction at t when X.event_time < r ≤ t: a label is known from its reported time on, in event
 * time, whatever order the labels and transactions topics are read in (backfill applies labels exactly
 * so). Reports may arrive before their transaction; they wait in `pending`.
 */
export class TerminalWindow {
  /** No id index: only a fraud report looks a transaction up by id alone (mark: SortedWindow.timeOf). */
  readonly tx = new SortedWindow(false);
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
