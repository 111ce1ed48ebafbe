import type { Label, Transaction } from '../types.js';

/**
 * Where each record of an enrich() call came from, so that the store can keep the event-time watermark
 * shared by all members (terminal features only use events every partition has passed; see
 * watermark.ts). Optional: without it a store treats its input as one in-order stream.
 */
export interface EnrichContext {
  /** The source partition of txs[i], for i < n (the Kafka partition number). */
  readonly partitions: ArrayLike<number>;
  /**
   * How many partitions the source topic has: one that has not reported yet holds the watermark (for a
   * short grace). 0 when unknown: the watermark then spans the partitions any member has reported.
   */
  readonly partitionCount: number;
  /**
   * Partition → a point in event time before which every event of that partition is already in the
   * store (the first record this member fetched from it since assignment: earlier ones were written by
   * their earlier owner before it committed). Lets the watermark count a partition this member holds
   * before any of its records was written. Optional.
   */
  readonly floors?: ReadonlyMap<number, number>;
}

/**
 * Where a transaction's 15 features come from. Implementations: Redis (live) and in-memory (embedded
 * runs, backfill, tests); both must give bit-identical vectors for the same input stream.
 */
export interface FeatureStore {
  /**
   * Adds txs[0..n) to their customer and terminal windows (idempotent on transaction_id) and writes
   * record i's features into out[i * N_FEATURES .. (i + 1) * N_FEATURES), in FEATURE_NAMES order.
   * One round trip to the backing store per call in the steady state. Never rejects: when the store is
   * unavailable it writes the documented default features and resolves to the degradation cause code
   * (ErrorCodes.FEATURES_UNAVAILABLE); when the store knows its windows are incomplete (it lost its
   * data) it writes what it has and resolves to ErrorCodes.FEATURES_INCOMPLETE; otherwise null.
   */
  enrich(txs: readonly Transaction[], n: number, out: Float32Array, context?: EnrichContext): Promise<string | null>;

  /** Records fraud reports so that the terminal risk windows count them. Idempotent on transaction_id. */
  applyLabels(labels: readonly Label[]): Promise<void>;

  /** True when the backing store answered its last request (for /readyz). */
  isHealthy(): boolean;

  close(): Promise<void>;
}
