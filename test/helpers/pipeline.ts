import { TransactionDecoder } from '../../src/avro/transaction-decoder.js';
import type { FeatureStore } from '../../src/features/feature-store.js';
import { Metrics } from '../../src/monitoring/metrics.js';
import { fromRoot } from '../../src/package-root.js';
import { Champion } from '../../src/pipeline/champion.js';
import { Processor } from '../../src/pipeline/processor.js';
import type { OutputBatch, Sink } from '../../src/pipeline/sink.js';
import { RunStats } from '../../src/pipeline/stats.js';
import { ruleScore } from '../../src/policy/rule-policy.js';
import { ThresholdPolicy } from '../../src/policy/threshold-policy.js';
import { ModelRegistry } from '../../src/scoring/model-registry.js';

/** Keeps every batch it is given. */
export class CapturingSink implements Sink {
  readonly batches: OutputBatch[] = [];
  async write(batch: OutputBatch): Promise<void> {
    this.batches.push(batch);
  }
  async close(): Promise<void> {}
  get decisions() {
    return this.batches.flatMap((b) => b.decisions);
  }
  get deadLetters() {
    return this.batches.flatMap((b) => b.deadLetters);
  }
}

/** A processor on the bundled placeholder model with the given store and sink. */
export async function testProcessor(store: FeatureStore, sink: Sink, maxBatch = 64) {
  const registry = await ModelRegistry.open(fromRoot('models/placeholder'), { maxBatch });
  const metrics = new Metrics(undefined, { defaultMetrics: false });
  const champion = new Champion(registry, (m) => new ThresholdPolicy(m), ruleScore, metrics, {
    budgetMs: 1,
    deadlineMs: 50,
    maxBatch,
  });
  const stats = new RunStats();
  const processor = new Processor({
    decoder: new TransactionDecoder(),
    store,
    champion,
    sink,
    metrics,
    stats,
    maxBatch,
    maxWaitMs: 2,
  });
  return { processor, registry, metrics, stats };
}
