import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  buildPlaceholderModel,
  logisticScore,
  manifestJson,
  PLACEHOLDER_WEIGHTS,
  placeholderArtifacts,
} from '../../scripts/build-placeholder-model.js';
import { ErrorCodes, type FraudError } from '../../src/errors.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import type { Manifest } from '../../src/scoring/manifest.js';
import { ModelRegistry } from '../../src/scoring/model-registry.js';
import { OnnxScorer } from '../../src/scoring/onnx-scorer.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import { PLACEHOLDER_DIR, sampleRows, tempDir } from './helpers.js';

const NEW_WEIGHTS = Object.fromEntries(
  Object.entries(PLACEHOLDER_WEIGHTS).map(([k, v]) => [k, -v]),
) as unknown as typeof PLACEHOLDER_WEIGHTS;
const NEW = { version: '0.2.0', weights: NEW_WEIGHTS, bias: -1 };

async function copyPlaceholder(dir: string): Promise<void> {
  for (const f of ['model.onnx', 'manifest.json']) await copyFile(path.join(PLACEHOLDER_DIR, f), path.join(dir, f));
}

describe('ModelRegistry', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: ModelRegistry | undefined;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('registry'));
    await copyPlaceholder(dir);
  });
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
    await cleanup();
  });

  it('swaps in a changed model after load + warm-up; batches are all-old or all-new, never mixed', async () => {
    const reloaded: [string, string][] = [];
    registry = await ModelRegistry.open(dir, {
      pollMs: 20,
      maxBatch: 256,
      onReload: (next, prev) => reloaded.push([prev.version, next.version]),
    });
    expect(registry.current().manifest.version).toBe('0.1.0');
    const oldParams = placeholderArtifacts().params;
    const newParams = placeholderArtifacts(NEW).params;
    const n = 256;
    const input = sampleRows(n, 11);
    const expectOld = Float32Array.from({ length: n }, (_, i) => logisticScore(oldParams, input, i * N_FEATURES));
    const expectNew = Float32Array.from({ length: n }, (_, i) => logisticScore(newParams, input, i * N_FEATURES));
    const matches = (out: Float32Array, want: Float32Array) => out.every((v, i) => Math.abs(v - want[i]!) < 1e-5);

    registry.watch();
    let swapped = false;
    const seen: string[] = [];
    const scoring = (async () => {
      // Score continuously, as the pipeline does: one current() per batch.
      while (!swapped || seen.at(-1) !== 'new') {
        const model = registry!.current();
        const out = new Float32Array(n);
        await model.scorer.score(input, n, out);
        const kind = matches(out, expectOld) ? 'old' : matches(out, expectNew) ? 'new' : 'MIXED';
        expect(kind === 'old' ? '0.1.0' : '0.2.0').toBe(model.manifest.version);
        seen.push(kind);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await buildPlaceholderModel(dir, NEW);
    await vi.waitFor(() => expect(registry!.reloads).toBe(1), { timeout: 10_000, interval: 10 });
    swapped = true;
    await scoring;

    expect(seen).not.toContain('MIXED');
    expect(seen[0]).toBe('old');
    expect(seen.at(-1)).toBe('new');
    expect(seen.slice(seen.indexOf('new'))).not.toContain('old'); // no way back once swapped
    expect(reloaded).toEqual([['0.1.0', '0.2.0']]);
    expect(registry.current().manifest.version).toBe('0.2.0');
  });

  it('keeps the old model when the new model.onnx is corrupt, and reports INVALID_MODEL once', async () => {
    const errors: FraudError[] = [];
    registry = await ModelRegistry.open(dir, { pollMs: 1_000_000, maxBatch: 64, onError: (e) => errors.push(e) });
    const before = registry.current();
    await writeFile(path.join(dir, 'model.onnx'), Buffer.from('this is not a protobuf'));
    expect(await registry.check()).toBe(false); // first sight: waits for the files to settle
    expect(await registry.check()).toBe(false); // settled: loads, rejects
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe(ErrorCodes.INVALID_MODEL);
    expect(errors[0]!.message).toContain('model.onnx');
    expect(errors[0]!.message).toContain('still serving placeholder@0.1.0');
    expect(registry.failures).toBe(1);
    expect(registry.current()).toBe(before);
    const out = new Float32Array(64);
    await registry.current().scorer.score(sampleRows(64), 64, out);
    expect(out[0]).toBeGreaterThan(0);
    // Reported once per broken state, not on every poll.
    await registry.check();
    await registry.check();
    expect(errors).toHaveLength(1);
    // A fixed model is picked up afterwards.
    await buildPlaceholderModel(dir, NEW);
    await registry.check();
    expect(await registry.check()).toBe(true);
    expect(registry.current().manifest.version).toBe('0.2.0');
  });

  it('rejects a manifest whose features differ, naming the field', async () => {
    const errors: FraudError[] = [];
    registry = await ModelRegistry.open(dir, { maxBatch: 64, onError: (e) => errors.push(e) });
    const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    m.features = [...m.features].reverse();
    await writeFile(path.join(dir, 'manifest.json'), manifestJson(m));
    await registry.check();
    await registry.check();
    expect(errors[0]!.message).toMatch(/manifest\.json: field 'features'/);
    expect(registry.current().manifest.version).toBe('0.1.0');
  });

  it('closes the old scorer only after its in-flight run finishes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const closed: string[] = [];
    const loader = async (d: string, manifest: Manifest): Promise<Scorer> => {
      const real = await OnnxScorer.load(d, { manifest, maxBatch: 64 });
      return {
        name: real.name,
        version: real.version,
        format: 'onnx',
        async score(input, n, out) {
          if (manifest.version === '0.1.0') await gate;
          await real.score(input, n, out);
        },
        async close() {
          closed.push(manifest.version);
          await real.close();
        },
      };
    };
    registry = await ModelRegistry.open(dir, { loader });
    const old = registry.current();
    const out = new Float32Array(64).fill(-1);
    const inFlight = old.scorer.score(sampleRows(64), 64, out);
    await buildPlaceholderModel(dir, NEW);
    await registry.check();
    expect(await registry.check()).toBe(true);
    expect(closed).toEqual([]); // the old run is still in flight
    release();
    await inFlight;
    expect(out[0]).toBeGreaterThan(0);
    await vi.waitFor(() => expect(closed).toEqual(['0.1.0']));
  });

  it('fails to open on a broken model dir', async () => {
    await writeFile(path.join(dir, 'manifest.json'), '{ not json');
    await expect(ModelRegistry.open(dir)).rejects.toMatchObject({ code: ErrorCodes.INVALID_MODEL });
  });
});
