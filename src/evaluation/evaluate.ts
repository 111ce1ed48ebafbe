// Scores the handbook test week with the real scorers (OnnxScorer / TfjsScorer via loadScorer, the same
// load path `fraudscore run` uses) and computes the detection metrics.

import { readFile } from 'node:fs/promises';
import { N_FEATURES } from '../features/feature-names.js';
import { loadScorer } from '../pipeline/challenger.js';
import type { Manifest } from '../scoring/manifest.js';
import { parseRows, type TrainingRows } from '../simulate/backfill.js';
import {
  aucRoc,
  averagePrecision,
  cardPrecisionAtK,
  fraudAmountShare,
  precisionRecallCurve,
  recallAtFpr,
} from './metrics.js';
import { dateDay, dayIndex, handbookSplit } from './protocol.js';

/** The handbook's published results on its run of this protocol (AUC-ROC, AP, CP@100). */
export const BASELINES = {
  logistic_regression: { auc_roc: 0.871, average_precision: 0.606, card_precision_at_100: 0.291 },
  random_forest: { auc_roc: 0.867, average_precision: 0.658, card_precision_at_100: 0.287 },
  xgboost: { auc_roc: 0.862, average_precision: 0.639, card_precision_at_100: 0.273 },
} as const;

export interface ModelEvaluation {
  model: string;
  format: string;
  auc_roc: number;
  average_precision: number;
  card_precision_at_100: number;
  recall_at_1pct_fpr: number;
  recall_at_5pct_fpr: number;
  review_threshold: number;
  decline_threshold: number;
  fraud_amount_share_at_decline: number;
  precision_at_decline: number;
  recall_at_decline: number;
  fpr_at_decline: number;
  seconds_scoring: number;
}

export interface TestWeek {
  rows: TrainingRows;
  test: number[];
  input: Float32Array;
  y: number[];
  day: number[];
  card: string[];
  amount: number[];
}

export async function loadTestWeek(rowsFile: string, trainStart: string): Promise<TestWeek> {
  const d0 = dateDay(trainStart);
  const rows = parseRows(await readFile(rowsFile, 'utf8'), (t) => {
    const d = dayIndex(t);
    return d >= d0 && d < d0 + 21;
  });
  const { test } = handbookSplit(rows, trainStart);
  const input = new Float32Array(test.length * N_FEATURES);
  test.forEach((i, k) => {
    input.set(rows.features.subarray(i * N_FEATURES, (i + 1) * N_FEATURES), k * N_FEATURES);
  });
  return {
    rows,
    test,
    input,
    y: test.map((i) => rows.isFraud[i]),
    day: test.map((i) => dayIndex(rows.eventTime[i])),
    card: test.map((i) => rows.customerId[i]),
    amount: test.map((i) => rows.amountMinor[i]),
  };
}

/** Scores input with the model in dir (its manifest, or `given`, already validated). */
export async function scoreWith(dir: string, input: Float32Array, maxBatch = 1024, given?: Manifest) {
  const { scorer, manifest } = await loadScorer(dir, maxBatch, given);
  const n = input.length / N_FEATURES;
  const scores = new Float32Array(n);
  const t0 = performance.now();
  try {
    for (let s = 0; s < n; s += maxBatch) {
      const m = Math.min(maxBatch, n - s);
      await scorer.score(input.subarray(s * N_FEATURES, (s + m) * N_FEATURES), m, scores.subarray(s, s + m));
    }
  } finally {
    await scorer.close();
  }
  return { scores, manifest, seconds: (performance.now() - t0) / 1000 };
}

/** What the detection metrics are computed over: one entry per transaction. */
export interface ScoredSet {
  y: ArrayLike<number>;
  scores: ArrayLike<number>;
  /** Day index (UTC) of each transaction's event time, for card precision@k. */
  day: ArrayLike<number>;
  card: readonly string[];
  amount: ArrayLike<number>;
}

export type DetectionMetrics = Omit<ModelEvaluation, 'model' | 'format' | 'seconds_scoring'>;

/**
 * The one implementation of the detection metrics: `fraudscore evaluate` and the backtest report both
 * call it, so the same scores and labels give the same numbers in both.
 */
export function detectionMetrics(set: ScoredSet, thresholds: { review: number; decline: number }): DetectionMetrics {
  const { y, scores } = set;
  const decline = thresholds.decline;
  let tp = 0;
  let fp = 0;
  let pos = 0;
  for (let i = 0; i < y.length; i++) {
    pos += y[i];
    if (scores[i] >= decline) {
      if (y[i] === 1) tp++;
      else fp++;
    }
  }
  return {
    auc_roc: aucRoc(y, scores),
    average_precision: averagePrecision(y, scores),
    card_precision_at_100: cardPrecisionAtK(set.day, set.card, y, scores, 100),
    recall_at_1pct_fpr: recallAtFpr(y, scores, 0.01),
    recall_at_5pct_fpr: recallAtFpr(y, scores, 0.05),
    review_threshold: thresholds.review,
    decline_threshold: decline,
    fraud_amount_share_at_decline: fraudAmountShare(y, scores, set.amount, decline),
    precision_at_decline: tp + fp > 0 ? tp / (tp + fp) : Number.NaN,
    recall_at_decline: pos > 0 ? tp / pos : Number.NaN,
    fpr_at_decline: fp / (y.length - pos),
  };
}

export async function evaluateModel(dir: string, week: TestWeek) {
  const { scores, manifest, seconds } = await scoreWith(dir, week.input);
  const evaluation: ModelEvaluation = {
    model: `${manifest.name}@${manifest.version}`,
    format: manifest.format,
    ...detectionMetrics({ ...week, scores }, manifest.thresholds),
    seconds_scoring: seconds,
  };
  return { evaluation, curve: precisionRecallCurve(week.y, scores) };
}
