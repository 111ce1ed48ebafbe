import { describe, expect, it } from 'vitest';
import { percentile } from '../../src/stats/percentile.js';

describe('percentile (nearest rank)', () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it('returns observed values: p50 of 1..100 is 50, p99 is 99, p100 the maximum, p0 the minimum', () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('handles small samples and plain arrays', () => {
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.51)).toBe(3);
  });

  it('is NaN for an empty sample', () => {
    expect(percentile([], 0.5)).toBeNaN();
  });
});
