// The shadow challenger as the processor sees it (ChallengerHandle): scores every micro-batch beside
// the champion, its score goes into decision.challenger_score, it never decides and it never fails or
// stalls a batch. Latency goes to `onLatency` (the run wiring feeds fraudscore_challenger_inference_seconds);
// agreement with the champion is computed from ObservedBatch.challengerScores by a BatchObserver.

import { performance } from 'node:perf_hooks';
import { N_FEATURES } from '../features/feature-names.js';
import { loadManifest, type Manifest } from '../scoring/manifest.js';
import { OnnxScorer } from '../scoring/onnx-scorer.js';
import type { Scorer } from '../scoring/scorer.js';
import type { ChallengerHandle } from './processor.js';

export interface ShadowChallengerOptions {
  /** Largest batch the processor sends. */
  maxBatch: number;
  /**
   * The longest the processor waits for the challenger per batch (default 20 ms). A batch not scored by
   * then gets challenger_score null; while that run is still going, later batches are not sent to the
   * challenger (also null) so that a slow challenger never piles up work or delays the champion's path.
   */
  timeoutMs?: number;
  /** Seconds per completed challenger run and its batch size. */
  onLatency?: (seconds: number, n: number) => void;
  /** A run that threw (the batch gets challenger_score null). */
  onError?: (err: unknown) => void;
}

export interface ShadowChallengerStats {
  batches: number;
  records: number;
  failures: number;
  timeouts: number;
  /** Batches not sent because a timed-out run was still going. */
  skipped: number;
}

/** Loads a scorer for a model folder by its manifest's format (ONNX Runtime or TF.js). */
export async function loadScorer(
  dir: string,
  maxBatch: number,
  given?: Manifest,
): Promise<{ scorer: Scorer; manifest: Manifest }> {
  const manifest = given ?? (await loadManifest(dir));
  if (manifest.format === 'onnx') return { scorer: await OnnxScorer.load(dir, { manifest, maxBatch }), manifest };
  const { TfjsScorer } = await import('../scoring/tfjs-scorer.js');
  return { scorer: await TfjsScorer.load(dir, { manifest, maxBatch }), manifest };
}

export class ShadowChallenger implements ChallengerHandle {
  readonly stats: ShadowChallengerStats = { batches: 0, records: 0, failures: 0, timeouts: 0, skipped: 0 };
  private readonly input: Float32Array;
  private readonly output: Float32Array;
  private readonly timeoutMs: number;
  private running: Promise<unknown> | null = null;
  private closed = false;

  constructor(
    readonly scorer: Scorer,
    readonly manifest: Manifest,
    private readonly opts: ShadowChallengerOptions,
  ) {
    // Own buffers: a run that outlives its batch's timeout must not read or write the processor's.
    this.input = new Float32Array(opts.maxBatch * N_FEATURES);
    this.output = new Float32Array(opts.maxBatch);
    this.timeoutMs = opts.timeoutMs ?? 20;
  }

  static async load(dir: string, opts: ShadowChallengerOptions): Promise<ShadowChallenger> {
    const { scorer, manifest } = await loadScorer(dir, opts.maxBatch);
    return new ShadowChallenger(scorer, manifest, opts);
  }

  get name(): string {
    return this.scorer.name;
  }
  get version(): string {
    return this.scorer.version;
  }
  get format(): 'onnx' | 'tfjs' {
    return this.scorer.format;
  }

  /** Never rejects: true when out[0..n) holds the challenger's scores, false when it could not score. */
  async score(input: Float32Array, n: number, out: Float32Array): Promise<boolean> {
    if (this.closed || n === 0 || n > this.opts.maxBatch) return false;
    if (this.running !== null) {
      this.stats.skipped++;
      return false;
    }
    this.input.set(input.subarray(0, n * N_FEATURES));
    const t0 = performance.now();
    const run = this.scorer.score(this.input, n, this.output).then(
      () => {
        this.opts.onLatency?.((performance.now() - t0) / 1000, n);
        return true;
      },
      (err: unknown) => {
        this.stats.failures++;
        this.opts.onError?.(err);
        return false;
      },
    );
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = null;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    const result = await Promise.race([run, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.stats.timeouts++;
      return false;
    }
    if (!result) return false;
    this.running = null;
    out.set(this.output.subarray(0, n));
    this.stats.batches++;
    this.stats.records += n;
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.running?.catch(() => {});
    await this.scorer.close();
  }
}
