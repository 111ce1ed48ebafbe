// biome-ignore-all lint/suspicious/noExplicitAny: the cases mutate untyped manifest JSON
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { validateManifest } from '../../src/scoring/manifest.js';
import { PLACEHOLDER_DIR } from './helpers.js';

const raw = JSON.parse(await readFile(path.join(PLACEHOLDER_DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
const edit = (f: (m: Record<string, any>) => void): unknown => {
  const m = structuredClone(raw) as Record<string, any>;
  f(m);
  return m;
};
function errorOf(m: unknown): FraudError {
  try {
    validateManifest(m, 'models/x/manifest.json');
  } catch (e) {
    expect(e).toBeInstanceOf(FraudError);
    expect((e as FraudError).code).toBe(ErrorCodes.INVALID_MODEL);
    return e as FraudError;
  }
  throw new Error('expected a validation error');
}

describe('validateManifest', () => {
  it('accepts the placeholder manifest', () => {
    const m = validateManifest(raw);
    expect(m.format).toBe('onnx');
    expect(m.feature_set).toBe('v3');
    expect(m.thresholds.review).toBeLessThan(m.thresholds.decline);
  });

  it('refuses a model trained on another feature set, saying which one this build computes', () => {
    // A v1 model (before feature sets): no feature_set, the handbook's 15 features.
    const v1 = errorOf(
      edit((m) => {
        delete m.feature_set;
        m.features = m.features.slice(0, 15);
      }),
    );
    expect(v1.message).toMatch(
      /field 'feature_set' is missing \(a model from before feature sets, trained on the v1 set of 15 features\); this fraudscore computes feature set v3 \(23 features\); retrain/,
    );
    expect(v1.message.split('\n')).toHaveLength(1);
    // A v2 model (19 features: no terminal recency) and an unknown set are refused by name.
    const v2 = edit((m) => {
      m.feature_set = 'v2';
      m.features = m.features.slice(0, 19);
    });
    expect(errorOf(v2).message).toMatch(/field 'feature_set' is "v2"; this fraudscore computes feature set v3 \(23/);
    expect(errorOf(edit((m) => (m.feature_set = 'v4'))).message).toMatch(/field 'feature_set' is "v4"; .*set v3/);
    // The right version but the wrong names is refused too.
    expect(errorOf(edit((m) => m.features.pop())).message).toMatch(/field 'features'.*v3 feature order/);
  });

  it.each([
    ['features out of order', (m: any) => m.features.reverse(), /field 'features'.*first difference at index 0/],
    ['a missing feature', (m: any) => m.features.pop(), /field 'features'/],
    ['unknown format', (m: any) => (m.format = 'pmml'), /field 'format'.*'onnx' or 'tfjs'/],
    ['review ≥ decline', (m: any) => (m.thresholds.review = 0.9), /field 'thresholds'.*0 < review < decline/],
    ['decline > 1', (m: any) => (m.thresholds.decline = 1.5), /field 'thresholds'/],
    ['missing importance', (m: any) => delete m.importance.amount, /field 'importance\.amount' is missing/],
    ['extra importance', (m: any) => (m.importance.zip = 1), /field 'importance\.zip' is not a model feature/],
    [
      'proportions not summing to 1',
      (m: any) => (m.baseline.features.amount.proportions[0] += 0.5),
      /field 'baseline\.features\.amount\.proportions' sums to/,
    ],
    [
      'unsorted edges',
      (m: any) => m.baseline.score.edges.reverse(),
      /baseline\.score\.edges' is not strictly increasing/,
    ],
    ['a file outside the dir', (m: any) => (m.file = '../x.onnx'), /field 'file'/],
    ['negative output_column', (m: any) => (m.output_column = -1), /field 'output_column'/],
    ['missing version', (m: any) => delete m.version, /field 'version' must be a non-empty string/],
  ])('rejects %s, naming file and field', (_name, f, message) => {
    const e = errorOf(edit(f));
    expect(e.message).toMatch(/^models\/x\/manifest\.json: /);
    expect(e.message).toMatch(message);
  });
});
