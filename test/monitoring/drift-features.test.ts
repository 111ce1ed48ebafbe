// Drift on every feature (issue 16, done-when 1): with baselines built by the one histogram definition
// (src/monitoring/histogram.ts) from a week of simulated traffic — the handbook simulator, features
// from the live FeatureStore code with labels at their reported time, as `fraudscore backfill` does —
// a later, undrifted week keeps every PSI below 0.1, and each of the 15 features drifted alone (the
// others untouched) moves its own PSI above 0.25: binary, categorical counts, quantile amounts and
// the atom-at-zero terminal risks alike.

import { describe, expect, it } from 'vitest';
import { DAY_MS, FEATURE_NAMES, FEATURE_SET, type FeatureName, N_FEATURES } from '../../src/features/feature-names.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import { DriftMonitor } from '../../src/monitoring/drift.js';
import { baselineHistogram } from '../../src/monitoring/histogram.js';
import type { ObservedBatch } from '../../src/pipeline/processor.js';
import type { Histogram, Manifest } from '../../src/scoring/manifest.js';
import { replay } from '../../src/simulate/backfill.js';
import { labelAt, simulate, transactionAt } from '../../src/simulate/handbook.js';
import { rng } from '../../src/simulate/random.js';

const WINDOW = 10_000;
const BATCH = 256;

/** Feature rows of a small handbook simulation, by event day (days since its start). */
async function simulatedRows(): Promise<{ rows: Float32Array; day: Int32Array; n: number }> {
  const sim = simulate({ seed: 16, customers: 800, terminals: 1600, days: 60 });
  const txs = Array.from({ length: sim.n }, (_, i) => transactionAt(sim, i));
  const labels = Array.from({ length: sim.n }, (_, i) => labelAt(sim, i, 7 * DAY_MS));
  const rows = new Float32Array(sim.n * N_FEATURES);
  const day = new Int32Array(sim.n);
  let k = 0;
  await replay(new MemoryFeatureStore(), txs, labels, {
    onBatch: (b, n, features) => {
      rows.set(features.subarray(0, n * N_FEATURES), k * N_FEATURES);
      for (let i = 0; i < n; i++) day[k + i] = Math.floor((b[i]!.event_time - sim.start) / DAY_MS);
      k += n;
    },
  });
  return { rows, day, n: k };
}

function slice(all: { rows: Float32Array; day: Int32Array; n: number }, from: number, to: number): Float32Array {
  const out: number[] = [];
  for (let i = 0; i < all.n; i++) {
    if (all.day[i]! >= from && all.day[i]! < to) {
      for (let c = 0; c < N_FEATURES; c++) out.push(all.rows[i * N_FEATURES + c]!);
    }
  }
  return Float32Array.from(out);
}

function manifestOf(sample: Float32Array): Manifest {
  const n = sample.length / N_FEATURES;
  const features = {} as Record<FeatureName, Histogram>;
  FEATURE_NAMES.forEach((f, c) => {
    features[f] = baselineHistogram(Float64Array.from({ length: n }, (_, i) => sample[i * N_FEATURES + c]!));
  });
  return {
    name: 'drift-features',
    format: 'onnx',
    feature_set: FEATURE_SET,
    version: '1',
    description: 'test',
    file: 'model.onnx',
    input_name: 'x',
    output_name: 'y',
    features: [...FEATURE_NAMES],
    thresholds: { review: 0.5, decline: 0.9 },
    importance: Object.fromEntries(FEATURE_NAMES.map((f) => [f, 1])) as Record<FeatureName, number>,
    baseline: { features, score: { edges: [0, 0.5, 1], proportions: [0.5, 0.5] } },
    metrics: {},
    trained_on: {},
  };
}

/** PSI of every feature of the last WINDOW rows of `rows`. */
function psiOf(manifest: Manifest, rows: Float32Array): Float64Array {
  const mon = new DriftMonitor(() => manifest, null, { windowSize: WINDOW });
  const n = rows.length / N_FEATURES;
  const scores = new Float32Array(BATCH);
  for (let s = 0; s < n; s += BATCH) {
    const m = Math.min(BATCH, n - s);
    const b: ObservedBatch = {
      n: m,
      features: rows.subarray(s * N_FEATURES, (s + m) * N_FEATURES),
      scores,
      challengerScores: null,
      cause: null,
      transactions: [],
      records: [],
    };
    mon.observeBatch(b);
  }
  const snap = mon.snapshot();
  expect(snap.warm).toBe(true);
  return snap.features;
}

/**
 * One realistic shift per feature, applied to that column alone. Binary: 40 % of the rows that were 0
 * become 1 (night-time or weekend fraud waves); counts ×2 (card testing, a terminal's traffic doubling);
 * amounts ×2.5; terminal risk: 15 % of rows at terminals whose reported-fraud share is 0.5; the ratio trace:
 * see below.
 */
function shift(feature: FeatureName, x: number, r: () => number): number {
  if (feature === 'is_night' || feature === 'is_weekend') return x === 0 && r() < 0.4 ? 1 : x;
  if (feature.includes('nb_tx')) return x * 2;
  if (feature.includes('amount')) return x * 2.5;
  if (feature.startsWith('terminal_risk')) return r() < 0.15 ? 0.5 : x;
  // The v2 amount-anomaly features: a wave of compromised cards (15 % of rows gain one high-ratio
  // transaction this week) and of outsized amounts (the largest ratio ×2.5; the amount ratios are 'amount').
  if (feature === 'customer_nb_high_ratio_7d') return r() < 0.15 ? x + 1 : x;
  if (feature === 'customer_max_ratio_7d') return x * 2.5;
  // The v3 terminal recency: a wave of compromised terminals (15 % of rows at a terminal whose recent
  // known transactions were fraud; 25 % for the 0/1 flag, whose baseline already holds some 1s) and terminal
  // traffic doubling (half the gap since a known transaction).
  if (feature === 'terminal_days_since_known_fraud') return r() < 0.15 ? 1 : x;
  if (feature === 'terminal_days_since_known_tx') return x / 2;
  if (feature === 'terminal_known_fraud_last3') return r() < 0.15 ? 3 : x;
  if (feature === 'terminal_last_known_is_fraud') return r() < 0.25 ? 1 : x;
  throw new Error(`no shift for ${feature}`);
}

describe('drift on every feature', () => {
  it('clean week: every PSI < 0.1; each feature drifted alone: its PSI > 0.25, the others unchanged', async () => {
    const all = await simulatedRows();
    // Windows need 30 days of history and terminal risk 7 more (label delay): weeks from day 38.
    const manifest = manifestOf(slice(all, 38, 45));
    const clean = slice(all, 45, 60);
    expect(clean.length / N_FEATURES).toBeGreaterThan(WINDOW);
    // Every baseline has at least two bins: no feature is blind.
    for (const f of FEATURE_NAMES) expect(manifest.baseline.features[f].proportions.length, f).toBeGreaterThan(1);

    const base = psiOf(manifest, clean);
    const lines = [`clean: ${FEATURE_NAMES.map((f, c) => `${f}=${base[c]!.toFixed(3)}`).join(' ')}`];
    for (let c = 0; c < N_FEATURES; c++) expect(base[c], FEATURE_NAMES[c]).toBeLessThan(0.1);

    FEATURE_NAMES.forEach((f, c) => {
      const r = rng(100 + c);
      const drifted = Float32Array.from(clean);
      for (let i = c; i < drifted.length; i += N_FEATURES) drifted[i] = shift(f, drifted[i]!, r);
      const psi = psiOf(manifest, drifted);
      lines.push(`${f} drifted: PSI ${psi[c]!.toFixed(3)}`);
      expect(psi[c], f).toBeGreaterThan(0.25);
      for (let o = 0; o < N_FEATURES; o++) if (o !== c) expect(psi[o]).toBe(base[o]);
    });
    console.log(`[drift-features] ${lines.join('\n  ')}`);
  }, 60_000);
});
