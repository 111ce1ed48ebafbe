// The champion scorer: one ONNX Runtime session, one run() per micro-batch.

import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ErrorCodes, FraudError } from '../errors.js';
import { N_FEATURES } from '../features/feature-names.js';
import { loadManifest, type Manifest, modelFilePath } from './manifest.js';
import type { Scorer } from './scorer.js';

export interface OnnxScorerOptions {
  /** Largest batch the pipeline sends; the warm-up runs it once. Default 1024. */
  maxBatch?: number;
  /** An already loaded manifest for this dir (the registry validates it first). */
  manifest?: Manifest;
}

/**
 * Session options, chosen for this deployment rather than left at ORT's defaults:
 * - intraOpNumThreads 1: the machine has 2 cores shared by this process, the Kafka broker and Redis.
 *   The models are tiny (a 15-input linear model or a few hundred shallow trees), so a batch of 256 is
 *   tens of µs on one core; a thread pool would add wake-up latency and steal the core the broker and
 *   Redis need, for no gain. With 1 thread ORT runs the graph on the calling thread.
 * - interOpNumThreads 1 + executionMode 'sequential': the graphs are chains; there is no parallel branch
 *   worth a second pool.
 * - graphOptimizationLevel 'all': constant folding and fusions (e.g. MatMul+Add → Gemm) happen once at
 *   load time, so every run executes the smaller graph.
 * - enableCpuMemArena true: batches of the same size reuse arena buffers instead of malloc per run.
 */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = Object.freeze({
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  enableCpuMemArena: true,
});

export class OnnxScorer implements Scorer {
  readonly format = 'onnx' as const;
  readonly name: string;
  readonly version: string;

  private readonly fetches: string[];
  /** Tensors over the caller's input buffer, per row count, reused while the caller reuses its buffer. */
  private tensors: (ort.Tensor | undefined)[] = [];
  private tensorsFor: Float32Array | null = null;
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly manifest: Manifest,
    readonly maxBatch: number,
    private readonly column: number,
    private readonly columns: number,
  ) {
    this.name = manifest.name;
    this.version = manifest.version;
    this.fetches = [manifest.output_name];
  }

  /**
   * Loads `<modelDir>/manifest.json` and its model, checks the graph's input/output against the
   * manifest, and warms the session with a batch of 1 and a batch of maxBatch. Any failure is a
   * FraudError INVALID_MODEL and the session is released.
   */
  static async load(modelDir: string, opts: OnnxScorerOptions = {}): Promise<OnnxScorer> {
    const manifest = opts.manifest ?? (await loadManifest(modelDir));
    const maxBatch = opts.maxBatch ?? 1024;
    const file = modelFilePath(modelDir, manifest);
    const invalid = (what: string, fix: string, cause?: unknown): FraudError =>
      new FraudError(ErrorCodes.INVALID_MODEL, `${file}: ${what}; ${fix}`, cause === undefined ? undefined : { cause });
    if (manifest.format !== 'onnx')
      throw invalid(`manifest format is '${manifest.format}'`, 'load it with the tfjs scorer');

    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (cause) {
      throw invalid('cannot read the model file', "check the manifest's 'file' field", cause);
    }
    let session: ort.InferenceSession;
    try {
      // From bytes, not the path: the registry may be reading a dir that is being rewritten, and the
      // bytes we validate are then exactly the bytes we serve.
      session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    } catch (cause) {
      throw invalid(`ONNX Runtime cannot load the model (${(cause as Error).message})`, 're-export the model', cause);
    }
    try {
      if (!session.inputNames.includes(manifest.input_name)) {
        throw invalid(
          `graph has no input '${manifest.input_name}' (inputs: ${session.inputNames.join(', ')})`,
          "fix the manifest's input_name",
        );
      }
      if (!session.outputNames.includes(manifest.output_name)) {
        throw invalid(
          `graph has no output '${manifest.output_name}' (outputs: ${session.outputNames.join(', ')})`,
          "fix the manifest's output_name",
        );
      }
      const meta = session.inputMetadata[session.inputNames.indexOf(manifest.input_name)];
      if (meta?.isTensor) {
        const width = meta.shape[meta.shape.length - 1];
        if (meta.type !== 'float32' || (typeof width === 'number' && width !== N_FEATURES)) {
          throw invalid(
            `input '${manifest.input_name}' is ${meta.type} [${meta.shape.join(', ')}]`,
            `export the model with a float32 [N, ${N_FEATURES}] input`,
          );
        }
      }
      // Warm-up: the first run allocates and plans; do it here, not on the first live batch. It also
      // tells us the output's width, so the per-batch path does no shape checks.
      const probe = new Float32Array(maxBatch * N_FEATURES);
      let columns = 0;
      for (const n of maxBatch > 1 ? [1, maxBatch] : [1]) {
        const out = (
          await session.run(
            { [manifest.input_name]: new ort.Tensor('float32', probe.subarray(0, n * N_FEATURES), [n, N_FEATURES]) },
            [manifest.output_name],
          )
        )[manifest.output_name]!;
        if (out.type !== 'float32' || out.data.length % n !== 0) {
          throw invalid(
            `output '${manifest.output_name}' is ${out.type} [${out.dims.join(', ')}]`,
            'export float32 scores',
          );
        }
        columns = out.data.length / n;
      }
      const column = manifest.output_column ?? 0;
      if (columns > 1 && manifest.output_column === undefined) {
        throw invalid(
          `output has ${columns} columns`,
          "set the manifest's output_column to the fraud probability's column",
        );
      }
      if (column >= columns) {
        throw invalid(`output_column ${column} but the output has ${columns} columns`, 'fix output_column');
      }
      return new OnnxScorer(session, manifest, maxBatch, column, columns);
    } catch (err) {
      await session.release().catch(() => {});
      throw err instanceof FraudError
        ? err
        : invalid(`warm-up run failed (${(err as Error).message})`, 're-export', err);
    }
  }

  /**
   * Runs the caller's buffer as the input tensor, zero-copy. The caller must not modify input[0, n × 15)
   * until the promise settles (it must not touch `out` then either, so this adds no new rule). A
   * scorer-owned staging buffer was rejected: overlapping calls (a shadow challenger, a timed-out run
   * still queued) would overwrite each other's rows before ORT reads them.
   */
  async score(input: Float32Array, n: number, out: Float32Array): Promise<void> {
    if (this.closed) throw new FraudError(ErrorCodes.MODEL_FAILED, `scorer ${this.name}@${this.version} is closed`);
    if (n === 0) return;
    if (n > this.maxBatch || input.length < n * N_FEATURES || out.length < n) {
      throw new FraudError(ErrorCodes.MODEL_FAILED, `batch of ${n} exceeds maxBatch ${this.maxBatch} or its buffers`);
    }
    // A Tensor costs ~0.3 µs to build, but caching one per n over the pipeline's one reused buffer makes
    // the steady state allocation-free.
    if (input !== this.tensorsFor) {
      this.tensors = [];
      this.tensorsFor = input;
    }
    let tensor = this.tensors[n];
    if (tensor === undefined) {
      tensor = new ort.Tensor('float32', input.subarray(0, n * N_FEATURES), [n, N_FEATURES]);
      this.tensors[n] = tensor;
    }
    const result = await this.session.run({ [this.manifest.input_name]: tensor }, this.fetches);
    const data = result[this.manifest.output_name]!.data as Float32Array;
    if (this.columns === 1) {
      out.set(data.subarray(0, n));
    } else {
      for (let i = 0, j = this.column; i < n; i++, j += this.columns) out[i] = data[j]!;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tensors = [];
    this.tensorsFor = null;
    await this.session.release();
  }
}
