// ONNX Runtime in Node scores the committed champion exactly as LightGBM did in Python (training/train.py
// writes the sample and LightGBM's predict_proba on it into models/champion/parity-sample.json).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, N_FEATURES } from '../../src/features/feature-names.js';
import { loadManifest } from '../../src/scoring/manifest.js';
import { OnnxScorer } from '../../src/scoring/onnx-scorer.js';
import { REPO } from './helpers.js';

const CHAMPION_DIR = path.join(REPO, 'models/champion');

interface ParitySample {
  features: string[];
  rows: number[][];
  scores: number[];
}

describe('champion (LightGBM → ONNX)', () => {
  it('gives LightGBM’s Python scores within 1e-5 on the fixed sample', async () => {
    const sample = JSON.parse(await readFile(path.join(CHAMPION_DIR, 'parity-sample.json'), 'utf8')) as ParitySample;
    expect(sample.features).toEqual([...FEATURE_NAMES]);
    const n = sample.rows.length;
    expect(n).toBeGreaterThanOrEqual(150);
    const input = new Float32Array(n * N_FEATURES);
    sample.rows.forEach((row, i) => {
      expect(row).toHaveLength(N_FEATURES);
      // The sample holds Float32 values: writing them into a Float32Array loses nothing.
      row.forEach((x, f) => {
        input[i * N_FEATURES + f] = x;
        expect(Math.fround(x)).toBe(x);
      });
    });
    const scorer = await OnnxScorer.load(CHAMPION_DIR, { maxBatch: n });
    try {
      const out = new Float32Array(n);
      await scorer.score(input, n, out);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(out[i] - sample.scores[i]));
      expect(worst).toBeLessThanOrEqual(1e-5);
      // The sample spans the score range: it includes frauds scored high.
      expect(Math.max(...sample.scores)).toBeGreaterThan(0.5);
    } finally {
      await scorer.close();
    }
  });

  it('has a valid manifest with validation-chosen thresholds and its provenance', async () => {
    const m = await loadManifest(CHAMPION_DIR);
    expect(m.format).toBe('onnx');
    expect(m.placeholder).toBeUndefined();
    expect(m.output_column).toBe(1);
    expect(m.thresholds.review).toBeLessThan(m.thresholds.decline);
    for (const k of ['auc_roc', 'average_precision', 'card_precision_at_100']) expect(m.metrics[k]).toBeGreaterThan(0);
    const sum = Object.values(m.importance).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 4);
    expect(m.trained_on).toHaveProperty('git_commit');
    expect(m.trained_on).toHaveProperty('data');
  });
});
