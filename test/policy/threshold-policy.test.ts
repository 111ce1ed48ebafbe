import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { FEATURE_NAMES, type FeatureName, N_FEATURES } from '../../src/features/feature-names.js';
import { ThresholdPolicy } from '../../src/policy/threshold-policy.js';
import { loadManifest } from '../../src/scoring/manifest.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models/placeholder');
const manifest = await loadManifest(dir);

/** A row in each feature's training median bin (the lower edge of the bin where the CDF crosses 0.5). */
function typical(values: Partial<Record<FeatureName, number>> = {}): Float32Array {
  const v = new Float32Array(N_FEATURES);
  FEATURE_NAMES.forEach((f, i) => {
    const h = manifest.baseline.features[f];
    let cum = 0;
    let b = 0;
    while (cum + h.proportions[b]! < 0.5) cum += h.proportions[b++]!;
    v[i] = h.edges[b]!;
  });
  v[FEATURE_NAMES.indexOf('is_night')] = 0;
  v[FEATURE_NAMES.indexOf('is_weekend')] = 0;
  for (const k of ['terminal_risk_1d', 'terminal_risk_7d', 'terminal_risk_30d'] as const)
    v[FEATURE_NAMES.indexOf(k)] = 0;
  for (const [k, x] of Object.entries(values)) v[FEATURE_NAMES.indexOf(k as FeatureName)] = x;
  return v;
}

describe('ThresholdPolicy', () => {
  const policy = new ThresholdPolicy(manifest);

  it('maps scores to outcomes with the manifest thresholds', () => {
    const f = typical();
    expect(policy.decide(0, f, 0).outcome).toBe('APPROVE');
    expect(policy.decide(manifest.thresholds.review - 1e-6, f, 0).outcome).toBe('APPROVE');
    expect(policy.decide(manifest.thresholds.review, f, 0).outcome).toBe('REVIEW');
    expect(policy.decide(manifest.thresholds.decline, f, 0).outcome).toBe('DECLINE');
    expect(policy.decide(1, f, 0).outcome).toBe('DECLINE');
  });

  it('returns one shared frozen verdict with no reasons for APPROVE', () => {
    const a = policy.decide(0.01, typical(), 0);
    const b = policy.decide(0.02, typical({ amount: 1e5 }), 0);
    expect(a).toBe(b);
    expect(a.reasons).toEqual([]);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.reasons)).toBe(true);
  });

  it('names the strongest tails: HIGH amount, night, risky terminal, LOW customer average', () => {
    const f = typical({ amount: 1e4, is_night: 1, terminal_risk_7d: 0.9, customer_avg_amount_30d: 0.001 });
    const v = policy.decide(0.95, f, 0);
    expect(v.outcome).toBe('DECLINE');
    expect(v.reasons).toHaveLength(3);
    expect(v.reasons[0]).toBe('amount:HIGH'); // largest importance, beyond the last edge
    expect(v.reasons).toContain('customer_avg_amount_30d:LOW');
    for (const r of v.reasons) expect(r).toMatch(/^[a-z_0-9]+:(HIGH|LOW)$/);
  });

  it('reads the record at its offset', () => {
    const batch = new Float32Array(2 * N_FEATURES);
    batch.set(typical(), 0);
    batch.set(typical({ terminal_risk_7d: 1, terminal_risk_30d: 1, terminal_risk_1d: 1 }), N_FEATURES);
    const v = policy.decide(0.5, batch, N_FEATURES);
    expect(v.outcome).toBe('REVIEW');
    expect(v.reasons).toContain('terminal_risk_7d:HIGH');
    expect(policy.decide(0.5, batch, 0).reasons.some((r) => r.startsWith('terminal_risk_'))).toBe(false);
  });

  it('lets config override the thresholds and rejects inconsistent ones', () => {
    const strict = new ThresholdPolicy(manifest, { thresholds: { review: 0.1 } });
    expect(strict.decide(0.15, typical(), 0).outcome).toBe('REVIEW');
    expect(strict.decline).toBe(manifest.thresholds.decline);
    expect(() => new ThresholdPolicy(manifest, { thresholds: { review: 0.8, decline: 0.5 } })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_CONFIG }),
    );
  });

  it('ignores NaN features and honours maxReasons', () => {
    const one = new ThresholdPolicy(manifest, { maxReasons: 1 });
    const f = typical({ amount: Number.NaN, terminal_risk_7d: 1 });
    const v = one.decide(0.99, f, 0);
    expect(v.reasons).toEqual(['terminal_risk_7d:HIGH']);
  });
});
