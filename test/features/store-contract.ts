// The behaviour every FeatureStore must show, run against the in-memory and the Redis store alike.

import { afterEach, beforeEach, expect, it } from 'vitest';
import { DAY_MS, N_FEATURES } from '../../src/features/feature-names.js';
import type { FeatureStore } from '../../src/features/feature-store.js';
import type { Label, Transaction } from '../../src/types.js';

/** Monday 2026-01-05 12:00 UTC. */
export const T0 = Date.UTC(2026, 0, 5, 12);

export function tx(
  id: string,
  customer: string,
  terminal: string,
  time: number,
  amountMinor: number,
  currency = 'EUR',
): Transaction {
  return {
    transaction_id: id,
    event_time: time,
    customer_id: customer,
    terminal_id: terminal,
    amount_minor: amountMinor,
    currency,
    mcc: null,
    channel: 'pos',
    country: null,
  };
}

export function label(t: Transaction, isFraud = true): Label {
  return {
    transaction_id: t.transaction_id,
    customer_id: t.customer_id,
    terminal_id: t.terminal_id,
    event_time: t.event_time,
    reported_time: t.event_time + 7 * DAY_MS,
    is_fraud: isFraud,
  };
}

/** Enriches txs as one batch and returns each record's features as plain numbers. */
export async function enrichRows(store: FeatureStore, txs: Transaction[]): Promise<number[][]> {
  const out = new Float32Array(txs.length * N_FEATURES);
  const cause = await store.enrich(txs, txs.length, out);
  expect(cause).toBeNull();
  return txs.map((_, i) => Array.from(out.subarray(i * N_FEATURES, (i + 1) * N_FEATURES)));
}

export async function enrichOne(store: FeatureStore, t: Transaction): Promise<number[]> {
  return (await enrichRows(store, [t]))[0];
}

const f = Math.fround;

/** The terminal recency of a terminal with nothing known in its 30-day window (v3's last 4 features). */
export const NO_KNOWN_RECENCY = [30, 30, 0, 0];

/**
 * Expected row: amount, weekend, night, then customer [count, mean]×3, terminal [count, risk]×3, then the
 * ratios [amount / 7-day mean, amount / 30-day mean, high-ratio count 7 d, max ratio 7 d], then the
 * terminal recency [days since a known fraud, days since a known tx, known frauds among the last 3,
 * last known tx is fraud] (default: nothing known, when ratios are given).
 */
export function row(
  amount: number,
  weekend: number,
  night: number,
  cust: number[],
  term: number[],
  ratios: number[] = [],
  recency: number[] = ratios.length > 0 ? NO_KNOWN_RECENCY : [],
): number[] {
  return [amount, weekend, night, ...cust, ...term, ...ratios, ...recency].map(f);
}

export interface StoreHandle {
  store: FeatureStore;
  cleanup?: () => Promise<void>;
}

export function featureStoreContract(make: () => Promise<StoreHandle>): void {
  let handle: StoreHandle;
  let store: FeatureStore;
  beforeEach(async () => {
    handle = await make();
    store = handle.store;
  });
  afterEach(async () => {
    await handle.cleanup?.();
    await store.close();
  });

  it('gives a first transaction count 1, mean = amount, and empty terminal windows', async () => {
    expect(await enrichOne(store, tx('a', 'c1', 't1', T0, 1234))).toEqual(
      row(12.34, 0, 0, [1, 12.34, 1, 12.34, 1, 12.34], [0, 0, 0, 0, 0, 0], [1, 1, 0, 1]),
    );
  });

  it('counts a redelivered transaction once, in separate batches and within one batch', async () => {
    const a = tx('a', 'c1', 't1', T0, 100);
    const first = await enrichOne(store, a);
    expect(await enrichOne(store, { ...a })).toEqual(first);
    const [x, y] = await enrichRows(store, [tx('b', 'c2', 't2', T0, 500), tx('b', 'c2', 't2', T0, 500)]);
    expect(y).toEqual(x);
    expect(x[3]).toBe(1);
    const b = await enrichOne(store, tx('c', 'c1', 't1', T0 + 1000, 300));
    expect(b.slice(3, 9)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('keeps a transaction exactly n days earlier out of the (t − n d, t] customer window', async () => {
    await enrichOne(store, tx('a', 'c1', 't1', T0, 100));
    expect(await enrichOne(store, tx('b', 'c1', 't1', T0 + DAY_MS, 300))).toEqual(
      row(3, 0, 0, [1, 3, 2, 2, 2, 2], [0, 0, 0, 0, 0, 0], [1.5, 1.5, 0, 1.5]),
    );
    await enrichOne(store, tx('c', 'c2', 't1', T0, 100));
    const justInside = await enrichOne(store, tx('d', 'c2', 't1', T0 + DAY_MS - 1, 300));
    expect(justInside.slice(3, 9)).toEqual([2, 2, 2, 2, 2, 2]);
    await enrichOne(store, tx('e', 'c3', 't1', T0, 100));
    const thirty = await enrichOne(store, tx('f', 'c3', 't1', T0 + 30 * DAY_MS, 300));
    expect(thirty.slice(3, 9)).toEqual([1, 3, 1, 3, 1, 3]);
    const seven = await enrichOne(store, tx('g', 'c3', 't1', T0 + 7 * DAY_MS, 500));
    expect(seven.slice(3, 9)).toEqual([1, 5, 1, 5, 2, 3]);
  });

  it('counts terminal transactions and fraud over the delayed (t − 7 d − n d, t − 7 d] windows', async () => {
    const x = tx('x', 'c1', 'T', T0, 100);
    await enrichOne(store, x);
    await store.applyLabels([label(x)]);
    // hi = T0: x is at the window's closed end.
    expect((await enrichOne(store, tx('y', 'c2', 'T', T0 + 7 * DAY_MS, 100))).slice(9, 15)).toEqual([1, 1, 1, 1, 1, 1]);
    // hi = T0 + 1 d: x is exactly 1 day before hi, so out of the 1-day window.
    expect((await enrichOne(store, tx('z', 'c3', 'T', T0 + 8 * DAY_MS, 100))).slice(9, 15)).toEqual([0, 0, 1, 1, 1, 1]);
    // hi = T0 − 1 ms: x is after hi.
    expect((await enrichOne(store, tx('w', 'c4', 'T', T0 + 7 * DAY_MS - 1, 100))).slice(9, 15)).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    // hi = T0 + 30 d: x is out of the 30-day window; y, z, w are in it and not fraud.
    expect((await enrichOne(store, tx('v', 'c5', 'T', T0 + 37 * DAY_MS, 100))).slice(9, 15)).toEqual([
      0, 0, 0, 0, 3, 0,
    ]);
    // Arriving late, hi = T0 + 30 d − 1 ms: x, w, y, z in the 30-day window, one of them fraud.
    expect((await enrichOne(store, tx('u', 'c6', 'T', T0 + 37 * DAY_MS - 1, 100))).slice(9, 15)).toEqual([
      0, 0, 0, 0, 4, 0.25,
    ]);
  });

  it('measures how recent the terminal’s known frauds and transactions are, from t − 7 d back 30 days', async () => {
    const x = tx('x', 'c1', 'T', T0, 100);
    const y = tx('y', 'c2', 'T', T0 + DAY_MS, 100);
    const z = tx('z', 'c3', 'T', T0 + 2 * DAY_MS, 100);
    // w shares z's millisecond and arrives after it: only times count, never the order within one.
    const w = tx('w', 'c4', 'T', T0 + 2 * DAY_MS, 100);
    await enrichRows(store, [x, y, z, w]);
    await store.applyLabels([label(x), label(z)]);
    const recency = async (id: string, time: number) =>
      (await enrichOne(store, tx(id, `q${id}`, 'T', time, 100))).slice(19);
    // hi = T0 + 2 d 6 h: latest known tx and fraud 0.25 d back; the last 3 times are T0 + 1 d, T0 + 2 d
    // twice, of which z is a fraud; a fraud at the latest time, so the last known tx is a fraud.
    expect(await recency('q1', T0 + 9 * DAY_MS + DAY_MS / 4)).toEqual([0.25, 0.25, 1, 1]);
    // hi = T0 + 1 d 12 h: z and w are not known yet; x 1.5 d back is the latest fraud, y the latest tx.
    expect(await recency('q2', T0 + 8 * DAY_MS + DAY_MS / 2)).toEqual([1.5, 0.5, 1, 0]);
    // hi = T0 + 30 d: x is out of the window (T0, T0 + 30 d]; z is the latest fraud, 28 d back; q1 (at
    // T0 + 9.25 d) the latest tx; the 3rd-latest time is T0 + 2 d (z, w), so z counts among the last 3.
    expect(await recency('q3', T0 + 37 * DAY_MS)).toEqual([28, 20.75, 1, 0]);
    // hi = T0 + 32 d: z and w are out too (the window is open at its start); q2 and q1 are left, no fraud.
    expect(await recency('q4', T0 + 39 * DAY_MS)).toEqual([30, 22.75, 0, 0]);
    // The same as q1 where the genuine transaction of the fraud's millisecond arrived first.
    const u = (id: string, time: number) => tx(id, `u${id}`, 'U', time, 100);
    await enrichRows(store, [u('ux', T0), u('uy', T0 + DAY_MS), u('uw', T0 + 2 * DAY_MS), u('uz', T0 + 2 * DAY_MS)]);
    await store.applyLabels([label(u('ux', T0)), label(u('uz', T0 + 2 * DAY_MS))]);
    const u1 = await enrichOne(store, u('u1', T0 + 9 * DAY_MS + DAY_MS / 4));
    expect(u1.slice(19)).toEqual([0.25, 0.25, 1, 1]);
    // A fraud reported after t does not count yet, though its transaction is inside the window.
    const v = tx('v', 'c5', 'V', T0, 100);
    await enrichOne(store, v);
    await store.applyLabels([{ ...label(v), reported_time: T0 + 9 * DAY_MS }]);
    const early = await enrichOne(store, tx('v1', 'c6', 'V', T0 + 8 * DAY_MS, 100));
    expect(early.slice(19)).toEqual([30, 1, 0, 0]);
    const late = await enrichOne(store, tx('v2', 'c7', 'V', T0 + 9 * DAY_MS, 100));
    expect(late.slice(19)).toEqual([2, 2, 1, 1]);
  });

  it('applies labels idempotently, ignores non-fraud labels and labels of unknown transactions', async () => {
    const x = tx('x', 'c1', 'T', T0, 100);
    const y = tx('y', 'c2', 'T', T0 + 1000, 100);
    await enrichRows(store, [x, y]);
    await store.applyLabels([label(x), label(x), label(y, false), label(tx('nope', 'c9', 'T', T0, 1))]);
    await store.applyLabels([label(x)]);
    await store.applyLabels([]);
    const later = await enrichOne(store, tx('z', 'c3', 'T', T0 + 7 * DAY_MS + 1000, 100));
    expect(later.slice(9, 15)).toEqual([2, 0.5, 2, 0.5, 2, 0.5]);
  });

  it('handles out-of-order arrival in event time', async () => {
    await enrichOne(store, tx('p', 'c1', 't1', T0 + 2 * DAY_MS, 100));
    // Earlier in event time: p is in its future, so not counted.
    expect((await enrichOne(store, tx('q', 'c1', 't1', T0, 300))).slice(3, 9)).toEqual([1, 3, 1, 3, 1, 3]);
    const r = await enrichOne(store, tx('r', 'c1', 't1', T0 + 2 * DAY_MS + 1, 500));
    expect(r.slice(3, 9)).toEqual([2, 3, 3, 3, 3, 3]);
  });

  it('traces for 7 days each transaction above 2.5× the customer’s 30-day mean at its own time', async () => {
    // Ten transactions of 10.00 a day apart, then one of 50.00 (the simulator's compromised card: × 5).
    for (let d = 0; d < 10; d++) await enrichOne(store, tx(`n${d}`, 'ck', 't1', T0 + d * DAY_MS, 1000));
    const spike = await enrichOne(store, tx('s', 'ck', 't1', T0 + 10 * DAY_MS, 5000));
    // 7-day window (T0+3d, T0+10d]: 6 × 1000 + 5000 over 7; 30-day: 10 × 1000 + 5000 over 11.
    expect(spike.slice(15, 19)).toEqual([35_000 / 11_000, 55_000 / 15_000, 1, 55_000 / 15_000].map(f));
    // A day later an ordinary 10.00: the spike still counts, judged against the mean at its own time
    // (not today's, which the spike itself raised); today's own ratio is 12 000 / 16 000.
    const after = await enrichOne(store, tx('a', 'ck', 't1', T0 + 11 * DAY_MS, 1000));
    expect(after.slice(15, 19)).toEqual([7000 / 11_000, 12_000 / 16_000, 1, 55_000 / 15_000].map(f));
    // 7 days after `a` (and 8 after the spike) the trace holds only this transaction; the 30-day mean
    // still holds everything: 13 transactions, 17 000.
    const gone = await enrichOne(store, tx('g', 'ck', 't1', T0 + 18 * DAY_MS, 1000));
    expect(gone.slice(15, 19)).toEqual([1, 13_000 / 17_000, 0, 13_000 / 17_000].map(f));
    // Exactly 2.5× is not above: 3 × 1.00 then 5.00, whose mean at its time (itself included) is 2.00.
    for (let i = 0; i < 3; i++) await enrichOne(store, tx(`e${i}`, 'ce', 't1', T0 + i, 100));
    const edge = await enrichOne(store, tx('e3', 'ce', 't1', T0 + 3, 500));
    expect(edge.slice(15, 19)).toEqual([2.5, 2.5, 0, 2.5]);
  });

  it('divides by the currency exponent and computes means in major units', async () => {
    await enrichOne(store, tx('j1', 'cj', 't1', T0, 1000, 'JPY'));
    expect(await enrichOne(store, tx('j2', 'cj', 't1', T0 + 1000, 2001, 'JPY'))).toEqual(
      row(
        2001,
        0,
        0,
        [2, 1500.5, 2, 1500.5, 2, 1500.5],
        [0, 0, 0, 0, 0, 0],
        [4002 / 3001, 4002 / 3001, 0, 4002 / 3001],
      ),
    );
    expect((await enrichOne(store, tx('b1', 'cb', 't1', T0, 1234, 'BHD')))[0]).toBe(f(1.234));
  });

  it('marks weekend and night from the UTC event time', async () => {
    const saturday6 = Date.UTC(2026, 0, 10, 6, 59, 59, 999);
    const sunday7 = Date.UTC(2026, 0, 11, 7);
    const [sat, sun] = await enrichRows(store, [tx('s1', 'c1', 't1', saturday6, 1), tx('s2', 'c2', 't1', sunday7, 1)]);
    expect(sat.slice(1, 3)).toEqual([1, 1]);
    expect(sun.slice(1, 3)).toEqual([1, 0]);
  });

  it('resolves null and writes nothing for an empty batch', async () => {
    const out = new Float32Array(N_FEATURES).fill(7);
    expect(await store.enrich([], 0, out)).toBeNull();
    expect(Array.from(out)).toEqual(new Array(N_FEATURES).fill(7));
    expect(store.isHealthy()).toBe(true);
  });
}
