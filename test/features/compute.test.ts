import { describe, expect, it } from 'vitest';
import {
  currencyExponent,
  DEFAULT_FEATURES_DOC,
  MAX_LOOKBACK_MS,
  N_AGGREGATES,
  RETAIN_MS,
  writeDefaultFeatures,
  writeFeatures,
} from '../../src/features/compute.js';
import {
  DAY_MS,
  FEATURE_NAMES,
  FEATURE_SET,
  HANDBOOK_FEATURE_COUNT,
  N_FEATURES,
} from '../../src/features/feature-names.js';
import { row, T0, tx } from './store-contract.js';

function features(t: ReturnType<typeof tx>, agg: number[]): number[] {
  const out = new Float32Array(N_FEATURES + 2).fill(-1);
  writeFeatures(t, agg, out, 1);
  expect(out[0]).toBe(-1);
  expect(out[N_FEATURES + 1]).toBe(-1);
  return Array.from(out.subarray(1, N_FEATURES + 1));
}

describe('writeFeatures', () => {
  it('has the 23 features of set v3 (the handbook’s 15 first) and 17 aggregates', () => {
    expect(N_FEATURES).toBe(23);
    expect(FEATURE_NAMES.length).toBe(23);
    expect(FEATURE_SET).toBe('v3');
    expect(FEATURE_NAMES.slice(0, HANDBOOK_FEATURE_COUNT).at(-1)).toBe('terminal_risk_30d');
    expect(FEATURE_NAMES.slice(19)).toEqual([
      'terminal_days_since_known_fraud',
      'terminal_days_since_known_tx',
      'terminal_known_fraud_last3',
      'terminal_last_known_is_fraud',
    ]);
    expect(N_AGGREGATES).toBe(17);
  });

  it('turns counts and minor-unit sums into counts, means and risks, and recency into days', () => {
    const t = tx('a', 'c', 't', T0, 2550);
    const recency = [1.5 * DAY_MS, 0.25 * DAY_MS, 2];
    expect(features(t, [2, 5100, 4, 10_000, 10, 12_345, 3, 1, 8, 2, 20, 0, 1, 3.5, ...recency])).toEqual(
      row(
        25.5,
        0,
        0,
        [2, 25.5, 4, 25, 10, 12.345],
        [3, 1 / 3, 8, 0.25, 20, 0],
        [1.02, 25_500 / 12_345, 1, 3.5],
        [1.5, 0.25, 2, 0],
      ),
    );
  });

  it('says the last known terminal transaction is a fraud when the latest known fraud is at its time', () => {
    const t = tx('a', 'c', 't', T0, 100);
    const last = (sinceFraud: number, sinceTx: number) =>
      features(t, [...new Array(14).fill(0), sinceFraud, sinceTx, 1])[22];
    expect(last(3 * DAY_MS, 3 * DAY_MS)).toBe(1);
    expect(last(0, 0)).toBe(1);
    expect(last(3 * DAY_MS, 2 * DAY_MS)).toBe(0);
    // Nothing known: both at the cap.
    expect(last(30 * DAY_MS, 30 * DAY_MS)).toBe(0);
  });

  it('gives risk 0 and mean 0 for empty windows, and 30 days since anything known at the terminal', () => {
    const t = tx('a', 'c', 't', T0, 100);
    const empty = [...new Array(14).fill(0), 30 * DAY_MS, 30 * DAY_MS, 0];
    expect(features(t, empty).slice(3)).toEqual([...new Array(16).fill(0), 30, 30, 0, 0]);
  });

  it('uses ISO 4217 minor-unit exponents', () => {
    expect([
      currencyExponent('EUR'),
      currencyExponent('JPY'),
      currencyExponent('KRW'),
      currencyExponent('ISK'),
    ]).toEqual([2, 0, 0, 0]);
    expect(['BHD', 'KWD', 'OMR', 'JOD', 'TND', 'IQD', 'LYD'].map(currencyExponent)).toEqual(new Array(7).fill(3));
    expect(currencyExponent('XYZ')).toBe(2);
    const agg = [1, 1234, 1, 1234, 2, 2469, 0, 0, 0, 0, 0, 0, 0, 1, 30 * DAY_MS, 30 * DAY_MS, 0];
    expect(features(tx('a', 'c', 't', T0, 1234, 'JPY'), agg).slice(0, 9)).toEqual(
      row(1234, 0, 0, [1, 1234, 1, 1234, 2, 1234.5], []),
    );
    expect(features(tx('a', 'c', 't', T0, 1234, 'KWD'), agg).slice(0, 9)).toEqual(
      row(1.234, 0, 0, [1, 1.234, 1, 1.234, 2, 1.2345], []),
    );
    expect(features(tx('a', 'c', 't', T0, 1234, 'USD'), agg)[0]).toBe(Math.fround(12.34));
  });

  it('marks Saturday and Sunday (UTC) as weekend and hours 0..6 (UTC) as night', () => {
    const zero = new Array(17).fill(0);
    const flags = (time: number) => features(tx('a', 'c', 't', time, 1), zero).slice(1, 3);
    expect(flags(Date.UTC(2026, 0, 9, 23, 59, 59, 999))).toEqual([0, 0]); // Friday 23:59
    expect(flags(Date.UTC(2026, 0, 10, 0, 0))).toEqual([1, 1]); // Saturday 00:00
    expect(flags(Date.UTC(2026, 0, 10, 6, 59, 59, 999))).toEqual([1, 1]); // Saturday 06:59
    expect(flags(Date.UTC(2026, 0, 10, 7, 0))).toEqual([1, 0]); // Saturday 07:00
    expect(flags(Date.UTC(2026, 0, 11, 23, 59))).toEqual([1, 0]); // Sunday 23:59
    expect(flags(Date.UTC(2026, 0, 12, 3, 0))).toEqual([0, 1]); // Monday 03:00
    expect(flags(Date.UTC(1969, 11, 27, 5, 0))).toEqual([1, 1]); // a Saturday before the epoch
    // Every hour of a fortnight agrees with Date's UTC calendar.
    for (let h = 0; h < 14 * 24; h++) {
      const time = T0 + h * 3_600_000 + 1234;
      const d = new Date(time);
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6 ? 1 : 0;
      expect(flags(time)).toEqual([weekend, d.getUTCHours() <= 6 ? 1 : 0]);
    }
  });
});

describe('writeDefaultFeatures', () => {
  it('writes the documented degraded vector', () => {
    const out = new Float32Array(2 * N_FEATURES);
    writeDefaultFeatures(tx('a', 'c', 't', Date.UTC(2026, 0, 11, 2), 999, 'EUR'), out, N_FEATURES);
    expect(Array.from(out.subarray(N_FEATURES))).toEqual(
      row(9.99, 1, 1, [1, 9.99, 1, 9.99, 1, 9.99], [0, 0, 0, 0, 0, 0], [1, 1, 0, 1], [30, 30, 0, 0]),
    );
    expect(Array.from(out.subarray(0, N_FEATURES))).toEqual(new Array(N_FEATURES).fill(0));
    expect(DEFAULT_FEATURES_DOC).toMatch(/count 1, mean amount = amount/);
  });

  it('equals what a store with no history computes', () => {
    const t = tx('a', 'c', 't', T0, 4321, 'BHD');
    const a = new Float32Array(N_FEATURES);
    const b = new Float32Array(N_FEATURES);
    writeDefaultFeatures(t, a, 0);
    writeFeatures(t, [1, 4321, 1, 4321, 1, 4321, 0, 0, 0, 0, 0, 0, 0, 1, 30 * DAY_MS, 30 * DAY_MS, 0], b, 0);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('retention', () => {
  it('keeps the longest look-back (7 + 30 days) plus a day of slack', () => {
    expect(MAX_LOOKBACK_MS).toBe(37 * DAY_MS);
    expect(RETAIN_MS).toBe(38 * DAY_MS);
  });
});
