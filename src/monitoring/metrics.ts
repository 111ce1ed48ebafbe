import client from 'prom-client';
import { ErrorCodes } from '../errors.js';
import type { Outcome } from '../types.js';

export const STAGES = ['decode', 'features', 'inference', 'policy', 'produce', 'commit'] as const;
export type Stage = (typeof STAGES)[number];

const OUTCOMES: readonly Outcome[] = ['APPROVE', 'REVIEW', 'DECLINE'];
const DLQ_CODES = [
  ErrorCodes.BAD_MAGIC_BYTE,
  ErrorCodes.UNKNOWN_SCHEMA_ID,
  ErrorCodes.TRUNCATED_RECORD,
  ErrorCodes.UNDECODABLE_RECORD,
  ErrorCodes.EMPTY_RECORD,
  ErrorCodes.INVALID_FIELD,
  ErrorCodes.EVENT_TIME_OUT_OF_RANGE,
];
const DEGRADED_CAUSES = [ErrorCodes.FEATURES_UNAVAILABLE, ErrorCodes.MODEL_DEADLINE_EXCEEDED, ErrorCodes.MODEL_FAILED];

/** 100 µs .. 10 s, roughly ×2.5 per bucket. */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * fraudscore's metrics on a registry the caller owns. Every labelled child the hot path touches is
 * created here, once, so recording is a property lookup and an add.
 */
export class Metrics {
  readonly registry: client.Registry;
  readonly recordsIn: client.Counter;
  readonly eventToDecision: client.Histogram;
  readonly processingLatency: client.Histogram;
  readonly batchSize: client.Histogram;
  readonly budgetOverruns: client.Counter;
  readonly modelReloads: client.Counter;
  readonly score: client.Histogram;
  readonly stage: Record<Stage, client.Histogram.Internal<string>>;
  readonly decisions: Record<Outcome, client.Counter.Internal>;
  private readonly deadLetters: client.Counter<'code'>;
  private readonly deadLetterChildren = new Map<string, client.Counter.Internal>();
  private readonly degraded: client.Counter<'cause'>;
  private readonly degradedChildren = new Map<string, client.Counter.Internal>();
  private readonly modelInfo: client.Gauge<'name' | 'version' | 'format' | 'role'>;
  private readonly modelInfoByRole = new Map<string, [string, string, string, string][]>();

  constructor(registry = new client.Registry(), opts: { defaultMetrics?: boolean } = {}) {
    this.registry = registry;
    const registers = [registry];
    if (opts.defaultMetrics ?? true) client.collectDefaultMetrics({ register: registry, prefix: 'fraudscore_' });
    this.recordsIn = new client.Counter({
      name: 'fraudscore_records_in_total',
      help: 'Records read from the transactions source.',
      registers,
    });
    const decisions = new client.Counter({
      name: 'fraudscore_decisions_total',
      help: 'Decisions written, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.decisions = Object.fromEntries(OUTCOMES.map((o) => [o, decisions.labels(o)])) as Record<
      Outcome,
      client.Counter.Internal
    >;
    this.deadLetters = new client.Counter({
      name: 'fraudscore_dead_letters_total',
      help: 'Records sent to the dead-letter topic, by error code.',
      labelNames: ['code'],
      registers,
    });
    for (const c of DLQ_CODES) this.deadLetterChildren.set(c, this.deadLetters.labels(c));
    this.degraded = new client.Counter({
      name: 'fraudscore_degraded_decisions_total',
      help: 'Decisions made without everything the model needs, by cause.',
      labelNames: ['cause'],
      registers,
    });
    for (const c of DEGRADED_CAUSES) this.degradedChildren.set(c, this.degraded.labels(c));
    this.eventToDecision = new client.Histogram({
      name: 'fraudscore_event_to_decision_seconds',
      help: "From the transaction's event time to its decision being written.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.processingLatency = new client.Histogram({
      name: 'fraudscore_processing_seconds',
      help: 'From the record reaching fraudscore to its decision being written.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const stage = new client.Histogram({
      name: 'fraudscore_stage_duration_seconds',
      help: 'Time per micro-batch in each pipeline stage.',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.stage = Object.fromEntries(STAGES.map((s) => [s, stage.labels(s)])) as Record<
      Stage,
      client.Histogram.Internal<string>
    >;
    this.batchSize = new client.Histogram({
      name: 'fraudscore_inference_batch_size',
      help: 'Records per model run.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
      registers,
    });
    this.budgetOverruns = new client.Counter({
      name: 'fraudscore_inference_budget_overruns_total',
      help: 'Model runs that took longer than the inference budget.',
      registers,
    });
    this.modelReloads = new client.Counter({
      name: 'fraudscore_model_reloads_total',
      help: 'Times a changed model was loaded and took over without restart.',
      registers,
    });
    this.modelInfo = new client.Gauge({
      name: 'fraudscore_model_info',
      help: 'The model in use (value 1), by name, version, format and role (champion|challenger).',
      labelNames: ['name', 'version', 'format', 'role'],
      registers,
    });
    this.score = new client.Histogram({
      name: 'fraudscore_score',
      help: "Champion model's fraud score.",
      buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
      registers,
    });
  }

  deadLetter(code: string): void {
    let c = this.deadLetterChildren.get(code);
    if (c === undefined) {
      c = this.deadLetters.labels(code);
      this.deadLetterChildren.set(code, c);
    }
    c.inc();
  }

  degradedDecisions(cause: string, n: number): void {
    let c = this.degradedChildren.get(cause);
    if (c === undefined) {
      c = this.degraded.labels(cause);
      this.degradedChildren.set(cause, c);
    }
    c.inc(n);
  }

  setModel(role: 'champion' | 'challenger', name: string, version: string, format: string): void {
    // One series per role: drop the previous model's labels so the gauge names only the live one.
    for (const m of this.modelInfoByRole.get(role) ?? []) this.modelInfo.remove(...m);
    this.modelInfoByRole.set(role, [[name, version, format, role]]);
    this.modelInfo.labels(name, version, format, role).set(1);
  }
}
