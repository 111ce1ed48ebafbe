// Builds models/placeholder/{model.onnx,manifest.json} with no Python: a hand-weighted logistic model
// encoded as ONNX by src/scoring/onnx-builder.ts, plus training-style baseline histograms drawn from a
// seeded synthetic sample. Deterministic: the same code gives the same bytes on every run and machine.
//
//   npm run build && node dist/scripts/build-placeholder-model.js [outDir]   (default: models/placeholder)
//
// Feature units follow the feature store: amounts in major currency units, counts as counts, risks as
// shares in [0,1], is_weekend / is_night as 0/1.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FEATURE_NAMES, FEATURE_SET, type FeatureName, N_FEATURES } from '../src/features/feature-names.js';
import type { Histogram, Manifest } from '../src/scoring/manifest.js';
import { logisticModel } from '../src/scoring/onnx-builder.js';
import { rng } from '../src/simulate/random.js';

export const PLACEHOLDER_VERSION = '0.1.0';
export const SAMPLE_SEED = 20261129;
export const SAMPLE_SIZE = 20_000;
export const BINS = 10;

/**
 * Hand-chosen weights on standardised features (z = (x − mean) / std of the synthetic sample).
 * The signs carry the domain knowledge; magnitudes are judgement, not fitted:
 *  - amount up and the customer's 30-day average down: an amount high against the customer's habit;
 *  - is_night: card-not-present fraud clusters at night;
 *  - customer_nb_tx_1d / avg_amount_1d up, nb_tx_30d down: a burst of (large) transactions today
 *    on a card that is usually quiet;
 *  - terminal_risk_*: a terminal with recent fraud reports is likely compromised (7 d weighted most:
 *    the handbook's compromised terminals stay compromised for about four weeks);
 *  - terminal volumes and is_weekend: near zero, they say little on their own.
 * Risk weights are small because a risk is 0 for most terminals, so one report is many standard
 * deviations. The bias puts about 1.5 % of the synthetic sample (2 % fraud-like) above the review
 * threshold and 0.8 % above decline.
 */
export const PLACEHOLDER_WEIGHTS: Readonly<Record<FeatureName, number>> = {
  amount: 1.2,
  is_weekend: 0.05,
  is_night: 0.6,
  customer_nb_tx_1d: 0.5,
  customer_avg_amount_1d: 0.3,
  customer_nb_tx_7d: 0.1,
  customer_avg_amount_7d: -0.2,
  customer_nb_tx_30d: -0.2,
  customer_avg_amount_30d: -0.9,
  terminal_nb_tx_1d: 0,
  terminal_risk_1d: 0.15,
  terminal_nb_tx_7d: 0,
  terminal_risk_7d: 0.24,
  terminal_nb_tx_30d: -0.05,
  terminal_risk_30d: 0.18,
  // The v2 amount-anomaly features carry no hand weight: the placeholder predates them.
  amount_to_customer_avg_7d: 0,
  amount_to_customer_avg_30d: 0,
  customer_nb_high_ratio_7d: 0,
  customer_max_ratio_7d: 0,
  // Nor do the v3 terminal recency features.
  terminal_days_since_known_fraud: 0,
  terminal_days_since_known_tx: 0,
  terminal_known_fraud_last3: 0,
  terminal_last_known_is_fraud: 0,
};
export const PLACEHOLDER_BIAS = -5;
export const PLACEHOLDER_THRESHOLDS = { review: 0.3, decline: 0.7 } as const;

export interface LogisticParams {
  mean: Float32Array;
  scale: Float32Array;
  weights: Float32Array;
  bias: number;
}

function normal(rand: () => number): number {
  // Box–Muller; 1 − u keeps log() away from 0.
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function poisson(rand: () => number, lambda: number): number {
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rand)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

function binomial(rand: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rand() < p) k++;
  return k;
}

/**
 * Plausible feature vectors in the spirit of the Fraud Detection Handbook's simulator: customers spend
 * N(μ, μ/2) with μ ~ U(5, 100) and make U(0, 4) transactions a day; 2 % of rows are fraud-like
 * (amount ×3, more often at night, on a compromised terminal).
 */
export function syntheticSample(seed = SAMPLE_SEED, size = SAMPLE_SIZE): Float32Array {
  const rand = rng(seed); // mulberry32: the same sample, hence the same histograms, everywhere
  const rows = new Float32Array(size * N_FEATURES);
  for (let r = 0; r < size; r++) {
    const fraud = rand() < 0.02;
    const mu = 5 + 95 * rand();
    const perDay = 4 * rand();
    const compromised = fraud ? rand() < 0.6 : rand() < 0.03;
    const pTerminal = compromised ? 0.3 + 0.5 * rand() : 0.002;
    const terminalPerDay = 2 + 18 * rand();
    let amount = Math.abs(mu + (mu / 2) * normal(rand));
    if (fraud) amount *= 3;
    const v = rows.subarray(r * N_FEATURES, (r + 1) * N_FEATURES);
    v[0] = Math.round(amount * 100) / 100;
    v[1] = rand() < 2 / 7 ? 1 : 0;
    v[2] = rand() < (fraud ? 0.35 : 0.1) ? 1 : 0;
    let k = 3;
    for (const days of [1, 7, 30]) {
      const n = 1 + poisson(rand, perDay * days * (fraud && days === 1 ? 2 : 1));
      v[k++] = n;
      v[k++] = Math.max(0.01, mu + ((mu / 2) * normal(rand)) / Math.sqrt(n));
    }
    for (const days of [1, 7, 30]) {
      const n = poisson(rand, terminalPerDay * days);
      v[k++] = n;
      v[k++] = n === 0 ? 0 : binomial(rand, n, pTerminal) / n;
    }
    // The v2 ratios follow from the columns above (no extra draws: the v1 columns stay as they were).
    v[15] = v[0]! / v[6]!;
    v[16] = v[0]! / v[8]!;
    v[17] = v[16]! > 2.5 ? 1 : 0;
    v[18] = Math.max(1, v[16]!);
    // The v3 terminal recency, also from the 30-day terminal columns: mean gaps, capped at 30 days.
    const frauds30 = v[13]! * v[14]!;
    v[19] = frauds30 > 0 ? Math.min(30, 30 / frauds30) : 30;
    v[20] = v[13]! > 0 ? Math.min(30, 30 / v[13]!) : 30;
    v[21] = Math.round(Math.min(3, v[13]!) * v[14]!);
    v[22] = v[14]! > 0.5 ? 1 : 0;
  }
  return rows;
}

/** Column means and standard deviations of the sample (std floored at 1e-6), as float32. */
export function standardisation(sample: Float32Array): { mean: Float32Array; scale: Float32Array } {
  const n = sample.length / N_FEATURES;
  const mean = new Float64Array(N_FEATURES);
  const sq = new Float64Array(N_FEATURES);
  for (let r = 0; r < n; r++) for (let j = 0; j < N_FEATURES; j++) mean[j] += sample[r * N_FEATURES + j]!;
  for (let j = 0; j < N_FEATURES; j++) mean[j] /= n;
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < N_FEATURES; j++) {
      const d = sample[r * N_FEATURES + j]! - mean[j]!;
      sq[j] += d * d;
    }
  }
  const scale = new Float32Array(N_FEATURES);
  for (let j = 0; j < N_FEATURES; j++) scale[j] = Math.max(1e-6, round6(Math.sqrt(sq[j]! / n)));
  return { mean: Float32Array.from(mean, round6), scale };
}

/** Six significant digits: readable JSON, and exact enough for histograms and standardisation. */
function round6(x: number): number {
  return Number(x.toPrecision(6));
}

/** The model's math in JS (float64 on the float32 parameters), for baselines and tests. */
export function logisticScore(p: LogisticParams, x: ArrayLike<number>, offset = 0): number {
  let logit = p.bias;
  for (let j = 0; j < N_FEATURES; j++) logit += ((x[offset + j]! - p.mean[j]!) / p.scale[j]!) * p.weights[j]!;
  return 1 / (1 + Math.exp(-logit));
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * BINS bins: quantile edges when they are all distinct (continuous features), else equal-width edges
 * over the range (binary and mostly-zero features). `range` pins the outer edges (e.g. [0,1] for scores).
 */
export function histogram(values: Float64Array, range?: readonly [number, number]): Histogram {
  const sorted = Float64Array.from(values).sort();
  const lo = range?.[0] ?? round6(sorted[0]!);
  const hi = range?.[1] ?? round6(sorted[sorted.length - 1]!);
  let edges = Array.from({ length: BINS + 1 }, (_, i) =>
    i === 0 ? lo : i === BINS ? hi : round6(quantile(sorted, i / BINS)),
  );
  if (edges.some((e, i) => i > 0 && !(e > edges[i - 1]!))) {
    const top = hi > lo ? hi : lo + 1;
    edges = Array.from({ length: BINS + 1 }, (_, i) => round6(lo + ((top - lo) * i) / BINS));
  }
  const counts = new Array<number>(BINS).fill(0);
  for (const v of values) {
    // Bins are [e_i, e_i+1); the last bin also holds its upper edge.
    let b = 0;
    while (b < BINS - 1 && v >= edges[b + 1]!) b++;
    counts[b]!++;
  }
  return { edges, proportions: counts.map((c) => c / values.length) };
}

export interface PlaceholderOptions {
  version?: string;
  weights?: Readonly<Record<FeatureName, number>>;
  bias?: number;
}

/** The model bytes, manifest and parameters; pure (no I/O). */
export function placeholderArtifacts(opts: PlaceholderOptions = {}): {
  model: Uint8Array;
  manifest: Manifest;
  params: LogisticParams;
} {
  const version = opts.version ?? PLACEHOLDER_VERSION;
  const w = opts.weights ?? PLACEHOLDER_WEIGHTS;
  const sample = syntheticSample();
  const { mean, scale } = standardisation(sample);
  const params: LogisticParams = {
    mean,
    scale,
    weights: Float32Array.from(FEATURE_NAMES, (f) => w[f]),
    bias: Math.fround(opts.bias ?? PLACEHOLDER_BIAS),
  };
  const model = logisticModel({
    ...params,
    producerVersion: version,
    docString: 'fraudscore placeholder: hand-weighted logistic regression on standardised features',
    metadata: { fraudscore_model: 'placeholder', fraudscore_version: version },
  });

  const n = sample.length / N_FEATURES;
  const column = new Float64Array(n);
  const features = {} as Record<FeatureName, Histogram>;
  FEATURE_NAMES.forEach((f, j) => {
    for (let r = 0; r < n; r++) column[r] = sample[r * N_FEATURES + j]!;
    features[f] = histogram(column);
  });
  const scores = new Float64Array(n);
  let review = 0;
  let decline = 0;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const s = logisticScore(params, sample, r * N_FEATURES);
    scores[r] = s;
    sum += s;
    if (s >= PLACEHOLDER_THRESHOLDS.decline) decline++;
    else if (s >= PLACEHOLDER_THRESHOLDS.review) review++;
  }
  const totalAbs = FEATURE_NAMES.reduce((a, f) => a + Math.abs(w[f]), 0);
  const importance = {} as Record<FeatureName, number>;
  for (const f of FEATURE_NAMES) importance[f] = round6(Math.abs(w[f]) / totalAbs);

  const manifest: Manifest = {
    name: 'placeholder',
    format: 'onnx',
    version,
    placeholder: true,
    description:
      'PLACEHOLDER, not a trained model: a hand-weighted logistic regression on standardised features, ' +
      'built by scripts/build-placeholder-model.ts, in service until the trained LightGBM champion lands. ' +
      'Its scores rank plausibly but are not calibrated fraud probabilities.',
    file: 'model.onnx',
    input_name: 'features',
    output_name: 'score',
    feature_set: FEATURE_SET,
    features: [...FEATURE_NAMES],
    thresholds: { ...PLACEHOLDER_THRESHOLDS },
    importance,
    baseline: { features, score: histogram(scores, [0, 1]) },
    metrics: {
      synthetic_mean_score: round6(sum / n),
      synthetic_share_review: round6(review / n),
      synthetic_share_decline: round6(decline / n),
    },
    trained_on: {
      data: `none: weights set by hand; baselines from a seeded synthetic sample (seed ${SAMPLE_SEED}, n ${SAMPLE_SIZE})`,
      code: 'scripts/build-placeholder-model.ts',
      code_version: version,
      date: 'n/a (deterministic build)',
    },
  };
  return { model, manifest, params };
}

export function manifestJson(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Writes model.onnx and manifest.json into outDir. */
export async function buildPlaceholderModel(outDir: string, opts: PlaceholderOptions = {}): Promise<Manifest> {
  const { model, manifest } = placeholderArtifacts(opts);
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'model.onnx'), model);
  await writeFile(path.join(outDir, 'manifest.json'), manifestJson(manifest));
  return manifest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outDir = path.resolve(process.argv[2] ?? 'models/placeholder');
  const m = await buildPlaceholderModel(outDir);
  console.log(
    `wrote ${outDir}/model.onnx and manifest.json (version ${m.version}); metrics ${JSON.stringify(m.metrics)}`,
  );
}
