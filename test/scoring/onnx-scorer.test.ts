import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logisticScore, placeholderArtifacts } from '../../scripts/build-placeholder-model.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { OnnxScorer } from '../../src/scoring/onnx-scorer.js';
import { PLACEHOLDER_DIR, sampleRows } from './helpers.js';

describe('OnnxScorer on the placeholder model', () => {
  let scorer: OnnxScorer;
  const { params } = placeholderArtifacts();

  beforeAll(async () => {
    scorer = await OnnxScorer.load(PLACEHOLDER_DIR, { maxBatch: 1024 });
  });
  afterAll(async () => {
    await scorer.close();
  });

  it('carries the manifest identity', () => {
    expect(scorer.name).toBe('placeholder');
    expect(scorer.format).toBe('onnx');
    expect(scorer.version).toBe(scorer.manifest.version);
  });

  for (const n of [1, 64, 256, 1024]) {
    it(`scores a batch of ${n} like the JS logistic math (1e-5), in one run`, async () => {
      const input = sampleRows(n, 100 + n);
      const out = new Float32Array(1024).fill(-1);
      // InferenceSession is typed as a factory; at run time it is a class whose prototype has run().
      const proto = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype;
      const run = vi.spyOn(proto, 'run');
      await scorer.score(input, n, out);
      expect(run).toHaveBeenCalledTimes(1);
      run.mockRestore();
      for (let i = 0; i < n; i++) {
        expect(Math.abs(out[i]! - logisticScore(params, input, i * N_FEATURES))).toBeLessThan(1e-5);
      }
      if (n < 1024) expect(out[n]).toBe(-1); // nothing written past n
    });
  }

  it('reuses its cached tensor over the same buffer and follows a new buffer', async () => {
    const a = sampleRows(64, 1);
    const b = sampleRows(64, 2);
    const outA = new Float32Array(64);
    const outB = new Float32Array(64);
    await scorer.score(a, 64, outA);
    await scorer.score(b, 64, outB);
    expect(Math.abs(outB[0]! - logisticScore(params, b, 0))).toBeLessThan(1e-5);
    // Same buffer, new contents: the cached tensor views the buffer, so it sees the new rows.
    a.set(b);
    await scorer.score(a, 64, outA);
    expect(Array.from(outA)).toEqual(Array.from(outB));
  });

  it('scores overlapping calls on different buffers independently', async () => {
    const a = sampleRows(256, 3);
    const b = sampleRows(256, 4);
    const outA = new Float32Array(256);
    const outB = new Float32Array(256);
    await Promise.all([scorer.score(a, 256, outA), scorer.score(b, 256, outB)]);
    expect(Math.abs(outA[5]! - logisticScore(params, a, 5 * N_FEATURES))).toBeLessThan(1e-5);
    expect(Math.abs(outB[5]! - logisticScore(params, b, 5 * N_FEATURES))).toBeLessThan(1e-5);
  });

  it('rejects a batch above maxBatch', async () => {
    await expect(scorer.score(new Float32Array(2048 * N_FEATURES), 2048, new Float32Array(2048))).rejects.toMatchObject(
      {
        code: 'FRAUD_MODEL_FAILED',
      },
    );
  });
});
