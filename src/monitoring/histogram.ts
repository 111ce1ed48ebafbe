// The one histogram definition of fraudscore's drift measure. Baselines in a model manifest are built
// by baselineHistogram() (`fraudscore baselines`, `fraudscore train-challenger`; training/train.py calls
// the former), and live windows are binned by binOf() on the same edges, so training and serving can
// never disagree on what a bin is.
//
// Bins are [e_i, e_i+1); a value below the first edge counts in the first bin, a value at or above the
// last edge in the last bin. Two kinds of baseline:
//
// - categorical, when the sample has at most MAX_CATEGORIES distinct values (is_weekend, is_night,
//   small counts): one bin per value, edges half-way between neighbours. A constant sample gets a
//   second, empty bin just above its value, so any shift away from it still shows.
// - quantile, otherwise: every value holding at least 1/bins of the sample (an atom, e.g. the zero of
//   terminal_risk_1d for terminals without reported fraud) gets a bin of its own, [v, just above v), and
//   the remaining values are cut at their own quantiles into the remaining bins. Deduplicated deciles
//   used to collapse such a feature into one bin of proportion 1, whose PSI is always 0.

import type { Histogram } from '../scoring/manifest.js';

export const BASELINE_BINS = 10;
export const MAX_CATEGORIES = 10;

/** Ring/marker value for "not binned" (NaN input). */
export const NO_BIN = 0xffff;

/** Index of the bin holding x: [e_i, e_i+1), clamped to the first and last bins; NO_BIN for NaN. */
export function binOf(edges: ArrayLike<number>, x: number): number {
  if (Number.isNaN(x)) return NO_BIN;
  if (!(x >= edges[0]!)) return 0;
  // Largest i with edges[i] <= x (binary search), then clamp to 0 .. bins − 1.
  let lo = 0;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (edges[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return Math.min(lo, edges.length - 2);
}

export interface HistogramOptions {
  /** Target number of bins of a quantile baseline (default 10). */
  bins?: number;
  /** At most this many distinct values make a categorical baseline (default 10). */
  maxCategories?: number;
}

/** Bin edges for a sample (see the header): categorical or quantile-with-atoms. */
export function baselineEdges(values: ArrayLike<number>, opts: HistogramOptions = {}): number[] {
  const bins = opts.bins ?? BASELINE_BINS;
  const maxCategories = opts.maxCategories ?? MAX_CATEGORIES;
  const v = Float64Array.from(values)
    .filter((x) => !Number.isNaN(x))
    .sort();
  const n = v.length;
  if (n === 0) throw new RangeError('a baseline needs at least one value');
  // Distinct values and their counts.
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (distinct.length > 0 && distinct[distinct.length - 1] === v[i]) counts[counts.length - 1]!++;
    else {
      distinct.push(v[i]!);
      counts.push(1);
    }
  }
  const k = distinct.length;
  if (k === 1) {
    // The value's own bin, then "anything above it".
    const x = distinct[0]!;
    return [x, justAbove(x), x + Math.max(1, Math.abs(x))];
  }
  if (k <= maxCategories) {
    const edges = [distinct[0]!];
    for (let i = 1; i < k; i++) edges.push(between(distinct[i - 1]!, distinct[i]!));
    edges.push(distinct[k - 1]! + (distinct[k - 1]! - edges[k - 1]!) * 2);
    return edges;
  }
  const cuts = new Set<number>([distinct[0]!]);
  const rest: number[] = [];
  let atoms = 0;
  const isAtom = (i: number) => i < k && counts[i]! * bins >= n;
  for (let i = 0; i < k; i++) {
    if (isAtom(i)) {
      atoms++;
      cuts.add(distinct[i]!);
      // Up to the next value when that is an atom too (no empty bin between neighbouring atoms).
      if (i + 1 < k) cuts.add(isAtom(i + 1) ? distinct[i + 1]! : Math.min(justAbove(distinct[i]!), distinct[i + 1]!));
    } else for (let c = 0; c < counts[i]!; c++) rest.push(distinct[i]!);
  }
  const restBins = Math.max(1, bins - atoms);
  for (let j = 1; j < restBins && rest.length > 0; j++) cuts.add(rest[Math.floor((j * rest.length) / restBins)]!);
  const edges = [...cuts].sort((a, b) => a - b);
  const top = distinct[k - 1]!;
  const last = edges[edges.length - 1]!;
  edges.push(top > last ? top : last + Math.max(1, Math.abs(last)));
  return edges;
}

/** Counts of a sample in the bins of `edges` (NaN values are not counted). */
export function binCounts(edges: ArrayLike<number>, values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = binOf(edges, values[i]!);
    if (b !== NO_BIN) counts[b]!++;
  }
  return counts;
}

/** A baseline histogram of a sample in the manifest's format: edges and each bin's share. */
export function baselineHistogram(values: ArrayLike<number>, opts: HistogramOptions = {}): Histogram {
  const edges = baselineEdges(values, opts);
  const counts = binCounts(edges, values);
  const total = counts.reduce((a, b) => a + b, 0);
  // Shares rounded to 8 decimals (readable manifests); the largest absorbs the rounding so they sum to 1.
  const proportions = counts.map((c) => Math.round((c / total) * 1e8) / 1e8);
  const sum = proportions.reduce((a, b) => a + b, 0);
  const big = proportions.indexOf(Math.max(...proportions));
  proportions[big] = Math.round((proportions[big]! + 1 - sum) * 1e8) / 1e8;
  return { edges, proportions };
}

/** An edge just above x: its atom's bin is [x, justAbove(x)), i.e. x alone for Float32 features. */
function justAbove(x: number): number {
  return x + Math.max(1, Math.abs(x)) * 2 ** -20;
}

/** Midpoint of two neighbouring category values, strictly between them. */
function between(a: number, b: number): number {
  const m = a + (b - a) / 2;
  return m > a && m < b ? m : b;
}
