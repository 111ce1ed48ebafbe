// models/<name>/manifest.json: what a model is, what it expects and what it was trained on.
// Validation runs once at load; every error names the file and the field and says how to fix it.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, FraudError } from '../errors.js';
import { FEATURE_NAMES, FEATURE_SET, type FeatureName } from '../features/feature-names.js';

export interface Histogram {
  /** Bin edges, strictly increasing; bins = edges.length − 1. */
  edges: number[];
  /** Share of the training sample in each bin; non-negative, sums to 1. */
  proportions: number[];
}

export interface Manifest {
  name: string;
  format: 'onnx' | 'tfjs';
  version: string;
  placeholder?: boolean;
  description: string;
  /** Model file relative to the model dir: 'model.onnx' or, for tfjs, 'model.json'. */
  file: string;
  input_name: string;
  output_name: string;
  /** Column of the fraud probability when the output is [N, 2] (e.g. LightGBM's class probabilities). */
  output_column?: number;
  /** The feature-set version the model was trained on (FEATURE_SET); its names are `features`. */
  feature_set: string;
  features: FeatureName[];
  thresholds: { review: number; decline: number };
  importance: Record<FeatureName, number>;
  baseline: { features: Record<FeatureName, Histogram>; score: Histogram };
  metrics: Record<string, number>;
  trained_on: Record<string, unknown>;
}

export const MANIFEST_FILE = 'manifest.json';

/** Tolerance for proportions summing to 1 (they are written as rounded decimals). */
const SUM_TOLERANCE = 1e-6;

class Checker {
  constructor(private readonly file: string) {}

  fail(field: string, problem: string, fix: string): never {
    throw new FraudError(ErrorCodes.INVALID_MODEL, `${this.file}: field '${field}' ${problem}; ${fix}`);
  }

  obj(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      this.fail(field, 'must be an object', 'write a JSON object');
    return v as Record<string, unknown>;
  }

  str(v: unknown, field: string): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(field, 'must be a non-empty string', 'set it to a string');
    return v;
  }

  num(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'must be a finite number', 'set it to a number');
    return v;
  }

  numArray(v: unknown, field: string): number[] {
    if (!Array.isArray(v)) this.fail(field, 'must be an array of numbers', 'write a JSON array of numbers');
    return v.map((x, i) => this.num(x, `${field}[${i}]`));
  }

  histogram(v: unknown, field: string): Histogram {
    const o = this.obj(v, field);
    const edges = this.numArray(o['edges'], `${field}.edges`);
    const proportions = this.numArray(o['proportions'], `${field}.proportions`);
    if (edges.length < 2) this.fail(`${field}.edges`, 'needs at least 2 edges', 'write bins+1 increasing edges');
    for (let i = 1; i < edges.length; i++) {
      if (!(edges[i]! > edges[i - 1]!)) {
        this.fail(`${field}.edges`, `is not strictly increasing at index ${i}`, 'sort the edges and drop duplicates');
      }
    }
    if (proportions.length !== edges.length - 1) {
      this.fail(
        `${field}.proportions`,
        `has ${proportions.length} entries for ${edges.length - 1} bins`,
        'write one proportion per bin (edges.length − 1)',
      );
    }
    let sum = 0;
    for (const p of proportions) {
      if (p < 0) this.fail(`${field}.proportions`, 'has a negative entry', 'proportions are shares in [0,1]');
      sum += p;
    }
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      this.fail(`${field}.proportions`, `sums to ${sum}`, 'normalise the proportions so they sum to 1');
    }
    return { edges, proportions };
  }

  /** An object keyed by exactly the 15 feature names. */
  perFeature<T>(v: unknown, field: string, each: (x: unknown, f: string) => T): Record<FeatureName, T> {
    const o = this.obj(v, field);
    const out = {} as Record<FeatureName, T>;
    for (const name of FEATURE_NAMES) {
      if (!(name in o)) this.fail(`${field}.${name}`, 'is missing', `add an entry for every feature in FEATURE_NAMES`);
      out[name] = each(o[name], `${field}.${name}`);
    }
    for (const key of Object.keys(o)) {
      if (!(FEATURE_NAMES as readonly string[]).includes(key)) {
        this.fail(`${field}.${key}`, 'is not a model feature', `remove it (features are: ${FEATURE_NAMES.join(', ')})`);
      }
    }
    return out;
  }
}

/** Validates a parsed manifest; `file` is only used in error messages. */
export function validateManifest(raw: unknown, file = MANIFEST_FILE): Manifest {
  // Explicit type: TS only narrows after a `never` call when the callee's type is annotated.
  const c: Checker = new Checker(file);
  const o = c.obj(raw, '(root)');

  const format = o['format'];
  if (format !== 'onnx' && format !== 'tfjs')
    c.fail('format', `is ${JSON.stringify(format)}`, "set it to 'onnx' or 'tfjs'");

  // A model trained on another feature set cannot be fed by this scorer: refuse it by name first, so
  // the error says which set the model wants and which one this build computes.
  const featureSet = o['feature_set'];
  if (featureSet !== FEATURE_SET) {
    c.fail(
      'feature_set',
      featureSet === undefined
        ? `is missing (a model from before feature sets, trained on the v1 set of 15 features)`
        : `is ${JSON.stringify(featureSet)}`,
      `this fraudscore computes feature set ${FEATURE_SET} (${FEATURE_NAMES.length} features); retrain the model on it ` +
        '(training/train.py, fraudscore train-challenger)',
    );
  }

  const features = o['features'];
  if (!Array.isArray(features)) c.fail('features', 'must be an array of feature names', 'copy FEATURE_NAMES in order');
  if (features.length !== FEATURE_NAMES.length || features.some((f, i) => f !== FEATURE_NAMES[i])) {
    const at = FEATURE_NAMES.findIndex((f, i) => features[i] !== f);
    c.fail(
      'features',
      `does not equal FEATURE_NAMES (first difference at index ${at < 0 ? features.length : at}: ` +
        `got ${JSON.stringify(features[at < 0 ? FEATURE_NAMES.length : at])}, expected ${JSON.stringify(FEATURE_NAMES[at])})`,
      `retrain/export the model on the ${FEATURE_SET} feature order: ${FEATURE_NAMES.join(', ')}`,
    );
  }

  const th = c.obj(o['thresholds'], 'thresholds');
  const review = c.num(th['review'], 'thresholds.review');
  const decline = c.num(th['decline'], 'thresholds.decline');
  if (!(review > 0 && review < decline && decline <= 1)) {
    c.fail('thresholds', `has review=${review}, decline=${decline}`, 'choose 0 < review < decline ≤ 1');
  }

  let outputColumn: number | undefined;
  if (o['output_column'] !== undefined) {
    outputColumn = c.num(o['output_column'], 'output_column');
    if (!Number.isInteger(outputColumn) || outputColumn < 0) {
      c.fail(
        'output_column',
        `is ${outputColumn}`,
        'set it to the 0-based column of the fraud probability (usually 1)',
      );
    }
  }
  if (o['placeholder'] !== undefined && typeof o['placeholder'] !== 'boolean') {
    c.fail('placeholder', 'must be a boolean', 'write true or false, or leave it out');
  }

  const file_ = c.str(o['file'], 'file');
  if (path.isAbsolute(file_) || file_.split(/[\\/]/).includes('..')) {
    c.fail('file', `is ${JSON.stringify(file_)}`, 'name a file inside the model directory, e.g. model.onnx');
  }

  const importance = c.perFeature(o['importance'], 'importance', (x, f) => {
    const v = c.num(x, f);
    if (v < 0) c.fail(f, 'is negative', 'importance is a non-negative weight');
    return v;
  });

  const base = c.obj(o['baseline'], 'baseline');
  const baselineFeatures = c.perFeature(base['features'], 'baseline.features', (x, f) => c.histogram(x, f));
  const baselineScore = c.histogram(base['score'], 'baseline.score');

  const metricsObj = c.obj(o['metrics'], 'metrics');
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(metricsObj)) metrics[k] = c.num(v, `metrics.${k}`);

  return {
    name: c.str(o['name'], 'name'),
    format,
    version: c.str(o['version'], 'version'),
    ...(o['placeholder'] === undefined ? {} : { placeholder: o['placeholder'] as boolean }),
    description: c.str(o['description'], 'description'),
    file: file_,
    input_name: c.str(o['input_name'], 'input_name'),
    output_name: c.str(o['output_name'], 'output_name'),
    ...(outputColumn === undefined ? {} : { output_column: outputColumn }),
    feature_set: FEATURE_SET,
    features: [...FEATURE_NAMES],
    thresholds: { review, decline },
    importance,
    baseline: { features: baselineFeatures, score: baselineScore },
    metrics,
    trained_on: c.obj(o['trained_on'], 'trained_on'),
  };
}

/** Reads and validates `<modelDir>/manifest.json`. */
export async function loadManifest(modelDir: string): Promise<Manifest> {
  const file = path.join(modelDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new FraudError(ErrorCodes.INVALID_MODEL, `${file}: cannot read the manifest; check the model directory`, {
      cause,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new FraudError(
      ErrorCodes.INVALID_MODEL,
      `${file}: not valid JSON (${(cause as Error).message}); fix the syntax`,
      {
        cause,
      },
    );
  }
  return validateManifest(raw, file);
}

/** Absolute path of the model file the manifest names. */
export function modelFilePath(modelDir: string, manifest: Manifest): string {
  return path.join(modelDir, manifest.file);
}
