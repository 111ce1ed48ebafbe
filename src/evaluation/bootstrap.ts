// Card-level paired bootstrap of the difference between two models' detection metrics on one test week.
//
// A resample draws the test week's cards with replacement; a card drawn m times contributes m copies of
// all its transactions. Every model is scored on the same resamples, so the interval is that of the
// difference. The three metrics are computed with the resample's multiplicities as integer weights, which
// gives exactly the metric of the resampled data set, without building it: with every weight 1 they equal
// aucRoc, averagePrecision and cardPrecisionAtK (metrics.ts), and a test checks that.

import { rng } from '../simulate/random.js';

export const METRICS = ['auc_roc', 'average_precision', 'card_precision_at_100'] as const;
export type MetricName = (typeof METRICS)[number];
export type MetricValues = Record<MetricName, number>;

export interface TestSet {
  y: ArrayLike<number>;
  /** Day index (UTC) of each transaction, for card precision@k. */
  day: ArrayLike<number>;
  card: readonly string[];
}

/** One model's scores, arranged once so that each resample is a linear pass. */
interface Prepared {
  /** Transaction indices by score, descending. */
  order: Int32Array;
  /** order[k] ends a run of equal scores. */
  groupEnd: Uint8Array;
  /** Per test day, in day order: the day's cards by (highest score desc, card id asc), and their label. */
  days: { cards: Int32Array; fraud: Uint8Array }[];
}

function prepare(set: TestSet, cardIndex: Int32Array, cardIds: readonly string[], scores: ArrayLike<number>): Prepared {
  const n = set.y.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const order = Int32Array.from(idx);
  const groupEnd = new Uint8Array(n);
  for (let k = 0; k < n; k++) groupEnd[k] = k === n - 1 || scores[order[k + 1]] !== scores[order[k]] ? 1 : 0;
  const byDay = new Map<number, Map<number, { score: number; fraud: boolean }>>();
  for (let i = 0; i < n; i++) {
    let cards = byDay.get(set.day[i]);
    if (cards === undefined) {
      cards = new Map();
      byDay.set(set.day[i], cards);
    }
    const c = cards.get(cardIndex[i]);
    if (c === undefined) cards.set(cardIndex[i], { score: scores[i], fraud: set.y[i] === 1 });
    else {
      c.score = Math.max(c.score, scores[i]);
      c.fraud ||= set.y[i] === 1;
    }
  }
  const days = [...byDay.keys()]
    .sort((a, b) => a - b)
    .map((d) => {
      const ranked = [...byDay.get(d)!.entries()].sort(
        (a, b) => b[1].score - a[1].score || (cardIds[a[0]] < cardIds[b[0]] ? -1 : 1),
      );
      return {
        cards: Int32Array.from(ranked.map(([c]) => c)),
        fraud: Uint8Array.from(ranked.map(([, v]) => (v.fraud ? 1 : 0))),
      };
    });
  return { order, groupEnd, days };
}

/** AUC-ROC, AP (scikit-learn's definition) and CP@k of one model on the data set given by card multiplicities. */
function weightedMetrics(
  p: Prepared,
  y: ArrayLike<number>,
  cardIndex: Int32Array,
  copies: Int32Array,
  detected: Int32Array,
  k: number,
): MetricValues {
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < y.length; i++) {
    const w = copies[cardIndex[i]];
    if (y[i] === 1) pos += w;
    else neg += w;
  }
  let tp = 0;
  let fp = 0;
  let prevTp = 0;
  let prevFp = 0;
  let area = 0;
  let ap = 0;
  for (let j = 0; j < p.order.length; j++) {
    const i = p.order[j];
    const w = copies[cardIndex[i]];
    if (y[i] === 1) tp += w;
    else fp += w;
    if (p.groupEnd[j] === 1 && (tp !== prevTp || fp !== prevFp)) {
      area += ((fp - prevFp) * (tp + prevTp)) / 2;
      ap += ((tp - prevTp) / pos) * (tp / (tp + fp));
      prevTp = tp;
      prevFp = fp;
    }
  }
  detected.fill(0);
  let sum = 0;
  for (const day of p.days) {
    let taken = 0;
    let hits = 0;
    for (let r = 0; r < day.cards.length && taken < k; r++) {
      const c = day.cards[r];
      const available = copies[c] - detected[c];
      if (available <= 0) continue;
      const take = Math.min(available, k - taken);
      taken += take;
      if (day.fraud[r] === 1) {
        hits += take;
        detected[c] += take;
      }
    }
    sum += hits / k;
  }
  return {
    auc_roc: pos > 0 && neg > 0 ? area / (pos * neg) : Number.NaN,
    average_precision: pos > 0 ? ap : Number.NaN,
    card_precision_at_100: p.days.length > 0 ? sum / p.days.length : Number.NaN,
  };
}

export interface Interval {
  /** The difference on the test week itself (champion − baseline). */
  value: number;
  /** Percentile bootstrap interval. */
  low: number;
  high: number;
}

export interface PairedBootstrap {
  /** Every model's metrics on the test week itself (all multiplicities 1). */
  metrics: Record<string, MetricValues>;
  /** For each other model: champion − it, per metric, with its interval. */
  difference: Record<string, Record<MetricName, Interval>>;
  /** The resampled differences, resample by resample (for intervals over several draws). */
  resampled: Record<string, Record<MetricName, Float64Array>>;
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  // Linear interpolation between order statistics (numpy's default).
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function percentileInterval(values: Float64Array, level = 0.95): { low: number; high: number } {
  const s = Float64Array.from(values).sort();
  return { low: quantile(s, (1 - level) / 2), high: quantile(s, 1 - (1 - level) / 2) };
}

/**
 * `scores.champion` against every other entry of `scores`, on `resamples` card-level resamples drawn with
 * a PRNG seeded by `seed` (the same seed gives the same intervals).
 */
export function pairedBootstrap(
  set: TestSet,
  scores: Record<string, ArrayLike<number>>,
  o: { resamples: number; seed: number; k?: number; level?: number },
): PairedBootstrap {
  const k = o.k ?? 100;
  if (!('champion' in scores)) throw new Error('pairedBootstrap needs a "champion" entry');
  const ids = new Map<string, number>();
  const cardIndex = new Int32Array(set.card.length);
  for (let i = 0; i < set.card.length; i++) {
    let c = ids.get(set.card[i]);
    if (c === undefined) {
      c = ids.size;
      ids.set(set.card[i], c);
    }
    cardIndex[i] = c;
  }
  const cardIds = [...ids.keys()];
  const nCards = cardIds.length;
  const names = Object.keys(scores);
  const prepared = Object.fromEntries(names.map((m) => [m, prepare(set, cardIndex, cardIds, scores[m])]));
  const copies = new Int32Array(nCards);
  const detected = new Int32Array(nCards);

  copies.fill(1);
  const metrics = Object.fromEntries(
    names.map((m) => [m, weightedMetrics(prepared[m], set.y, cardIndex, copies, detected, k)]),
  );
  const others = names.filter((m) => m !== 'champion');
  const resampled: PairedBootstrap['resampled'] = Object.fromEntries(
    others.map((m) => [m, Object.fromEntries(METRICS.map((x) => [x, new Float64Array(o.resamples)]))]),
  ) as PairedBootstrap['resampled'];
  const rand = rng(o.seed);
  for (let b = 0; b < o.resamples; b++) {
    copies.fill(0);
    for (let j = 0; j < nCards; j++) copies[Math.floor(rand() * nCards)]++;
    const champ = weightedMetrics(prepared['champion'], set.y, cardIndex, copies, detected, k);
    for (const m of others) {
      const r = weightedMetrics(prepared[m], set.y, cardIndex, copies, detected, k);
      for (const x of METRICS) resampled[m][x][b] = champ[x] - r[x];
    }
  }
  const difference: PairedBootstrap['difference'] = {};
  for (const m of others) {
    difference[m] = Object.fromEntries(
      METRICS.map((x) => [
        x,
        { value: metrics['champion'][x] - metrics[m][x], ...percentileInterval(resampled[m][x], o.level) },
      ]),
    ) as Record<MetricName, Interval>;
  }
  return { metrics, difference, resampled };
}
