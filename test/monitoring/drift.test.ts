import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { FEATURE_NAMES, FEATURE_SET, type FeatureName, N_FEATURES } from '../../src/features/feature-names.js';
import { DriftMonitor, PSI_EPSILON, psi } from '../../src/monitoring/drift.js';
import { baselineHistogram, binOf } from '../../src/monitoring/histogram.js';
import { Metrics } from '../../src/monitoring/metrics.js';
import type { ObservedBatch } from '../../src/pipeline/processor.js';
import type { Histogram, Manifest } from '../../src/scoring/manifest.js';
import { normal, rng } from '../../src/simulate/random.js';

const BATCH = 256;

/** A manifest whose every feature and score baseline is the given histogram. */
function manifestWith(h: Histogram, version = '1'): Manifest {
  const features = Object.fromEntries(FEATURE_NAMES.map((f) => [f, h])) as Record<FeatureName, Histogram>;
  return {
    name: 'test',
    format: 'onnx',
    feature_set: FEATURE_SET,
    version,
    description: 'drift test',
    file: 'model.onnx',
    input_name: 'x',
    output_name: 'y',
    features: [...FEATURE_NAMES],
    thresholds: { review: 0.5, decline: 0.9 },
    importance: Object.fromEntries(FEATURE_NAMES.map((f) => [f, 1])) as Record<FeatureName, number>,
    baseline: { features, score: h },
    metrics: {},
    trained_on: {},
  };
}

const constant = (m: Manifest) => () => m;

/** Feeds `count` rows where every column (features and score) is drawn by `draw`. */
function feed(mon: DriftMonitor, count: number, draw: () => number, cause: string | null = null): void {
  const features = new Float32Array(BATCH * N_FEATURES);
  const scores = new Float32Array(BATCH);
  for (let done = 0; done < count; done += BATCH) {
    const n = Math.min(BATCH, count - done);
    for (let i = 0; i < n * N_FEATURES; i++) features[i] = draw();
    for (let i = 0; i < n; i++) scores[i] = draw();
    const b: ObservedBatch = {
      n,
      features,
      scores,
      challengerScores: null,
      cause,
      transactions: [],
      records: [],
    };
    mon.observeBatch(b);
  }
}

/** Standard normal baseline with 10 quantile bins, from a large seeded sample. */
function normalBaseline(): Histogram {
  const rand = rng(1);
  return baselineHistogram(Float64Array.from({ length: 200_000 }, () => normal(rand)));
}

describe('psi()', () => {
  it('is 0 for identical distributions and finite when a bin is empty on either side', () => {
    expect(psi([10, 20, 70], 100, [0.1, 0.2, 0.7])).toBeCloseTo(0, 12);
    const emptyObserved = psi([0, 50, 50], 100, [0.2, 0.4, 0.4]);
    const emptyBaseline = psi([20, 40, 40], 100, [0, 0.5, 0.5]);
    const bothEmpty = psi([0, 50, 50], 100, [0, 0.5, 0.5]);
    for (const v of [emptyObserved, emptyBaseline, bothEmpty]) expect(Number.isFinite(v)).toBe(true);
    expect(bothEmpty).toBeCloseTo(0, 12);
    // ε-floor: an empty baseline bin holding 20 % of the window adds (0.2 − ε)·ln(0.2/ε).
    expect(emptyBaseline).toBeGreaterThan((0.2 - PSI_EPSILON) * Math.log(0.2 / PSI_EPSILON));
    expect(psi([0, 0], 0, [0.5, 0.5])).toBeNaN();
  });

  it('bins like the manifest: [e_i, e_i+1), clamped at both ends', () => {
    const edges = Float64Array.from([0, 1, 2, 3]);
    expect([-5, 0, 0.5, 1, 2.999, 3, 99].map((x) => binOf(edges, x))).toEqual([0, 0, 0, 1, 2, 2, 2]);
  });
});

describe('DriftMonitor', () => {
  const base = normalBaseline();

  it('same distribution → PSI near 0 for every feature and the score', () => {
    const metrics = new Metrics(undefined, { defaultMetrics: false });
    const mon = new DriftMonitor(constant(manifestWith(base)), metrics, { windowSize: 10_000 });
    const rand = rng(2);
    feed(mon, 30_000, () => normal(rand));
    const s = mon.snapshot();
    expect(s.records).toBe(10_000);
    for (const v of s.features) expect(v).toBeLessThan(0.02);
    expect(s.score).toBeLessThan(0.02);
    console.log(
      `[drift] same N(0,1): max feature PSI ${Math.max(...s.features).toFixed(4)}, score ${s.score.toFixed(4)}`,
    );
  });

  it('shifted distribution → PSI above 0.25, and the sliding window forgets the past', () => {
    const metrics = new Metrics(undefined, { defaultMetrics: false });
    const mon = new DriftMonitor(constant(manifestWith(base)), metrics, { windowSize: 5000 });
    const rand = rng(3);
    feed(mon, 5000, () => normal(rand));
    expect(mon.snapshot().score).toBeLessThan(0.02);
    feed(mon, 5000, () => 1 + normal(rand)); // mean shifted by one standard deviation
    const shifted = mon.snapshot();
    for (const v of shifted.features) expect(v).toBeGreaterThan(0.25);
    expect(shifted.score).toBeGreaterThan(0.25);
    feed(mon, 5000, () => normal(rand)); // back to normal: the window holds only recent records
    const back = mon.snapshot();
    expect(back.score).toBeLessThan(0.02);
    console.log(
      `[drift] N(1,1) vs N(0,1): score PSI ${shifted.score.toFixed(3)}; after recovery ${back.score.toFixed(4)}`,
    );
  });

  it('empty baseline bins and out-of-range values give finite PSI', () => {
    // Baseline holds nothing in its two middle bins and nothing above 4; the window puts everything there.
    const h: Histogram = { edges: [0, 1, 2, 3, 4], proportions: [0.5, 0, 0, 0.5] };
    const mon = new DriftMonitor(constant(manifestWith(h)), null, { windowSize: 2000 });
    const rand = rng(4);
    feed(mon, 2000, () => 1 + 2 * rand());
    const s = mon.snapshot();
    for (const v of [...s.features, s.score]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0.25);
    }
    feed(mon, 2000, () => 10 + rand()); // all beyond the last edge: last bin
    expect(Number.isFinite(mon.snapshot().score)).toBe(true);
  });

  it('warm-up: PSI NaN and drift_warm 0 until the warm-up records are past and the window is full', async () => {
    const metrics = new Metrics(undefined, { defaultMetrics: false });
    const mon = new DriftMonitor(constant(manifestWith(base)), metrics, { windowSize: 2000, warmupRecords: 3000 });
    const rand = rng(8);
    // A cold start: the first records are far off the baseline (an empty feature store)...
    feed(mon, 3000, () => 5 + normal(rand));
    expect(mon.snapshot().score).toBeNaN();
    expect(mon.snapshot().records).toBe(0);
    feed(mon, 1500, () => normal(rand));
    expect(mon.snapshot().warm).toBe(false);
    expect(await metrics.registry.metrics()).toMatch(/^fraudscore_drift_warm 0$/m);
    // ...and never reach the window: once warm, the PSI is the clean stream's.
    feed(mon, 500, () => normal(rand));
    expect(mon.snapshot().warm).toBe(true);
    expect(mon.snapshot().score).toBeLessThan(0.02);
    expect(await metrics.registry.metrics()).toMatch(/^fraudscore_drift_warm 1$/m);
  });

  it('help texts say what the baseline is and how long the window is', async () => {
    const metrics = new Metrics(undefined, { defaultMetrics: false, driftWindow: 25_000 });
    const text = await metrics.registry.metrics();
    const help = text.split('\n').find((l) => l.startsWith('# HELP fraudscore_feature_psi '))!;
    expect(help).toContain('the last 25,000 scored records');
    expect(help).toContain('training week');
    expect(text.split('\n').find((l) => l.startsWith('# HELP fraudscore_score_psi '))).toContain('delay week');
  });

  it('publishes gauges; NaN until the window holds minRecords; defaulted rows counted apart', async () => {
    const metrics = new Metrics(undefined, { defaultMetrics: false });
    const mon = new DriftMonitor(constant(manifestWith(base)), metrics, { windowSize: 4000, minRecords: 1000 });
    const rand = rng(5);
    feed(mon, 500, () => normal(rand));
    expect(mon.snapshot().score).toBeNaN();
    feed(mon, 2500, () => normal(rand));
    // A quarter of the window's rows had default features: they count in the share, not in the PSI.
    feed(mon, 1000, () => 42, ErrorCodes.FEATURES_UNAVAILABLE);
    const s = mon.snapshot();
    expect(s.defaultedShare).toBeCloseTo(0.25, 6);
    expect(s.features[0]).toBeLessThan(0.02);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^fraudscore_feature_psi\{feature="amount"\} 0\.0\d+/m);
    expect(text).toMatch(/^fraudscore_score_psi 0\.0\d+/m);
    expect(text).toMatch(/^fraudscore_defaulted_features_ratio 0\.25$/m);
    expect(text).toMatch(/^fraudscore_drift_window_records 4000$/m);
  });

  it('follows a reloaded model: the new baseline applies and the window restarts', () => {
    let manifest = manifestWith(base, '1');
    const mon = new DriftMonitor(() => manifest, null, { windowSize: 3000 });
    const rand = rng(6);
    feed(mon, 3000, () => 2 + normal(rand));
    expect(mon.snapshot().score).toBeGreaterThan(0.25);
    // The new model was trained on the shifted population.
    const r2 = rng(7);
    manifest = manifestWith(baselineHistogram(Float64Array.from({ length: 100_000 }, () => 2 + normal(r2))), '2');
    feed(mon, 3000, () => 2 + normal(rand));
    const s = mon.snapshot();
    expect(s.records).toBe(3000);
    expect(s.score).toBeLessThan(0.02);
  });
});
