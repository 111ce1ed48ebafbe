// The committed TF.js challenger and the shadow wrapper the processor calls.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { loadScorer, ShadowChallenger } from '../../src/pipeline/challenger.js';
import { loadManifest } from '../../src/scoring/manifest.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import { TfjsScorer } from '../../src/scoring/tfjs-scorer.js';
import { REPO } from './helpers.js';

const CHALLENGER_DIR = path.join(REPO, 'models/challenger');
const CHAMPION_DIR = path.join(REPO, 'models/champion');

async function paritySample(): Promise<{ input: Float32Array; n: number; champion: number[] }> {
  const s = JSON.parse(await readFile(path.join(CHAMPION_DIR, 'parity-sample.json'), 'utf8')) as {
    rows: number[][];
    scores: number[];
  };
  const input = new Float32Array(s.rows.length * N_FEATURES);
  s.rows.forEach((r, i) => {
    input.set(r, i * N_FEATURES);
  });
  return { input, n: s.rows.length, champion: s.scores };
}

describe('TF.js challenger (models/challenger)', () => {
  it('loads through TfjsScorer and ranks the sample much like the champion', async () => {
    const m = await loadManifest(CHALLENGER_DIR);
    expect(m.format).toBe('tfjs');
    expect(m.thresholds.review).toBeLessThan(m.thresholds.decline);
    const { input, n, champion } = await paritySample();
    const scorer = await TfjsScorer.load(CHALLENGER_DIR, { maxBatch: n });
    try {
      const out = new Float32Array(n);
      await scorer.score(input, n, out);
      for (const x of out) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
      }
      // Agreement on the sample: the challenger's top 40 overlap the champion's top 40.
      const top = (xs: ArrayLike<number>) =>
        new Set(
          Array.from(xs, (x, i) => [x, i])
            .sort((a, b) => b[0] - a[0])
            .slice(0, 40)
            .map(([, i]) => i),
        );
      const a = top(champion);
      const overlap = [...top(out)].filter((i) => a.has(i)).length;
      expect(overlap).toBeGreaterThan(25);
    } finally {
      await scorer.close();
    }
  });
});

function fakeScorer(score: (input: Float32Array, n: number, out: Float32Array) => Promise<void>): Scorer {
  return { name: 'fake', version: '0', format: 'tfjs', score, close: async () => {} };
}

describe('ShadowChallenger', () => {
  it('scores through the model folder’s scorer into the processor’s buffer and reports latency', async () => {
    const { scorer, manifest } = await loadScorer(CHALLENGER_DIR, 256);
    const latencies: number[] = [];
    const shadow = new ShadowChallenger(scorer, manifest, { maxBatch: 256, onLatency: (s) => latencies.push(s) });
    const { input } = await paritySample();
    const out = new Float32Array(256);
    expect(await shadow.score(input, 100, out)).toBe(true);
    const direct = new Float32Array(100);
    await scorer.score(input, 100, direct);
    expect(Array.from(out.subarray(0, 100))).toEqual(Array.from(direct));
    expect(latencies).toHaveLength(1);
    expect(shadow.stats).toMatchObject({ batches: 1, records: 100, failures: 0 });
    await shadow.close();
    expect(await shadow.score(input, 1, out)).toBe(false);
  });

  it('never rejects: a failing run gives false', async () => {
    const errors: unknown[] = [];
    const manifest = await loadManifest(CHALLENGER_DIR);
    const shadow = new ShadowChallenger(
      fakeScorer(() => Promise.reject(new Error('boom'))),
      manifest,
      { maxBatch: 8, onError: (e) => errors.push(e) },
    );
    expect(await shadow.score(new Float32Array(8 * N_FEATURES), 8, new Float32Array(8))).toBe(false);
    expect(errors).toHaveLength(1);
    expect(shadow.stats.failures).toBe(1);
  });

  it('a slow run times out, later batches are skipped until it ends, and it never writes late', async () => {
    const manifest = await loadManifest(CHALLENGER_DIR);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const shadow = new ShadowChallenger(
      fakeScorer(async (_input, n, out) => {
        calls++;
        if (calls === 1) await gate;
        out.fill(0.5, 0, n);
      }),
      manifest,
      { maxBatch: 4, timeoutMs: 5 },
    );
    const out = new Float32Array(4);
    const input = new Float32Array(4 * N_FEATURES);
    expect(await shadow.score(input, 4, out)).toBe(false);
    expect(await shadow.score(input, 4, out)).toBe(false);
    expect(shadow.stats).toMatchObject({ timeouts: 1, skipped: 1 });
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
    expect(await shadow.score(input, 4, out)).toBe(true);
    expect(Array.from(out)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
});
