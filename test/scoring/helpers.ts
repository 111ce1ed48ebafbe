// Shared fixtures for the scoring tests: the committed placeholder model and a seeded batch.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticSample } from '../../scripts/build-placeholder-model.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { MANIFEST_FILE } from '../../src/scoring/manifest.js';
import { encodeOnnxModel } from '../../src/scoring/onnx-builder.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PLACEHOLDER_DIR = path.join(REPO, 'models/placeholder');

/** n plausible feature rows (the placeholder's synthetic generator, another seed). */
export function sampleRows(n: number, seed = 7): Float32Array {
  return syntheticSample(seed, n).subarray(0, n * N_FEATURES);
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `fraudscore-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A model dir (the placeholder's manifest) whose model is `layers` chained [1024 × 1024] MatMuls: a
 * real ONNX model that takes tens to hundreds of ms per batch, for the deadline tests.
 */
export async function slowModelDir(layers: number): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const k = 1024;
  const nodes = [{ name: 'in', opType: 'MatMul', inputs: ['features', 'w_in'], outputs: ['h0'] }];
  for (let i = 0; i < layers; i++) {
    nodes.push({ name: `layer${i}`, opType: 'MatMul', inputs: [`h${i}`, 'w'], outputs: [`h${i + 1}`] });
  }
  nodes.push({ name: 'out', opType: 'MatMul', inputs: [`h${layers}`, 'w_out'], outputs: ['logit'] });
  nodes.push({ name: 'sigmoid', opType: 'Sigmoid', inputs: ['logit'], outputs: ['score'] });
  const model = encodeOnnxModel({
    name: 'slow',
    producerName: 'fraudscore-test',
    producerVersion: '0',
    inputs: [{ name: 'features', dims: ['N', N_FEATURES] }],
    outputs: [{ name: 'score', dims: ['N', 1] }],
    initializers: [
      { name: 'w_in', dims: [N_FEATURES, k], values: new Float32Array(N_FEATURES * k).fill(1e-3) },
      // 1/k keeps every layer's values the same size however deep: no overflow to Infinity.
      { name: 'w', dims: [k, k], values: new Float32Array(k * k).fill(1 / k) },
      { name: 'w_out', dims: [k, 1], values: new Float32Array(k).fill(1e-3) },
    ],
    nodes,
  });
  const t = await tempDir('slow-model');
  const manifest = JSON.parse(await readFile(path.join(PLACEHOLDER_DIR, MANIFEST_FILE), 'utf8'));
  await writeFile(path.join(t.dir, MANIFEST_FILE), JSON.stringify({ ...manifest, name: 'slow', file: 'slow.onnx' }));
  await writeFile(path.join(t.dir, 'slow.onnx'), model);
  return t;
}
