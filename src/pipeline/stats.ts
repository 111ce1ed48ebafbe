import { percentile } from '../stats/percentile.js';
import type { Decision, Outcome } from '../types.js';

const SAMPLE = 200_000;

/** What a run prints when it ends: counts, throughput and latency percentiles. */
export class RunStats {
  recordsIn = 0;
  deadLetters = 0;
  decisions = 0;
  degraded = 0;
  readonly byOutcome: Record<Outcome, number> = { APPROVE: 0, REVIEW: 0, DECLINE: 0 };
  readonly startedAt = performance.now();
  // Processing latencies (ms) of up to SAMPLE decisions, reservoir-sampled beyond that.
  private readonly latencies = new Float64Array(SAMPLE);
  private seen = 0;

  recordDecision(d: Decision, processingMs: number): void {
    this.decisions++;
    this.byOutcome[d.decision]++;
    if (d.degraded) this.degraded++;
    const i = this.seen++;
    if (i < SAMPLE) this.latencies[i] = processingMs;
    else {
      const j = Math.floor(Math.random() * (i + 1));
      if (j < SAMPLE) this.latencies[j] = processingMs;
    }
  }

  percentile(p: number): number {
    const n = Math.min(this.seen, SAMPLE);
    if (n === 0) return Number.NaN;
    return percentile(this.latencies.slice(0, n).sort(), p / 100);
  }

  summary(): RunSummary {
    const seconds = (performance.now() - this.startedAt) / 1000;
    return {
      records: this.recordsIn,
      decisions: this.decisions,
      dead_letters: this.deadLetters,
      degraded: this.degraded,
      by_outcome: { ...this.byOutcome },
      seconds,
      throughput_tps: (this.decisions + this.deadLetters) / seconds,
      p50_ms: this.percentile(50),
      p99_ms: this.percentile(99),
    };
  }
}

export interface RunSummary {
  records: number;
  decisions: number;
  dead_letters: number;
  degraded: number;
  by_outcome: Record<Outcome, number>;
  seconds: number;
  throughput_tps: number;
  p50_ms: number;
  p99_ms: number;
}
