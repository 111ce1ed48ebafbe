import { describe, expect, it } from 'vitest';
import { writeFeatures } from '../../src/features/compute.js';
import { DAY_MS, N_FEATURES } from '../../src/features/feature-names.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import type { Transaction } from '../../src/types.js';
import { enrichOne, featureStoreContract, T0, tx } from './store-contract.js';
import { txStream } from './tx-stream.js';

describe('MemoryFeatureStore', () => {
  featureStoreContract(async () => ({ store: new MemoryFeatureStore() }));

  it('evicts entries older than the retention relative to the newest event time of the key', async () => {
    const store = new MemoryFeatureStore();
    for (let d = 0; d < 100; d++) await enrichOne(store, tx(`a${d}`, 'c1', 't1', T0 + d * DAY_MS, 100));
    // Retention is 38 days: the entries at T0 + 61 d .. T0 + 99 d remain.
    expect(store.entryCount()).toEqual({ customerEntries: 39, terminalEntries: 39, fraudEntries: 0 });
    const row = await enrichOne(store, tx('late', 'c1', 't1', T0 + 99 * DAY_MS + 1, 100));
    expect(row.slice(3, 9)).toEqual([2, 1, 8, 1, 31, 1]);
    expect(row.slice(9, 15)).toEqual([1, 0, 7, 0, 30, 0]);
    // The terminal's latest known transaction (T0 + 92 d) is 1 ms before hi = T0 + 92 d + 1 ms.
    expect(row.slice(15)).toEqual([1, 1, 0, 1, 30, Math.fround(1 / DAY_MS), 0, 0]);
  });
});

describe('MemoryFeatureStore against a brute-force reference', () => {
  it('matches windows recomputed from the whole history for every record', async () => {
    // Late events at most 12 h late, so retention never matters and the reference needs no trimming.
    const events = txStream({
      seed: 3,
      transactions: 2000,
      days: 45,
      customers: 60,
      terminals: 30,
      maxLateMs: DAY_MS / 2,
    });
    const store = new MemoryFeatureStore();
    const seen = new Map<string, Transaction>();
    // Fraud reports by transaction: a report counts from its reported time on, for an earlier transaction.
    const fraud = new Map<string, number>();
    const agg = new Array<number>(17);
    let high = 0;
    let lastFraud = 0;
    const expected = new Float32Array(N_FEATURES);
    let checked = 0;
    for (const event of events) {
      if (event.kind === 'labels') {
        await store.applyLabels(event.labels);
        for (const l of event.labels)
          if (l.is_fraud && !fraud.has(l.transaction_id)) fraud.set(l.transaction_id, l.reported_time);
        continue;
      }
      const t = event.tx;
      if (!seen.has(t.transaction_id)) seen.set(t.transaction_id, t);
      const actual = await enrichOne(store, t);
      const time = t.event_time;
      const hi = time - 7 * DAY_MS;
      agg.fill(0);
      for (const o of seen.values()) {
        [1, 7, 30].forEach((days, w) => {
          if (o.customer_id === t.customer_id && o.event_time > time - days * DAY_MS && o.event_time <= time) {
            agg[2 * w]++;
            agg[2 * w + 1] += o.amount_minor;
          }
          if (o.terminal_id === t.terminal_id && o.event_time > hi - days * DAY_MS && o.event_time <= hi) {
            agg[6 + 2 * w]++;
            const r = fraud.get(o.transaction_id);
            if (r !== undefined && o.event_time < r && r <= time) agg[7 + 2 * w]++;
          }
        });
      }
      // The ratio trace: each of the customer's transactions in (t − 7 d, t] against the customer's mean
      // over (its time − 30 d, its time], from everything seen so far (late arrivals included).
      let max = 0;
      for (const o of seen.values()) {
        if (o.customer_id !== t.customer_id || o.event_time <= time - 7 * DAY_MS || o.event_time > time) continue;
        let c = 0;
        let s = 0;
        for (const p of seen.values()) {
          if (p.customer_id !== t.customer_id) continue;
          if (p.event_time > o.event_time - 30 * DAY_MS && p.event_time <= o.event_time) {
            c++;
            s += p.amount_minor;
          }
        }
        if (s === 0) continue;
        if (o.amount_minor / (s / c) > 2.5) agg[12]++;
        max = Math.max(max, (o.amount_minor * c) / s);
      }
      agg[13] = max;
      if (agg[12] > 0) high++;
      // Terminal recency over (hi − 30 d, hi]: the latest known fraud, the latest transaction, and the
      // known frauds at or after the 3rd-latest transaction time.
      const times: number[] = [];
      const known: number[] = [];
      for (const o of seen.values()) {
        if (o.terminal_id !== t.terminal_id || o.event_time <= hi - 30 * DAY_MS || o.event_time > hi) continue;
        times.push(o.event_time);
        const r = fraud.get(o.transaction_id);
        if (r !== undefined && o.event_time < r && r <= time) known.push(o.event_time);
      }
      times.sort((a, b) => b - a);
      const since3 = times.length >= 3 ? times[2] : Number.NEGATIVE_INFINITY;
      agg[14] = known.length > 0 ? hi - Math.max(...known) : 30 * DAY_MS;
      agg[15] = times.length > 0 ? hi - times[0] : 30 * DAY_MS;
      agg[16] = known.filter((k) => k >= since3).length;
      if (times.length > 0 && agg[14] === agg[15]) lastFraud++;
      writeFeatures(t, agg, expected, 0);
      expect(actual).toEqual(Array.from(expected));
      checked++;
    }
    expect(checked).toBeGreaterThan(2000);
    expect(high).toBeGreaterThan(20);
    expect(lastFraud).toBeGreaterThan(20);
    expect(fraud.size).toBeGreaterThan(50);
  });
});
