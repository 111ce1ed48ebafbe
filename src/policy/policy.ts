import type { Outcome } from '../types.js';

export interface Verdict {
  outcome: Outcome;
  /** Strongest first; a shared empty array for APPROVE so approving allocates nothing. */
  reasons: readonly string[];
}

/** Turns a score (and the features that produced it) into an outcome with reason codes. */
export interface Policy {
  /** `features` holds the batch's vectors; this record's vector starts at `offset`. */
  decide(score: number, features: Float32Array, offset: number): Verdict;
}
