import { stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPlaceholderModel, placeholderArtifacts } from '../../scripts/build-placeholder-model.js';
import { ModelRegistry } from '../../src/scoring/model-registry.js';
import { tempDir } from './helpers.js';

// The watch hashes the model only when a stat of its files changed: the hash runs on the event loop.

/** Past the registry's SETTLED_MS: files older than it are trusted by their stat. */
const settle = () => new Promise((r) => setTimeout(r, 1100));

describe('ModelRegistry polling', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: ModelRegistry | undefined;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('registry-poll'));
    await buildPlaceholderModel(dir);
  });
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
    await cleanup();
  });

  it('reads and hashes the files once, not on every poll, while nothing changes', async () => {
    registry = await ModelRegistry.open(dir, { pollMs: 60_000, maxBatch: 16 });
    // Files changed within the last second are read again (their times could still tie with a write).
    for (let i = 0; i < 3; i++) expect(await registry.check()).toBe(false);
    expect(registry.hashes).toBe(3);
    await settle();
    for (let i = 0; i < 10; i++) expect(await registry.check()).toBe(false);
    expect(registry.hashes).toBe(4);
    expect(registry.reloads).toBe(0);
  });

  it('still sees a rewrite of the same size whose mtime was put back (rsync -t, cp -p)', async () => {
    const file = path.join(dir, 'model.onnx');
    // A whole-millisecond mtime, which utimes() can put back exactly.
    const deployed = new Date('2026-01-01T00:00:00Z');
    await utimes(file, deployed, deployed);
    registry = await ModelRegistry.open(dir, { pollMs: 60_000, maxBatch: 16 });
    await settle();
    await registry.check();
    const before = await stat(file, { bigint: true });
    // Other weights, same shape: the same number of bytes; the manifest is left as it was.
    await writeFile(file, placeholderArtifacts({ bias: -1 }).model);
    expect((await stat(file, { bigint: true })).size).toBe(before.size);
    await utimes(file, deployed, deployed);
    expect((await stat(file, { bigint: true })).mtimeNs).toBe(before.mtimeNs);
    // A change is loaded once it has held for one poll.
    expect(await registry.check()).toBe(false);
    expect(await registry.check()).toBe(true);
    expect(registry.reloads).toBe(1);
  });
});
