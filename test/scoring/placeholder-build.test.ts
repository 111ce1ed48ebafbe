import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlaceholderModel } from '../../scripts/build-placeholder-model.js';
import { FEATURE_NAMES } from '../../src/features/feature-names.js';
import { loadManifest } from '../../src/scoring/manifest.js';
import { PLACEHOLDER_DIR, tempDir } from './helpers.js';

describe('placeholder model build', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('is deterministic and matches the committed files byte for byte', async () => {
    const a = await tempDir('build-a');
    const b = await tempDir('build-b');
    cleanups.push(a.cleanup, b.cleanup);
    await buildPlaceholderModel(a.dir);
    await buildPlaceholderModel(b.dir);
    for (const file of ['model.onnx', 'manifest.json']) {
      const first = await readFile(path.join(a.dir, file));
      const second = await readFile(path.join(b.dir, file));
      const committed = await readFile(path.join(PLACEHOLDER_DIR, file));
      expect(first.equals(second), `${file}: two builds differ`).toBe(true);
      expect(
        first.equals(committed),
        `${file}: committed file is stale; run npm run build && node dist/scripts/build-placeholder-model.js`,
      ).toBe(true);
    }
  });

  it('writes a valid manifest marked as a placeholder, with 10-bin baselines', async () => {
    const m = await loadManifest(PLACEHOLDER_DIR);
    expect(m.placeholder).toBe(true);
    expect(m.description).toMatch(/placeholder/i);
    expect(m.features).toEqual([...FEATURE_NAMES]);
    for (const f of FEATURE_NAMES) {
      const h = m.baseline.features[f];
      expect(h.edges).toHaveLength(11);
      expect(h.proportions.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
    }
    expect(m.baseline.score.edges[0]).toBe(0);
    expect(m.baseline.score.edges[10]).toBe(1);
  });
});
