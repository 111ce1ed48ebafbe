// The metrics the pipeline core records, declared here so that pipeline/ depends on no metrics library:
// monitoring/metrics.ts implements this with prom-client, a test or a bench may hand in anything else.
import type { Outcome } from '../types.js';

/** Pipeline stages timed per micro-batch (fraudscore_stage_duration_seconds{stage}). */
export const STAGES = [
  'fetch_wait',
  'batch_wait',
  'decode',
  'features',
  'inference',
  'policy',
  'produce',
  'commit',
] as const;
export type Stage = (typeof STAGES)[number];

export interface CounterMetric {
  inc(value?: number): void;
}

export interface HistogramMetric {
  observe(value: number): void;
}

export interface PipelineMetrics {
  recordsIn: CounterMetric;
  /** Seconds per micro-batch in each stage. */
  stage: Readonly<Record<Stage, HistogramMetric>>;
  batchSize: HistogramMetric;
  score: HistogramMetric;
  decisions: Readonly<Record<Outcome, CounterMetric>>;
  /** Seconds from the record reaching fraudscore to its decision being written. */
  processingLatency: HistogramMetric;
  /** Seconds from the transaction's event time to its decision being written. */
  eventToDecision: HistogramMetric;
  /** Model runs over the inference budget. */
  budgetOverruns: CounterMetric;
  deadLetter(code: string): void;
  degradedDecisions(cause: string, n: number): void;
}
