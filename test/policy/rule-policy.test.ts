import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, type FeatureName, N_FEATURES } from '../../src/features/feature-names.js';
import { ruleScore } from '../../src/policy/rule-policy.js';

function row(values: Partial<Record<FeatureName, number>>): Float32Array {
  const v = new Float32Array(N_FEATURES);
  v[FEATURE_NAMES.indexOf('amount')] = 50;
  v[FEATURE_NAMES.indexOf('customer_avg_amount_30d')] = 50;
  v[FEATURE_NAMES.indexOf('customer_nb_tx_1d')] = 1;
  for (const [k, x] of Object.entries(values)) v[FEATURE_NAMES.indexOf(k as FeatureName)] = x;
  return v;
}

describe('ruleScore', () => {
  it('is 0 for an ordinary transaction', () => {
    expect(ruleScore(row({}), 0)).toBe(0);
  });

  it('rises with each signal and stays in [0,1]', () => {
    const base = ruleScore(row({ amount: 200 }), 0);
    expect(base).toBeGreaterThan(0);
    expect(ruleScore(row({ amount: 200, is_night: 1 }), 0)).toBeGreaterThan(base);
    expect(ruleScore(row({ amount: 200, terminal_risk_7d: 0.5 }), 0)).toBeGreaterThan(base);
    expect(ruleScore(row({ amount: 200, customer_nb_tx_1d: 8 }), 0)).toBeGreaterThan(base);
    const max = ruleScore(row({ amount: 1e6, is_night: 1, terminal_risk_1d: 1, customer_nb_tx_1d: 50 }), 0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
  });

  it('lands on the documented outcomes against the default thresholds (0.3 / 0.7)', () => {
    const r5x = ruleScore(row({ amount: 250 }), 0);
    expect(r5x).toBeGreaterThanOrEqual(0.3);
    expect(r5x).toBeLessThan(0.7);
    expect(ruleScore(row({ amount: 250, is_night: 1, terminal_risk_30d: 0.5 }), 0)).toBeGreaterThanOrEqual(0.7);
    expect(ruleScore(row({ terminal_risk_1d: 0.9 }), 0)).toBeGreaterThanOrEqual(0.7);
  });

  it('reads the row at its offset and treats NaN as no signal', () => {
    const batch = new Float32Array(2 * N_FEATURES);
    batch.set(row({}), 0);
    batch.set(row({ terminal_risk_1d: 1 }), N_FEATURES);
    expect(ruleScore(batch, 0)).toBe(0);
    expect(ruleScore(batch, N_FEATURES)).toBeCloseTo(0.8, 6);
    expect(ruleScore(row({ terminal_risk_1d: Number.NaN, amount: Number.NaN }), 0)).toBe(0);
  });
});
