// The backfill's training rows hold, record for record, the features the live path computes with the
// Redis store for the same transactions, labels arriving at their reported time.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/cli/backfill.js';
import { runSimulation } from '../../src/cli/simulate.js';
import { FEATURE_NAMES, N_FEATURES } from '../../src/features/feature-names.js';
import { readContainer } from '../../src/io/avro-file.js';
import { parseRows } from '../../src/simulate/backfill.js';
import { rng } from '../../src/simulate/random.js';
import type { Label, Transaction } from '../../src/types.js';
import { redisStore } from '../features/redis-helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fraudscore-backfill-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('backfill', () => {
  it('gives the same Float32 features as the Redis FeatureStore, record for record', async () => {
    // 200 customers, 400 terminals, 30 days: ~10k transactions; a 3-day label delay so that labels
    // land inside the 30-day terminal windows and the risk features are not all zero.
    const sim = await runSimulation({
      seed: 42,
      customers: 200,
      terminals: 400,
      days: 30,
      labelDelayDays: 3,
      outDir: dir,
    });
    expect(sim.counts.transactions).toBeGreaterThan(3000);
    const out = path.join(dir, 'rows.csv');
    const result = await runBackfill({ transactions: sim.files.transactions, labels: sim.files.labels, out });
    expect(result.rows).toBe(sim.counts.transactions);
    const rows = parseRows(await readFile(out, 'utf8'));
    expect(rows.n).toBe(sim.counts.transactions);

    // The live path, written out independently: transactions in event-time order, in micro-batches of
    // random sizes; every label whose reported_time has come (≤ the next transaction's event time) is
    // applied to the store before that transaction is enriched.
    const txs = await readContainer<Transaction>(sim.files.transactions);
    const labels = await readContainer<Label>(sim.files.labels);
    for (let i = 1; i < txs.length; i++) expect(txs[i].event_time).toBeGreaterThanOrEqual(txs[i - 1].event_time);
    const { store, cleanup } = await redisStore();
    const live = new Float32Array(txs.length * N_FEATURES);
    try {
      const sizes = rng(9);
      let l = 0;
      let i = 0;
      while (i < txs.length) {
        const due: Label[] = [];
        while (l < labels.length && labels[l].reported_time <= txs[i].event_time) due.push(labels[l++]);
        if (due.length > 0) await store.applyLabels(due);
        // The batch runs up to the next label arrival or its random size, whichever comes first.
        let end = i + 1;
        const max = i + 1 + Math.floor(sizes() * 300);
        while (end < txs.length && end < max && !(l < labels.length && labels[l].reported_time <= txs[end].event_time))
          end++;
        const out = live.subarray(i * N_FEATURES, end * N_FEATURES);
        expect(await store.enrich(txs.slice(i, end), end - i, out)).toBeNull();
        i = end;
      }
    } finally {
      await cleanup();
      await store.close();
    }

    const mismatches: string[] = [];
    let nonZeroRisk = 0;
    let highRatio = 0;
    const HIGH = FEATURE_NAMES.indexOf('customer_nb_high_ratio_7d');
    for (let r = 0; r < rows.n; r++) {
      expect(rows.transactionId[r]).toBe(txs[r].transaction_id);
      for (let f = 0; f < N_FEATURES; f++) {
        const a = rows.features[r * N_FEATURES + f];
        const b = live[r * N_FEATURES + f];
        if (f === FEATURE_NAMES.indexOf('terminal_risk_30d') && a > 0) nonZeroRisk++;
        if (f === HIGH && a > 0) highRatio++;
        if (!Object.is(a, b) && mismatches.length < 10) {
          mismatches.push(`${rows.transactionId[r]} ${FEATURE_NAMES[f]}: backfill ${a}, redis ${b}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    // The comparison covers the label-driven features, not just zeros.
    expect(nonZeroRisk).toBeGreaterThan(50);
    // ... and the 7-day ratio trace (every feature of FEATURE_NAMES is compared above).
    expect(highRatio).toBeGreaterThan(50);
  });

  it('writes the same bytes for the same seed, and different bytes for another seed', async () => {
    const a = await runSimulation({ seed: 7, customers: 50, terminals: 100, days: 10, outDir: path.join(dir, 'a') });
    const b = await runSimulation({ seed: 7, customers: 50, terminals: 100, days: 10, outDir: path.join(dir, 'b') });
    const c = await runSimulation({ seed: 8, customers: 50, terminals: 100, days: 10, outDir: path.join(dir, 'c') });
    for (const k of ['transactions', 'labels'] as const) {
      const ba = await readFile(a.files[k]);
      expect(ba.equals(await readFile(b.files[k]))).toBe(true);
      expect(ba.equals(await readFile(c.files[k]))).toBe(false);
    }
    // The files decode to what the simulator produced, one label per transaction, reported 7 days later.
    const txs = await readContainer<Transaction>(a.files.transactions);
    const labels = await readContainer<Label>(a.files.labels);
    expect(txs.length).toBe(a.counts.transactions);
    expect(labels.length).toBe(txs.length);
    expect(labels.filter((x) => x.is_fraud).length).toBe(a.counts.frauds);
    for (let i = 0; i < txs.length; i++) {
      expect(labels[i].transaction_id).toBe(txs[i].transaction_id);
      expect(labels[i].reported_time - txs[i].event_time).toBe(7 * 86_400_000);
    }
  });
});
