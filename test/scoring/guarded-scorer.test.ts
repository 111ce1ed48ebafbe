import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { ruleScore } from '../../src/policy/rule-policy.js';
import { GuardedScorer } from '../../src/scoring/guarded-scorer.js';
import { OnnxScorer } from '../../src/scoring/onnx-scorer.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import { PLACEHOLDER_DIR, sampleRows, slowModelDir } from './helpers.js';

function fake(score: Scorer['score']): Scorer {
  return { name: 'fake', version: '0', format: 'onnx', score, close: async () => {} };
}
const constant = (v: number, delayMs = 0): Scorer =>
  fake(async (_input, n, out) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    out.fill(v, 0, n);
  });

describe('GuardedScorer', () => {
  const n = 32;
  const input = sampleRows(n, 5);
  const rules = Float32Array.from({ length: n }, (_, i) => ruleScore(input, i * N_FEATURES));

  it('passes a fast model through and reports its inference time', async () => {
    const over: number[] = [];
    const guard = new GuardedScorer({ fallback: ruleScore, budgetUs: 1e6, onOverBudget: (us) => over.push(us) });
    const out = new Float32Array(n);
    const r = await guard.run(constant(0.25), input, n, out);
    expect(r.degradedCause).toBeNull();
    expect(r.inferenceUs).toBeGreaterThan(0);
    expect(out.every((v) => v === 0.25)).toBe(true);
    expect(over).toEqual([]);
  });

  it('counts a batch over the budget but keeps its scores', async () => {
    const over: [number, number][] = [];
    const guard = new GuardedScorer({
      fallback: ruleScore,
      budgetUs: 1000,
      onOverBudget: (us, k) => over.push([us, k]),
    });
    const out = new Float32Array(n);
    const r = await guard.run(constant(0.5, 5), input, n, out);
    expect(r.degradedCause).toBeNull();
    expect(out[0]).toBe(0.5);
    expect(over).toHaveLength(1);
    expect(over[0]![0]).toBeGreaterThan(1000);
    expect(over[0]![1]).toBe(n);
  });

  it('falls back to the rule scores past the deadline, and the late result never lands', async () => {
    const guard = new GuardedScorer({ fallback: ruleScore, deadlineMs: 20 });
    const out = new Float32Array(n);
    const r = await guard.run(constant(0.99, 200), input, n, out);
    expect(r.degradedCause).toBe(ErrorCodes.MODEL_DEADLINE_EXCEEDED);
    expect(r.inferenceUs).toBeGreaterThanOrEqual(19_000);
    expect(Array.from(out)).toEqual(Array.from(rules));
    // Next batch, while the abandoned run is still pending.
    const out2 = new Float32Array(n);
    await guard.run(constant(0.1), input, n, out2);
    await new Promise((r) => setTimeout(r, 250)); // the abandoned run finishes here
    expect(Array.from(out)).toEqual(Array.from(rules));
    expect(out2.every((v) => Math.abs(v - 0.1) < 1e-7)).toBe(true);
  });

  it('cannot preempt a run that blocks the main thread (as onnxruntime-node 1.30 does): late scores are kept', async () => {
    const over: number[] = [];
    const guard = new GuardedScorer({ fallback: ruleScore, deadlineMs: 10, onOverBudget: (us) => over.push(us) });
    // ORT's shape: setImmediate, then a synchronous native run on the main thread.
    const blocking = fake(async (_input, k, out) => {
      await new Promise((r) => setImmediate(r));
      const until = Date.now() + 40;
      while (Date.now() < until) {}
      out.fill(0.5, 0, k);
    });
    const out = new Float32Array(n);
    const r = await guard.run(blocking, input, n, out);
    expect(r.degradedCause).toBeNull();
    expect(r.inferenceUs).toBeGreaterThan(30_000);
    expect(out[0]).toBe(0.5);
    expect(over).toHaveLength(1);
  });

  it('cannot preempt a real ONNX run either: a slow model past the deadline keeps its scores', async () => {
    // If onnxruntime-node ever runs sessions off the main thread, this fails: then the deadline does
    // cut ONNX runs off, and the README's "Failures and exits" must say so.
    // 192 layers: about 100 ms at 32 rows here (48 took 24–32 ms, too close to the bound below).
    const { dir, cleanup } = await slowModelDir(192);
    const scorer = await OnnxScorer.load(dir, { maxBatch: n });
    try {
      const over: number[] = [];
      const guard = new GuardedScorer({ fallback: ruleScore, deadlineMs: 5, onOverBudget: (us) => over.push(us) });
      const out = new Float32Array(n);
      const r = await guard.run(scorer, input, n, out);
      expect(r.inferenceUs).toBeGreaterThan(20_000); // a run 4× the deadline, or this proves nothing
      expect(r.degradedCause).toBeNull();
      expect(out[0]).not.toBe(Math.fround(rules[0]!));
      expect(out[0]).toBeGreaterThan(0);
      expect(over).toHaveLength(1);
    } finally {
      await scorer.close();
      await cleanup();
    }
  });

  it('falls back with MODEL_FAILED when the model throws or returns NaN', async () => {
    const guard = new GuardedScorer({ fallback: ruleScore });
    const out = new Float32Array(n);
    const boom = new Error('boom');
    const r = await guard.run(
      fake(async () => {
        throw boom;
      }),
      input,
      n,
      out,
    );
    expect(r).toMatchObject({ degradedCause: ErrorCodes.MODEL_FAILED, error: boom });
    expect(Array.from(out)).toEqual(Array.from(rules));
    const r2 = await guard.run(constant(Number.NaN), input, n, out.fill(0));
    expect(r2.degradedCause).toBe(ErrorCodes.MODEL_FAILED);
    expect(Array.from(out)).toEqual(Array.from(rules));
  });

  it('guards the real ONNX scorer', async () => {
    const scorer = await OnnxScorer.load(PLACEHOLDER_DIR, { maxBatch: 64 });
    const guard = new GuardedScorer({ fallback: ruleScore, maxBatch: 64 });
    const out = new Float32Array(n);
    const r = await guard.run(scorer, input, n, out);
    expect(r.degradedCause).toBeNull();
    await scorer.close();
    const r2 = await guard.run(scorer, input, n, out);
    expect(r2.degradedCause).toBe(ErrorCodes.MODEL_FAILED); // closed scorer
  });
});
