// The one histogram definition (src/monitoring/histogram.ts): categorical for few distinct values,
// quantile bins with an own bin per atom otherwise; never one bin for a feature that varies.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-names.js';
import { psi } from '../../src/monitoring/drift.js';
import { baselineHistogram, binCounts, binOf } from '../../src/monitoring/histogram.js';
import { fromRoot } from '../../src/package-root.js';
import { validateManifest } from '../../src/scoring/manifest.js';
import { rng } from '../../src/simulate/random.js';

const shares = (edges: number[], xs: number[]) => binCounts(edges, xs).map((c) => c / xs.length);

describe('baselineHistogram', () => {
  it('binary feature: one bin per value (the old deciles gave one bin of 1.0)', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => (i < 170 ? 1 : 0));
    const h = baselineHistogram(xs);
    expect(h.proportions).toEqual([0.83, 0.17]);
    expect(binOf(h.edges, 0)).toBe(0);
    expect(binOf(h.edges, 1)).toBe(1);
    // 40 % of the zeros turned night-time: PSI well above 0.25.
    const shifted = xs.map((x, i) => (x === 0 && i % 5 < 2 ? 1 : x));
    expect(psi(binCounts(h.edges, shifted), shifted.length, h.proportions)).toBeGreaterThan(0.25);
  });

  it('an atom (95 % zeros) gets its own bin and the rest quantile bins', () => {
    const r = rng(1);
    const xs = Array.from({ length: 20_000 }, () => (r() < 0.95 ? 0 : r()));
    const h = baselineHistogram(xs);
    expect(h.proportions.length).toBeGreaterThan(5);
    expect(h.proportions[0]).toBeCloseTo(0.95, 2);
    expect(binOf(h.edges, 0)).toBe(0);
    expect(binOf(h.edges, 1e-6)).toBe(1);
  });

  it('continuous: 10 equal-mass bins; a constant: its own bin and an empty one above', () => {
    const r = rng(2);
    const xs = Array.from({ length: 10_000 }, () => r() * 100);
    const h = baselineHistogram(xs);
    expect(h.proportions).toHaveLength(10);
    for (const p of h.proportions) expect(p).toBeCloseTo(0.1, 2);
    const c = baselineHistogram([3, 3, 3]);
    expect(c.proportions).toEqual([1, 0]);
    expect(binOf(c.edges, 3)).toBe(0);
    expect(binOf(c.edges, 3.01)).toBe(1);
  });

  it('the manifest shares are the live binning of the same sample (one definition)', () => {
    const r = rng(3);
    const xs = Array.from({ length: 5000 }, () => Math.floor(r() * 30));
    const h = baselineHistogram(xs);
    const live = shares(h.edges, xs);
    h.proportions.forEach((p, i) => {
      expect(p).toBeCloseTo(live[i]!, 7);
    });
  });
});

describe('committed manifests', () => {
  it.each(['champion', 'challenger'])(
    '%s: every feature has at least two baseline bins; binary ones categorical',
    (m) => {
      const manifest = validateManifest(JSON.parse(readFileSync(fromRoot(`models/${m}/manifest.json`), 'utf8')));
      for (const f of FEATURE_NAMES) expect(manifest.baseline.features[f].proportions.length, f).toBeGreaterThan(1);
      for (const f of ['is_night', 'is_weekend'] as const) {
        expect(manifest.baseline.features[f].edges.map((e) => binOf(manifest.baseline.features[f].edges, e))).toEqual([
          0, 1, 1,
        ]);
      }
      expect(JSON.stringify(manifest.trained_on)).toContain('src/monitoring/histogram.ts');
    },
  );

  it('training/train.py has no histogram of its own: it calls `fraudscore baselines`', () => {
    const py = readFileSync(fromRoot('training/train.py'), 'utf8');
    expect(py).not.toMatch(/np\.quantile|np\.histogram/);
    expect(py).toContain('"baselines"');
  });
});
