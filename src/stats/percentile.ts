// The one percentile of the project (run summaries, backtests, benchmarks): nearest rank, so every
// reported value is one that was observed and p100 is the maximum.

/**
 * The q-quantile (q in [0, 1]) of ascending-sorted values by the nearest-rank method: the smallest
 * value with at least q of the sample at or below it. NaN for an empty sample.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number;
}
