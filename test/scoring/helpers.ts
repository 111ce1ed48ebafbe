// Shared fixtures for the scoring tests: the committed placeholder model and a seeded batch.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticSample } from '../../scripts/build-placeholder-model.js';
import { N_FEATURES } from '../../src/features/feature-names.js';

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
