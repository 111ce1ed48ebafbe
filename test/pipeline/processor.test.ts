import { describe, expect, it } from 'vitest';
import { transactionEncoder } from '../../src/avro/encoders.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import type { SourceRecord } from '../../src/pipeline/source.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Transaction } from '../../src/types.js';
import { CapturingSink, testProcessor } from '../helpers/pipeline.js';

function records(txs: Transaction[]): SourceRecord[] {
  const enc = transactionEncoder();
  return txs.map((tx, i) => ({
    key: Buffer.from(tx.customer_id),
    value: enc.encode(tx),
    topic: 'in',
    partition: i % 3,
    offset: String(Math.floor(i / 3)),
    arrivedAt: performance.now(),
  }));
}

describe('Processor (embedded seams)', () => {
  it('decides every record once, with the features the reference store computes', async () => {
    const txs = [...quickStream({ count: 3000, seed: 7 })];
    const sink = new CapturingSink();
    const { processor, registry } = await testProcessor(new MemoryFeatureStore(), sink);
    const recs = records(txs);
    // Several concurrent submitters, like partitions consumed concurrently.
    await Promise.all([0, 1, 2].map((p) => processor.handle(recs.filter((r) => r.partition === p))));
    await processor.close();
    await registry.close();

    const decisions = sink.decisions;
    expect(decisions).toHaveLength(txs.length);
    expect(sink.deadLetters).toHaveLength(0);
    expect(new Set(decisions.map((d) => d.transaction_id)).size).toBe(txs.length);

    // Reference: the same stream, in the order the processor consumed it, through a fresh store.
    const ref = new MemoryFeatureStore();
    const byId = new Map(txs.map((t) => [t.transaction_id, t]));
    const out = new Float32Array(N_FEATURES);
    for (const d of decisions) {
      await ref.enrich([byId.get(d.transaction_id)!], 1, out);
      expect(d.features).toEqual([...out]);
      expect(d.score).toBeGreaterThanOrEqual(0);
      expect(d.score).toBeLessThanOrEqual(1);
      expect(d.degraded).toBe(false);
    }
    // Commit positions cover every partition's last offset.
    const last = sink.batches.at(-1)!;
    expect(last.positions.length).toBeGreaterThan(0);
  });

  it('dead-letters poison pills with their code and original bytes, and decides the rest', async () => {
    const txs = [...quickStream({ count: 200, seed: 3 })];
    const recs = records(txs);
    const poison: [number, Buffer | null][] = [
      [10, null],
      [20, Buffer.concat([recs[20].value!, Buffer.from([9, 9])])],
      [30, recs[30].value!.subarray(0, 8)],
      [40, Buffer.from([0, 0, 0, 0, 77, 1, 2])],
      [50, transactionEncoder().encode({ ...txs[50], amount_minor: -100 })],
    ];
    for (const [i, v] of poison) recs[i].value = v;
    const sink = new CapturingSink();
    const { processor, registry, metrics } = await testProcessor(new MemoryFeatureStore(), sink);
    await processor.handle(recs);
    await processor.close();
    await registry.close();
    expect(sink.decisions.length + sink.deadLetters.length).toBe(200);
    expect(sink.deadLetters.map((d) => d.code).sort()).toEqual(
      [
        'FRAUD_EMPTY_RECORD',
        'FRAUD_UNDECODABLE_RECORD',
        'FRAUD_TRUNCATED_RECORD',
        'FRAUD_UNKNOWN_SCHEMA_ID',
        'FRAUD_INVALID_FIELD',
      ].sort(),
    );
    for (const d of sink.deadLetters) {
      expect(d.record.value).toBe(recs[Number(d.record.offset) * 3 + d.record.partition].value);
      expect(d.message.length).toBeGreaterThan(5);
    }
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/fraudscore_dead_letters_total\{code="FRAUD_TRUNCATED_RECORD"\} 1/);
  });
});
