// The challenger scorer: a TF.js LayersModel from models/<name>/model.json (+ weight shards), run on
// the backend loadTfjs() picked. One predict() per batch.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { ErrorCodes, FraudError } from '../errors.js';
import { N_FEATURES } from '../features/feature-names.js';
import { loadManifest, type Manifest, modelFilePath } from './manifest.js';
import type { Scorer } from './scorer.js';
import { loadTfjs, type Tf, type TfjsBackend } from './tfjs-backend.js';

export interface TfjsScorerOptions {
  maxBatch?: number;
  manifest?: Manifest;
}

/** Reads a TF.js Layers model.json and its weight files from disk (@tensorflow/tfjs has no file:// loader). */
function fileLoader(tf: Tf, file: string): tfjs.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(file, 'utf8')) as tfjs.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (weightsManifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of weightsManifest) {
          for (const p of group.paths) {
            const b = await readFile(path.join(path.dirname(file), p));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        return [tf.io.getWeightSpecs(weightsManifest), tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/** Saves a LayersModel as <dir>/model.json + <dir>/weights.bin (for building challengers and tests). */
export async function saveLayersModel(model: tfjs.LayersModel, dir: string): Promise<void> {
  const { tf } = await loadTfjs();
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightsManifest: tfjs.io.WeightsManifestConfig = [
        { paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] },
      ];
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest,
      };
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      const data = artifacts.weightData;
      const bytes =
        data === undefined
          ? new Uint8Array()
          : new Uint8Array(tf.io.concatenateArrayBuffers(data as ArrayBuffer | ArrayBuffer[]));
      await writeFile(path.join(dir, 'weights.bin'), bytes);
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
}

export class TfjsScorer implements Scorer {
  readonly format = 'tfjs' as const;
  readonly name: string;
  readonly version: string;
  private closed = false;

  private constructor(
    private readonly tf: Tf,
    private readonly model: tfjs.LayersModel,
    readonly manifest: Manifest,
    readonly backend: TfjsBackend,
    readonly maxBatch: number,
    private readonly columns: number,
  ) {
    this.name = manifest.name;
    this.version = manifest.version;
  }

  static async load(modelDir: string, opts: TfjsScorerOptions = {}): Promise<TfjsScorer> {
    const manifest = opts.manifest ?? (await loadManifest(modelDir));
    const file = modelFilePath(modelDir, manifest);
    const maxBatch = opts.maxBatch ?? 1024;
    if (manifest.format !== 'tfjs') {
      throw new FraudError(
        ErrorCodes.INVALID_MODEL,
        `${file}: manifest format is '${manifest.format}'; use OnnxScorer`,
      );
    }
    const { tf, backend } = await loadTfjs();
    let model: tfjs.LayersModel;
    try {
      model = await tf.loadLayersModel(fileLoader(tf, file));
    } catch (cause) {
      throw new FraudError(
        ErrorCodes.INVALID_MODEL,
        `${file}: TF.js cannot load the Layers model (${(cause as Error).message}); re-export it with tfjs-converter`,
        { cause },
      );
    }
    const inShape = model.inputs[0]?.shape;
    if (model.inputs.length !== 1 || inShape?.length !== 2 || inShape[1] !== N_FEATURES) {
      model.dispose();
      throw new FraudError(
        ErrorCodes.INVALID_MODEL,
        `${file}: input shape [${inShape}]; export one [null, ${N_FEATURES}] input`,
      );
    }
    const outShape = model.outputs[0]?.shape;
    const columns = outShape?.[1] ?? 1;
    const column = manifest.output_column ?? 0;
    if (model.outputs.length !== 1 || (columns > 1 && manifest.output_column === undefined) || column >= columns) {
      model.dispose();
      throw new FraudError(
        ErrorCodes.INVALID_MODEL,
        `${file}: output shape [${outShape}] with output_column ${manifest.output_column}; set output_column for [N,2] outputs`,
      );
    }
    const scorer = new TfjsScorer(tf, model, manifest, backend, maxBatch, columns);
    // Warm-up: compiles the backend's kernels for these shapes before the first live batch.
    const probe = new Float32Array(maxBatch * N_FEATURES);
    const out = new Float32Array(maxBatch);
    await scorer.score(probe, 1, out);
    await scorer.score(probe, maxBatch, out);
    return scorer;
  }

  async score(input: Float32Array, n: number, out: Float32Array): Promise<void> {
    if (this.closed) throw new FraudError(ErrorCodes.MODEL_FAILED, `scorer ${this.name}@${this.version} is closed`);
    if (n === 0) return;
    if (n > this.maxBatch)
      throw new FraudError(ErrorCodes.MODEL_FAILED, `batch of ${n} exceeds maxBatch ${this.maxBatch}`);
    const tf = this.tf;
    const y = tf.tidy(
      () => this.model.predict(tf.tensor2d(input.subarray(0, n * N_FEATURES), [n, N_FEATURES])) as tfjs.Tensor,
    );
    try {
      const data = (await y.data()) as Float32Array;
      const column = this.manifest.output_column ?? 0;
      if (this.columns === 1) out.set(data.subarray(0, n));
      else for (let i = 0, j = column; i < n; i++, j += this.columns) out[i] = data[j]!;
    } finally {
      y.dispose();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.model.dispose();
  }
}
