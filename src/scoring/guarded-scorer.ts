// Runs one score() with a time budget and a hard deadline, and falls back to the rule-based score when
// the model is too slow or fails, so every record still gets a decision (marked degraded with a cause).

import { type ErrorCode, ErrorCodes } from '../errors.js';
import { N_FEATURES } from '../features/feature-names.js';
import type { Scorer } from './scorer.js';

/** A score in [0,1] from the record's features alone (e.g. ruleScore from src/policy/rule-policy.ts). */
export type FallbackScore = (features: Float32Array, offset: number) => number;

export interface GuardOptions {
  fallback: FallbackScore;
  /** A batch slower than this counts as over budget (onOverBudget). Default 1000 µs. */
  budgetUs?: number;
  /** Past this the model's answer is abandoned and the fallback scores the batch. Default 50 ms. */
  deadlineMs?: number;
  /** Largest batch; sizes the scratch output buffer. Default 1024. */
  maxBatch?: number;
  /** Called for each batch whose inference exceeded the budget (e.g. to increment a counter). */
  onOverBudget?: (inferenceUs: number, n: number) => void;
}

export interface GuardResult {
  /** Wall time of the model run in µs (up to the deadline when it timed out). */
  inferenceUs: number;
  /** null when the model scored the batch; otherwise why the fallback did. */
  degradedCause: ErrorCode | null;
  /** The model's error when degradedCause is MODEL_FAILED. */
  error?: unknown;
}

const TIMED_OUT = Symbol('timed-out');

/**
 * Deadline semantics: the deadline is a Promise.race between the run and a timer. A run that loses the
 * race is not cancelled (neither ORT nor TF.js can cancel a run); it finishes in the background and its
 * result is discarded: it writes into a scratch buffer that the guard then abandons, never into `out`.
 *
 * Caveat for ONNX Runtime: onnxruntime-node 1.30's run() is a setImmediate() followed by a synchronous
 * native call on the main thread (node_modules/onnxruntime-node/dist/backend.js), not a worker thread.
 * The timer therefore cannot fire while ORT computes: a slow ORT run completes, wins the race, and its
 * (late but correct) scores are used; it is still reported through onOverBudget. The race does fire for
 * scorers that really run elsewhere (a worker, a remote model, a hung promise), which is what the
 * deadline protects against. The ONNX session on a worker thread was tried and left out
 * (bench/results/ab-inference-worker.json): drains 8.6 % (exactly-once) and 12.4 % (at-least-once)
 * slower on 2 cores, no better latency, and a stuck run still cannot be cut off, because terminating a
 * worker inside session.run() aborts the whole process.
 */
export class GuardedScorer {
  private readonly budgetUs: number;
  private readonly deadlineMs: number;
  private readonly maxBatch: number;
  private scratch: Float32Array;

  constructor(private readonly opts: GuardOptions) {
    this.budgetUs = opts.budgetUs ?? 1000;
    this.deadlineMs = opts.deadlineMs ?? 50;
    this.maxBatch = opts.maxBatch ?? 1024;
    this.scratch = new Float32Array(this.maxBatch);
  }

  /** Scores rows 0..n of input into out[0..n) with `scorer`, or with the fallback; never rejects. */
  async run(scorer: Scorer, input: Float32Array, n: number, out: Float32Array): Promise<GuardResult> {
    if (n > this.scratch.length) this.scratch = new Float32Array(n);
    const scratch = this.scratch;
    const start = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    let outcome: unknown;
    let failed = false;
    try {
      const running = scorer.score(input, n, scratch);
      const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(resolve, this.deadlineMs, TIMED_OUT);
      });
      outcome = await Promise.race([running, deadline]);
      if (outcome === TIMED_OUT) running.catch(() => {}); // finishes in the background, result unused
    } catch (err) {
      failed = true;
      outcome = err;
    } finally {
      clearTimeout(timer);
    }
    const inferenceUs = Number(process.hrtime.bigint() - start) / 1000;

    if (outcome === TIMED_OUT) {
      // The abandoned run may still write into `scratch`: give the next batch a fresh one.
      this.scratch = new Float32Array(this.scratch.length);
      this.fallback(input, n, out);
      this.opts.onOverBudget?.(inferenceUs, n);
      return { inferenceUs, degradedCause: ErrorCodes.MODEL_DEADLINE_EXCEEDED };
    }
    if (failed) {
      this.fallback(input, n, out);
      return { inferenceUs, degradedCause: ErrorCodes.MODEL_FAILED, error: outcome };
    }
    for (let i = 0; i < n; i++) {
      const v = scratch[i]!;
      if (!(v >= 0 && v <= 1)) {
        // NaN or out of range: a broken model or input; never let it reach the policy.
        this.fallback(input, n, out);
        const error = new Error(`model returned ${v} for row ${i}; expected a probability in [0,1]`);
        return { inferenceUs, degradedCause: ErrorCodes.MODEL_FAILED, error };
      }
    }
    out.set(scratch.subarray(0, n));
    if (inferenceUs > this.budgetUs) this.opts.onOverBudget?.(inferenceUs, n);
    return { inferenceUs, degradedCause: null };
  }

  private fallback(input: Float32Array, n: number, out: Float32Array): void {
    for (let i = 0; i < n; i++) out[i] = this.opts.fallback(input, i * N_FEATURES);
  }
}
