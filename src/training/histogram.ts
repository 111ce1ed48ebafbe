// Baseline histograms for the manifest (drift): decile edges, proportions per bin.

import type { Histogram } from '../scoring/manifest.js';

/** Decile edges over [min, max] (duplicates dropped), proportions with the last bin closed. */
export function decileHistogram(values: ArrayLike<number>, bins = 10): Histogram {
  const v = Float64Array.from(values).sort();
  const n = v.length;
  if (n === 0) return { edges: [0, 1], proportions: [1] };
  const lo = v[0];
  const hi = v[n - 1];
  let edges: number[];
  if (!(hi > lo)) edges = [lo, lo + 1];
  else {
    const qs: number[] = [lo];
    for (let b = 1; b < bins; b++) {
      // Linear interpolation between order statistics, as numpy's default quantile.
      const pos = (b / bins) * (n - 1);
      const k = Math.floor(pos);
      qs.push(v[k] + (pos - k) * (v[Math.min(k + 1, n - 1)] - v[k]));
    }
    qs.push(hi);
    edges = [...new Set(qs.map((x) => Number(x.toPrecision(9))))].sort((a, b) => a - b);
    for (let i = 1; i < edges.length; i++) if (!(edges[i] > edges[i - 1])) edges[i] = edges[i - 1] + 1e-9;
  }
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < n; i++) {
    let b = 0;
    while (b < counts.length - 1 && v[i] >= edges[b + 1]) b++;
    counts[b]++;
  }
  const proportions = counts.map((c) => Number((c / n).toFixed(8)));
  const sum = proportions.reduce((a, b) => a + b, 0);
  const big = proportions.indexOf(Math.max(...proportions));
  proportions[big] = Number((proportions[big] + 1 - sum).toFixed(8));
  return { edges, proportions };
}
