// A stand-in processor for the client tests: one decision per record, the write's positions per partition.
import { decisionType, transactionType } from '../../src/avro/schemas.js';
import type { OutputBatch } from '../../src/pipeline/sink.js';
import type { SourceRecord } from '../../src/pipeline/source.js';
import type { Decision, Transaction } from '../../src/types.js';

const txAvro = transactionType();
const decisionAvro = decisionType();

/** The transaction id of a decision record's value (after the 5-byte Confluent framing). */
export const decisionIdOf = (v: Buffer | null): string =>
  (decisionAvro.fromBuffer(v!.subarray(5)) as Decision).transaction_id;

/** An APPROVE decision with the given transaction id and neutral fields (what the client tests write). */
export function testDecision(id: string): Decision {
  return {
    transaction_id: id,
    customer_id: 'c1',
    event_time: Date.now(),
    score: 0,
    decision: 'APPROVE',
    reason_codes: [],
    model_name: 'test',
    model_version: '0',
    challenger_score: null,
    degraded: false,
    degraded_cause: null,
    features: [],
    latency_us: 0,
    scored_at: 0,
  };
}

/** A decision per record (the transaction id is all the tests read back), positions per partition. */
export function decide(records: SourceRecord[]): OutputBatch {
  const decisions: Decision[] = [];
  const next = new Map<string, { topic: string; partition: number; offset: string }>();
  for (const r of records) {
    const tx = txAvro.fromBuffer(r.value!.subarray(5)) as Transaction;
    decisions.push({ ...testDecision(tx.transaction_id), customer_id: tx.customer_id, event_time: tx.event_time });
    next.set(`${r.topic}/${r.partition}`, {
      topic: r.topic,
      partition: r.partition,
      offset: String(BigInt(r.offset) + 1n),
    });
  }
  return { decisions, deadLetters: [], positions: [...next.values()] };
}

/**
 * A record handler that writes each handed-over batch with `write`, one at a time and in order, as the
 * micro-batcher does: after a failed write, nothing handed over before the failure is written (the
 * source reads it again with the failed records).
 */
export function inOrderWrites(
  write: (batch: OutputBatch) => Promise<void>,
): (records: SourceRecord[]) => Promise<void> {
  let chain = Promise.resolve();
  let epoch = 0;
  return (records) => {
    const at = epoch;
    const done = chain.then(() => {
      if (at !== epoch) throw new Error('an earlier write failed');
      return write(decide(records)).catch((err: unknown) => {
        epoch++;
        throw err;
      });
    });
    chain = done.catch(() => {});
    return done;
  };
}
