import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadTfjs } from '../../src/scoring/tfjs-backend.js';

const require = createRequire(import.meta.url);

// tfjs-node is an optional dependency: its install downloads libtensorflow, which fails on machines
// without internet access and succeeds elsewhere. Either way loadTfjs must start a working backend.
function resolves(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

describe('loadTfjs', () => {
  it('uses tfjs-node when it is installed and loads, else falls back to wasm and says why', async () => {
    const { tf, backend, skipped } = await loadTfjs();
    expect(tf.getBackend()).toBe(backend);
    if (backend === 'tensorflow') {
      expect(resolves('@tensorflow/tfjs-node')).toBe(true);
      expect(skipped).toEqual([]);
    } else {
      expect(backend).toBe('wasm');
      expect(skipped[0]).toMatch(/^tensorflow: /);
    }
  });

  it('computes a tiny dense model correctly on the backend it chose', async () => {
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
