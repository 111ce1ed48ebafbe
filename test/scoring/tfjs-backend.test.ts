import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadTfjs } from '../../src/scoring/tfjs-backend.js';

const require = createRequire(import.meta.url);

describe('loadTfjs', () => {
  it('finds no tfjs-node here (its install needs a download) and falls back to wasm', async () => {
    expect(() => require.resolve('@tensorflow/tfjs-node')).toThrow();
    const { tf, backend, skipped } = await loadTfjs();
    expect(backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(skipped[0]).toMatch(/^tensorflow: /);
  });

  it('computes a tiny dense model correctly on the wasm backend', async () => {
    const { tf } = await loadTfjs();
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 1, activation: 'sigmoid', useBias: true })],
    });
    const w = [0.5, -1, 2];
    const b = 0.25;
    model.setWeights([tf.tensor2d(w, [3, 1]), tf.tensor1d([b])]);
    const x = [
      [1, 2, 3],
      [0, 0, 0],
      [-1, 0.5, 0.1],
    ];
    const y = model.predict(tf.tensor2d(x)) as import('@tensorflow/tfjs').Tensor;
    const got = Array.from(await y.data());
    const want = x.map((r) => 1 / (1 + Math.exp(-(r[0]! * w[0]! + r[1]! * w[1]! + r[2]! * w[2]! + b))));
    for (const [i, v] of got.entries()) expect(v).toBeCloseTo(want[i]!, 6);
    tf.dispose([y]);
    model.dispose();
  });
});
