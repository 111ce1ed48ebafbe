import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inferenceRows } from '../../bench/inference.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { fromRoot } from '../../src/package-root.js';
import { loadManifest } from '../../src/scoring/manifest.js';

describe('inference bench rows', () => {
  it("scores the model's parity sample (real feature rows) when the model has one", async () => {
    const dir = fromRoot('models/champion');
    const { features } = await loadManifest(dir);
    const parity = JSON.parse(readFileSync(`${dir}/parity-sample.json`, 'utf8')) as { rows: number[][] };
    const n = parity.rows.length + 3;
    const { x, kind } = inferenceRows(dir, features, n, N_FEATURES);
    expect(kind).toBe('parity-sample');
    expect(Array.from(x.subarray(0, N_FEATURES))).toEqual(Array.from(Float32Array.from(parity.rows[0])));
    // Repeated past the sample's end.
    const wrapped = x.subarray(parity.rows.length * N_FEATURES, (parity.rows.length + 1) * N_FEATURES);
    expect(Array.from(wrapped)).toEqual(Array.from(Float32Array.from(parity.rows[0])));
  });

  it('falls back to seeded uniform rows without a parity sample', async () => {
    const dir = fromRoot('models/placeholder');
    const { x, kind } = inferenceRows(dir, (await loadManifest(dir)).features, 4, N_FEATURES);
    expect(kind).toBe('uniform');
    expect(x.every((v) => v >= 0 && v < 100)).toBe(true);
    expect(new Set(x).size).toBe(x.length);
  });
});
