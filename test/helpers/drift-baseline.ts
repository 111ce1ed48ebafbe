// A model copy whose manifest baseline comes from an undrifted quick stream, computed by the live
// pipeline code (Processor, in-memory feature store — identical to Redis — and the model) like a
// training backfill would: the drift tests compare live windows of the same kind of stream with it.

import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { transactionEncoder } from '../../src/avro/encoders.js';
import { TransactionDecoder } from '../../src/avro/transaction-decoder.js';
import { FEATURE_NAMES, N_FEATURES } from '../../src/features/feature-names.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import { baselineHistogram } from '../../src/monitoring/histogram.js';
import { Metrics } from '../../src/monitoring/metrics.js';
import { Champion } from '../../src/pipeline/champion.js';
import { type ObservedBatch, Processor } from '../../src/pipeline/processor.js';
import type { SourceRecord } from '../../src/pipeline/source.js';
import { RunStats } from '../../src/pipeline/stats.js';
import { ruleScore } from '../../src/policy/rule-policy.js';
import { ThresholdPolicy } from '../../src/policy/threshold-policy.js';
import { MANIFEST_FILE } from '../../src/scoring/manifest.js';
import { ModelRegistry } from '../../src/scoring/model-registry.js';
import type { Transaction } from '../../src/types.js';

/** Every record of the stream from `skip` on, through the same Processor, features and model. */
export async function sampleOf(modelDir: string, txs: readonly Transaction[], skip: number): Promise<Float64Array[]> {
  const maxBatch = 256;
  const registry = await ModelRegistry.open(modelDir, { maxBatch });
  const metrics = new Metrics(undefined, { defaultMetrics: false });
  const champion = new Champion(registry, (m) => new ThresholdPolicy(m), ruleScore, metrics, {
    budgetMs: 1,
    deadlineMs: 5000, // no fallback scores in a baseline, however loaded the machine
    maxBatch,
  });
  const columns = Array.from({ length: N_FEATURES + 1 }, () => new Float64Array(txs.length - skip));
  let seen = 0;
  let kept = 0;
  const collect = {
    observeBatch(b: ObservedBatch): void {
      for (let r = 0; r < b.n; r++, seen++) {
        if (seen < skip || b.cause !== null) continue;
        for (let c = 0; c < N_FEATURES; c++) columns[c]![kept] = b.features[r * N_FEATURES + c]!;
        columns[N_FEATURES]![kept] = b.scores[r]!;
        kept++;
      }
    },
  };
  const sink = { write: async () => {}, close: async () => {} };
  const processor = new Processor({
    decoder: new TransactionDecoder(),
    store: new MemoryFeatureStore(),
    champion,
    sink,
    metrics,
    stats: new RunStats(),
    maxBatch,
    maxWaitMs: 1,
    observers: [collect],
  });
  const enc = transactionEncoder();
  for (let i = 0; i < txs.length; i += 512) {
    const records: SourceRecord[] = txs.slice(i, i + 512).map((tx, j) => ({
      key: null,
      value: enc.encode(tx),
      topic: 'baseline',
      partition: 0,
      offset: String(i + j),
      arrivedAt: performance.now(),
    }));
    await processor.handle(records);
  }
  await processor.close();
  await registry.close();
  return columns.map((c) => c.subarray(0, kept));
}

/** A copy of the model dir whose manifest baseline is the given sample's histograms. */
export async function withBaseline(modelDir: string, sample: Float64Array[], into: string): Promise<void> {
  await cp(modelDir, into, { recursive: true });
  const file = path.join(into, MANIFEST_FILE);
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  manifest.baseline = {
    features: Object.fromEntries(FEATURE_NAMES.map((f, c) => [f, baselineHistogram(sample[c]!)])),
    score: baselineHistogram(sample[N_FEATURES]!),
  };
  manifest.trained_on = { ...manifest.trained_on, baseline: 'drift-pipeline test: undrifted quick stream, seed 101' };
  await writeFile(file, JSON.stringify(manifest));
}
