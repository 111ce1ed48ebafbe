// Drift baselines of a model manifest, from the backfill's rows, with the one histogram definition
// (src/monitoring/histogram.ts) that the live drift windows are binned with: every feature over the
// training week, the score over the delay week (rows the model never trained on, known at training
// time without their labels). Rewrites only manifest.baseline and trained_on.baseline; the model and
// everything else stay as they are.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { scoreWith } from '../evaluation/evaluate.js';
import { dateDay, dayIndex } from '../evaluation/protocol.js';
import { FEATURE_NAMES, type FeatureName, N_FEATURES } from '../features/feature-names.js';
import { baselineHistogram } from '../monitoring/histogram.js';
import { type Histogram, MANIFEST_FILE, type Manifest, validateManifest } from '../scoring/manifest.js';
import type { TrainingRows } from '../simulate/backfill.js';

export interface Baselines {
  features: Record<FeatureName, Histogram>;
  score: Histogram;
}

/** Row indices whose event day lies in [d0 + fromDay, d0 + toDay). */
export function daysOf(rows: TrainingRows, trainStart: string, fromDay: number, toDay: number): number[] {
  const d0 = dateDay(trainStart);
  const out: number[] = [];
  for (let i = 0; i < rows.n; i++) {
    const d = dayIndex(rows.eventTime[i]!);
    if (d >= d0 + fromDay && d < d0 + toDay) out.push(i);
  }
  return out;
}

/** Feature histograms over the given rows. */
export function featureBaselines(rows: TrainingRows, idx: readonly number[]): Record<FeatureName, Histogram> {
  const col = new Float64Array(idx.length);
  const out = {} as Record<FeatureName, Histogram>;
  FEATURE_NAMES.forEach((name, f) => {
    for (let k = 0; k < idx.length; k++) col[k] = rows.features[idx[k]! * N_FEATURES + f]!;
    out[name] = baselineHistogram(col);
  });
  return out;
}

/** Rows gathered into one Float32Array (model input). */
export function gatherFeatures(rows: TrainingRows, idx: readonly number[]): Float32Array {
  const x = new Float32Array(idx.length * N_FEATURES);
  idx.forEach((i, k) => {
    x.set(rows.features.subarray(i * N_FEATURES, (i + 1) * N_FEATURES), k * N_FEATURES);
  });
  return x;
}

/** The training week of a manifest (trained_on.protocol.train[0]), or undefined. */
export function trainStartOf(m: Manifest): string | undefined {
  const p = m.trained_on['protocol'] as { train?: unknown[] } | undefined;
  const t = p?.train?.[0];
  return typeof t === 'string' ? t : undefined;
}

/** Baselines for the model in `modelDir` (scored with its own scorer), written into its manifest. */
export async function writeBaselines(
  rows: TrainingRows,
  modelDir: string,
  trainStart?: string,
): Promise<{ baselines: Baselines; train: number; delay: number }> {
  const file = path.join(modelDir, MANIFEST_FILE);
  const raw = JSON.parse(await readFile(file, 'utf8')) as Manifest;
  const start = trainStart ?? trainStartOf(raw);
  if (start === undefined) throw new Error(`${file}: no trained_on.protocol.train; pass --train-start`);
  const train = daysOf(rows, start, 0, 7);
  const delay = daysOf(rows, start, 7, 14);
  if (train.length === 0 || delay.length === 0) {
    throw new Error(`the rows hold no training week (${start} +7 d) or delay week; backfill the simulation first`);
  }
  const features = featureBaselines(rows, train);
  // train.py writes its manifest with `baseline: null` for this step to fill, and a scorer loads only
  // from a valid manifest: score with this one, its feature baselines in and a provisional score bin.
  const provisional = validateManifest(
    { ...raw, baseline: { features, score: { edges: [0, 1], proportions: [1] } } },
    file,
  );
  const { scores } = await scoreWith(modelDir, gatherFeatures(rows, delay), 1024, provisional);
  const baselines: Baselines = {
    features,
    score: baselineHistogram(Float64Array.from(scores, (s) => Math.min(1, Math.max(0, s)))),
  };
  raw.baseline = baselines;
  raw.trained_on['baseline'] = {
    code: 'src/monitoring/histogram.ts (fraudscore baselines)',
    features: `training week ${start} +7 days (${train.length} rows)`,
    score: `delay week, the 7 days after it, unlabelled at training time (${delay.length} rows)`,
    kinds: 'categorical (a bin per value) up to 10 distinct values, else 10 quantile bins with a bin per atom',
  };
  await writeFile(file, `${JSON.stringify(raw, null, 2)}\n`);
  return { baselines, train: train.length, delay: delay.length };
}
