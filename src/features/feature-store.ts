import type { Label, Transaction } from '../types.js';

/**
 * Where a transaction's 15 features come from. Implementations: Redis (live) and in-memory (embedded
 * runs, backfill, tests); both must give bit-identical vectors for the same input stream.
 */
export interface FeatureStore {
  /**
   * Adds txs[0..n) to their customer and terminal windows (idempotent on transaction_id) and writes
   * record i's features into out[i * N_FEATURES .. (i + 1) * N_FEATURES), in FEATURE_NAMES order.
   * One round trip to the backing store per call. Never rejects: when the store is unavailable it
   * writes the documented default features and resolves to the degradation cause code
   * (ErrorCodes.FEATURES_UNAVAILABLE); otherwise it resolves to null.
   */
  enrich(txs: readonly Transaction[], n: number, out: Float32Array): Promise<string | null>;

  /** Records fraud reports so that the terminal risk windows count them. Idempotent on transaction_id. */
  applyLabels(labels: readonly Label[]): Promise<void>;

  /** True when the backing store answered its last request (for /readyz). */
  isHealthy(): boolean;

  close(): Promise<void>;
}
