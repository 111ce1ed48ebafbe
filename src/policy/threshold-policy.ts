// Thresholds → APPROVE | REVIEW | DECLINE, with up to three reason codes for REVIEW and DECLINE.

import { ErrorCodes, FraudError } from '../errors.js';
import { FEATURE_NAMES, N_FEATURES } from '../features/feature-names.js';
import type { Manifest } from '../scoring/manifest.js';
import type { Policy, Verdict } from './policy.js';

export interface Thresholds {
  review: number;
  decline: number;
}

export interface ThresholdPolicyOptions {
  /** Overrides the manifest's thresholds (from config); each one independently. */
  thresholds?: Partial<Thresholds>;
  /** Most reason codes per verdict. Default 3. */
  maxReasons?: number;
}

const NO_REASONS: readonly string[] = Object.freeze([]);
/** One frozen verdict for every APPROVE: approving allocates nothing. */
const APPROVE: Verdict = Object.freeze({ outcome: 'APPROVE', reasons: NO_REASONS });

/** A feature's training distribution, compiled once for a binary search per record. */
interface FeatureTail {
  edges: Float64Array;
  /** Mid-bin CDF: share below the bin plus half the bin's share (handles ties in discrete features). */
  midCdf: Float64Array;
  importance: number;
  high: string;
  low: string;
}

/**
 * Reason codes, chosen to be cheap (one binary search per feature over 11 edges, no allocation until the top 3
 * are copied out) and sound enough for a first line of explanation:
 *   strength_i = importance_i × |2·F_i(x_i) − 1|
 * where F_i is the feature's training CDF from the manifest's baseline histogram (mid-bin value, so
 * that a 0/1 feature at its common value scores near 0 and at its rare value near 1). It names the
 * inputs that are both far in a tail of what the model was trained on and important to the model,
 * with the tail's side (`<feature>:HIGH` or `<feature>:LOW`). It is not a per-record attribution
 * (SHAP would be, at ~100× the cost) and it is unsigned: a LOW on a feature whose low values are
 * benign can appear; with importance weighting this is rare among the top 3 of a REVIEW/DECLINE.
 */
export class ThresholdPolicy implements Policy {
  readonly review: number;
  readonly decline: number;
  private readonly maxReasons: number;
  private readonly tails: FeatureTail[];
  // Top-k scratch, reused per decide(): strengths and feature indices, strongest first.
  private readonly topStrength: Float64Array;
  private readonly topIndex: Int32Array;
  private readonly topHigh: Uint8Array;

  constructor(manifest: Manifest, opts: ThresholdPolicyOptions = {}) {
    this.review = opts.thresholds?.review ?? manifest.thresholds.review;
    this.decline = opts.thresholds?.decline ?? manifest.thresholds.decline;
    if (!(this.review > 0 && this.review < this.decline && this.decline <= 1)) {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `thresholds review=${this.review}, decline=${this.decline} (after config overrides on manifest ` +
          `${manifest.name}@${manifest.version}); choose 0 < review < decline ≤ 1`,
      );
    }
    this.maxReasons = opts.maxReasons ?? 3;
    this.topStrength = new Float64Array(this.maxReasons);
    this.topIndex = new Int32Array(this.maxReasons);
    this.topHigh = new Uint8Array(this.maxReasons);
    this.tails = FEATURE_NAMES.map((f) => {
      const h = manifest.baseline.features[f];
      const midCdf = new Float64Array(h.proportions.length);
      let below = 0;
      h.proportions.forEach((p, b) => {
        midCdf[b] = below + p / 2;
        below += p;
      });
      return {
        edges: Float64Array.from(h.edges),
        midCdf,
        importance: manifest.importance[f],
        high: `${f}:HIGH`,
        low: `${f}:LOW`,
      };
    });
  }

  decide(score: number, features: Float32Array, offset: number): Verdict {
    if (score < this.review) return APPROVE;
    const outcome = score >= this.decline ? 'DECLINE' : 'REVIEW';
    return { outcome, reasons: this.reasons(features, offset) };
  }

  /** Up to maxReasons codes, strongest first. */
  reasons(features: ArrayLike<number>, offset: number): string[] {
    const k = this.maxReasons;
    const strength = this.topStrength.fill(0);
    const index = this.topIndex;
    const high = this.topHigh;
    let found = 0;
    for (let i = 0; i < N_FEATURES; i++) {
      const t = this.tails[i]!;
      if (t.importance === 0) continue;
      const cdf = cdfOf(t, features[offset + i]!);
      const s = t.importance * Math.abs(2 * cdf - 1);
      if (!(s > 0) || (found === k && s <= strength[k - 1]!)) continue;
      // Insertion into the sorted top-k.
      let j = found < k ? found++ : k - 1;
      while (j > 0 && strength[j - 1]! < s) {
        strength[j] = strength[j - 1]!;
        index[j] = index[j - 1]!;
        high[j] = high[j - 1]!;
        j--;
      }
      strength[j] = s;
      index[j] = i;
      high[j] = cdf > 0.5 ? 1 : 0;
    }
    const out = new Array<string>(found);
    for (let j = 0; j < found; j++) {
      const t = this.tails[index[j]!]!;
      out[j] = high[j] ? t.high : t.low;
    }
    return out;
  }
}

/** Training CDF at x: 0 below the first edge, 1 above the last, else the mid-CDF of x's bin. */
function cdfOf(t: FeatureTail, x: number): number {
  const e = t.edges;
  const last = e.length - 1;
  if (!(x >= e[0]!)) return x < e[0]! ? 0 : 0.5; // NaN: neutral, never a reason
  if (x > e[last]!) return 1;
  // Largest b with e[b] ≤ x, capped at the last bin (whose upper edge is inclusive).
  let lo = 0;
  let hi = last - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (e[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return t.midCdf[lo]!;
}
