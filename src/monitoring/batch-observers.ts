// BatchObservers that feed metrics: challenger agreement (consumer lag lives in consumer-progress.ts). Each runs once per
// scored micro-batch, after its decisions are durable, and allocates nothing per record.

import type { BatchObserver, ObservedBatch } from '../pipeline/processor.js';
import type { Thresholds } from '../policy/threshold-policy.js';
import type { Metrics } from './metrics.js';

/** Maps a score to its outcome bucket: 0 APPROVE, 1 REVIEW, 2 DECLINE. */
function bucket(score: number, t: Thresholds): number {
  return score >= t.decline ? 2 : score >= t.review ? 1 : 0;
}

/**
 * Agreement of the shadow challenger with the champion: a record agrees when the challenger's score
 * falls in the same outcome bucket (APPROVE / REVIEW / DECLINE) under the champion's thresholds as the
 * champion's score. Buckets, not |difference| < 0.1, because the outcome is what the business would
 * feel: two scores 0.02 apart across a threshold disagree, 0.0 and 0.2 under a 0.3 review threshold
 * agree. The absolute score difference is recorded too (fraudscore_challenger_score_abs_diff).
 */
export class ChallengerAgreement implements BatchObserver {
  constructor(
    private readonly metrics: Metrics,
    /** The champion's effective thresholds (manifest, after config overrides), read once per batch. */
    private readonly thresholds: () => Thresholds,
  ) {}

  observeBatch(b: ObservedBatch): void {
    const challenger = b.challengerScores;
    // A degraded batch was scored by the fallback, not the champion model: nothing to compare.
    if (challenger === null || b.cause !== null) return;
    const t = this.thresholds();
    let agreed = 0;
    for (let i = 0; i < b.n; i++) {
      const s = b.scores[i]!;
      const c = challenger[i]!;
      if (bucket(s, t) === bucket(c, t)) agreed++;
      this.metrics.challengerAbsDiff.observe(Math.abs(c - s));
    }
    this.metrics.challengerComparisons.inc(b.n);
    if (agreed > 0) this.metrics.challengerAgreements.inc(agreed);
  }
}
