import type { Policy } from '../policy/policy.js';
import { GuardedScorer } from '../scoring/guarded-scorer.js';
import type { Manifest } from '../scoring/manifest.js';
import type { ModelRegistry } from '../scoring/model-registry.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import type { ChampionHandle, ScoreOutcome } from './processor.js';

export type PolicyFactory = (manifest: Manifest) => Policy;

/**
 * The champion for the processor: whatever model the registry holds when a batch starts (a reload
 * never splits a batch), guarded by the inference budget and deadline, with that model's policy.
 */
export class Champion implements ChampionHandle {
  private readonly guard: GuardedScorer;
  private readonly policies = new WeakMap<Manifest, Policy>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly policyFor: PolicyFactory,
    fallback: (features: Float32Array, offset: number) => number,
    metrics: Pick<PipelineMetrics, 'budgetOverruns'>,
    opts: { budgetMs: number; deadlineMs: number; maxBatch: number },
  ) {
    this.guard = new GuardedScorer({
      fallback,
      budgetUs: opts.budgetMs * 1000,
      deadlineMs: opts.deadlineMs,
      maxBatch: opts.maxBatch,
      onOverBudget: () => metrics.budgetOverruns.inc(),
    });
  }

  async score(input: Float32Array, n: number, out: Float32Array): Promise<ScoreOutcome> {
    const model = this.registry.current();
    let policy = this.policies.get(model.manifest);
    if (policy === undefined) {
      policy = this.policyFor(model.manifest);
      this.policies.set(model.manifest, policy);
    }
    const res = await this.guard.run(model.scorer, input, n, out);
    return { name: model.manifest.name, version: model.manifest.version, policy, cause: res.degradedCause };
  }
}
