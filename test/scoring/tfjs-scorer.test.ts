import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logisticScore, manifestJson, placeholderArtifacts } from '../../scripts/build-placeholder-model.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { loadManifest } from '../../src/scoring/manifest.js';
import { OnnxScorer } from '../../src/scoring/onnx-scorer.js';
import { loadTfjs } from '../../src/scoring/tfjs-backend.js';
import { saveLayersModel, TfjsScorer } from '../../src/scoring/tfjs-scorer.js';
import { PLACEHOLDER_DIR, sampleRows, tempDir } from './helpers.js';

describe('TfjsScorer (challenger) on the placeholder logistic model', () => {
  const { params } = placeholderArtifacts();
  let dir: string;
  let cleanup: () => Promise<void>;
  let scorer: TfjsScorer;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('tfjs'));
    const { tf } = await loadTfjs();
    // Fold the standardisation into the dense layer: w' = w / s, b' = b − Σ w·m / s.
    const w = Array.from(params.weights, (wj, j) => wj / params.scale[j]!);
    const b =
      params.bias -
      Array.from(params.weights).reduce((acc, wj, j) => acc + (wj * params.mean[j]!) / params.scale[j]!, 0);
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [N_FEATURES], units: 1, activation: 'sigmoid' })],
    });
    model.setWeights([tf.tensor2d(w, [N_FEATURES, 1]), tf.tensor1d([b])]);
    await saveLayersModel(model, dir);
    model.dispose();
    const manifest = await loadManifest(PLACEHOLDER_DIR);
    await writeFile(
      path.join(dir, 'manifest.json'),
      manifestJson({ ...manifest, name: 'placeholder-tfjs', format: 'tfjs', file: 'model.json' }),
    );
    scorer = await TfjsScorer.load(dir, { maxBatch: 256 });
  });
  afterAll(async () => {
    await scorer?.close();
    await cleanup();
  });

  it('runs on the wasm backend and matches the logistic math and the ONNX champion', async () => {
    expect(scorer.backend).toBe('wasm');
    const n = 256;
    const input = sampleRows(n, 21);
    const out = new Float32Array(n);
    await scorer.score(input, n, out);
    const onnx = await OnnxScorer.load(PLACEHOLDER_DIR, { maxBatch: n });
    const champion = new Float32Array(n);
    await onnx.score(input, n, champion);
    await onnx.close();
    for (let i = 0; i < n; i++) {
      expect(Math.abs(out[i]! - logisticScore(params, input, i * N_FEATURES))).toBeLessThan(1e-4);
      expect(Math.abs(out[i]! - champion[i]!)).toBeLessThan(1e-4);
    }
  });

  it('rejects an ONNX manifest', async () => {
    await expect(TfjsScorer.load(PLACEHOLDER_DIR)).rejects.toMatchObject({ code: 'FRAUD_INVALID_MODEL' });
  });
});
