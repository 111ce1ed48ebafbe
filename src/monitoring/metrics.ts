import client from 'prom-client';
import { ErrorCodes } from '../errors.js';
import { FEATURE_NAMES, type FeatureName } from '../features/feature-names.js';
import { type PipelineMetrics, STAGES, type Stage } from '../pipeline/pipeline-metrics.js';
import type { Outcome } from '../types.js';
import { DRIFT_WINDOW } from './drift.js';
import { RecordHistogram } from './record-histogram.js';

export { STAGES, type Stage };

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
const DEGRADED_CAUSES = [
  ErrorCodes.FEATURES_UNAVAILABLE,
  ErrorCodes.FEATURES_INCOMPLETE,
  ErrorCodes.MODEL_DEADLINE_EXCEEDED,
  ErrorCodes.MODEL_FAILED,
];

/** 100 µs .. 10 s, roughly ×2.5 per bucket. */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Per-stage and event→decision times: ×1.25–1.33 steps over 0.5–50 ms, where a healthy scorer's stages
 * and decisions fall, so that p50/p99 read from buckets are meaningful (×2.5 steps put p99 of 12 and
 * 24 ms in the same bucket); coarse below and above.
 */
export const STAGE_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.00125, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01,
  0.0125, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * fraudscore's metrics on a registry the caller owns. Every labelled child the hot path touches is
 * created here, once, so recording is a property lookup and an add.
 */
export class Metrics implements PipelineMetrics {
  readonly registry: client.Registry;
  readonly recordsIn: client.Counter;
  /** Observed per record: RecordHistogram, not prom-client's (see record-histogram.ts). */
  readonly eventToDecision: RecordHistogram;
  readonly processingLatency: RecordHistogram;
  readonly batchSize: client.Histogram;
  readonly budgetOverruns: client.Counter;
  readonly modelReloads: client.Counter;
  readonly score: RecordHistogram;
  readonly stage: Record<Stage, client.Histogram.Internal<string>>;
  readonly decisions: Record<Outcome, client.Counter.Internal>;
  private readonly deadLetters: client.Counter<'code'>;
  private readonly deadLetterChildren = new Map<string, client.Counter.Internal>();
  private readonly degraded: client.Counter<'cause'>;
  private readonly degradedChildren = new Map<string, client.Counter.Internal>();
  private readonly modelInfo: client.Gauge<'name' | 'version' | 'format' | 'role'>;
  private readonly modelInfoByRole = new Map<string, [string, string, string, string][]>();
  /** Seconds per shadow run of the challenger; the challenger wiring calls observe(seconds). */
  readonly challengerLatency: client.Histogram;
  /** Challenger-scored records whose outcome bucket equals the champion's, and all compared records. */
  readonly challengerAgreements: client.Counter;
  readonly challengerComparisons: client.Counter;
  readonly challengerAbsDiff: client.Histogram;
  /** PSI of the drift window against the manifest baseline (NaN until the window holds enough). */
  readonly featurePsi: Record<FeatureName, client.Gauge.Internal<string>>;
  readonly scorePsi: client.Gauge;
  readonly defaultedShare: client.Gauge;
  readonly driftWindowRecords: client.Gauge;
  /** Failed feature-store Redis requests by cause (src/features/redis-errors.ts); the store's onRedisError. */
  readonly redisErrors: client.Counter<'cause'>;
  /** Partitions left out of the event-time watermark as idle; the store's onWatermarkIdle. */
  readonly watermarkIdlePartitions: client.Counter;
  readonly featureCacheEntries: client.Gauge;
  readonly featureCacheEvictions: client.Counter;
  /** Seconds a feature batch waited for the watermark (catch-up only); the store's onWatermarkWait (ms / 1000). */
  readonly watermarkWait: client.Histogram;
  /** Times the source paused a partition that was ahead of the others in event time (a wait). */
  readonly alignPauses: client.Counter;
  /** Times a partition that delivered nothing for --align-idle-ms stopped holding the others. */
  readonly alignIdlePartitions: client.Counter;
  /** 1 once the drift window is warm (warm-up done, window full): the PSIs mean something. */
  readonly driftWarm: client.Gauge;

  constructor(registry = new client.Registry(), opts: { defaultMetrics?: boolean; driftWindow?: number } = {}) {
    const window = `the last ${(opts.driftWindow ?? DRIFT_WINDOW).toLocaleString('en-US')} scored records`;
    const baseline =
      "the champion manifest's baseline histogram (features: the model's training week; score: the delay week after it, unlabelled; manifest trained_on.baseline)";
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
    // inc(0) exports every known label value at 0 from the start: rate() and alerts need the series.
    for (const o of OUTCOMES) this.decisions[o].inc(0);
    this.deadLetters = new client.Counter({
      name: 'fraudscore_dead_letters_total',
      help: 'Records sent to the dead-letter topic, by error code.',
      labelNames: ['code'],
      registers,
    });
    for (const c of DLQ_CODES) this.deadLetterChildren.set(c, this.deadLetters.labels(c));
    for (const c of this.deadLetterChildren.values()) c.inc(0);
    this.degraded = new client.Counter({
      name: 'fraudscore_degraded_decisions_total',
      help: 'Decisions made without everything the model needs, by cause.',
      labelNames: ['cause'],
      registers,
    });
    for (const c of DEGRADED_CAUSES) this.degradedChildren.set(c, this.degraded.labels(c));
    for (const c of this.degradedChildren.values()) c.inc(0);
    this.redisErrors = new client.Counter({
      name: 'fraudscore_redis_errors_total',
      help: 'Failed feature-store Redis requests, by cause (timeout, connection, noperm, auth, oom, readonly, cluster, bad_state, other).',
      labelNames: ['cause'],
      registers,
    });
    this.watermarkIdlePartitions = new client.Counter({
      name: 'fraudscore_watermark_idle_partitions_total',
      help: 'Times a partition silent past the idle time was left out of the event-time watermark (summed per watermark read).',
      registers,
    });
    this.featureCacheEntries = new client.Gauge({
      name: 'fraudscore_feature_cache_entries',
      help: "Transactions held in the feature store's in-memory windows (bounded by --feature-cache-entries).",
      registers,
    });
    this.featureCacheEvictions = new client.Counter({
      name: 'fraudscore_feature_cache_evictions_total',
      help: 'Customers and terminals dropped from the in-memory windows to stay within --feature-cache-entries (their logs are read from Redis again on their next transaction).',
      registers,
    });
    this.watermarkWait = new client.Histogram({
      name: 'fraudscore_watermark_wait_seconds',
      help: 'Time a feature batch waited for every partition to pass its terminal windows (catch-up only).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.alignPauses = new client.Counter({
      name: 'fraudscore_source_align_pauses_total',
      help: 'Times a partition was paused for being more than --align-max-lead-ms of event time ahead of the slowest partition this scorer holds.',
      registers,
    });
    this.alignIdlePartitions = new client.Counter({
      name: 'fraudscore_source_align_idle_partitions_total',
      help: 'Times a partition that delivered nothing for --align-idle-ms stopped holding the others back.',
      registers,
    });
    this.eventToDecision = new RecordHistogram(
      'fraudscore_event_to_decision_seconds',
      "From the transaction's event time to its decision being written.",
      STAGE_BUCKETS,
      registers,
    );
    this.processingLatency = new RecordHistogram(
      'fraudscore_processing_seconds',
      'From the record reaching fraudscore to its decision being written.',
      STAGE_BUCKETS,
      registers,
    );
    const stage = new client.Histogram({
      name: 'fraudscore_stage_duration_seconds',
      help: "Time per micro-batch in each pipeline stage; fetch_wait is its oldest record's Kafka timestamp to arrival, batch_wait that arrival to the batch's start, produce the sink's whole write, commit included, commit the offsets/transaction commit alone.",
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    // zero() exports each stage's series from the start (a labelled histogram is absent until observed).
    for (const s of STAGES) stage.zero({ stage: s });
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
    this.score = new RecordHistogram(
      'fraudscore_score',
      "Champion model's fraud score.",
      [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
      registers,
    );
    this.challengerLatency = new client.Histogram({
      name: 'fraudscore_challenger_inference_seconds',
      help: 'Time per micro-batch of the shadow (challenger) model.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.challengerComparisons = new client.Counter({
      name: 'fraudscore_challenger_compared_total',
      help: 'Records scored by both champion and challenger.',
      registers,
    });
    this.challengerAgreements = new client.Counter({
      name: 'fraudscore_challenger_agreed_total',
      help: "Compared records whose challenger score falls in the same outcome bucket (under the champion's thresholds) as the champion's.",
      registers,
    });
    this.challengerAbsDiff = new client.Histogram({
      name: 'fraudscore_challenger_score_abs_diff',
      help: '|challenger score − champion score| per compared record.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1],
      registers,
    });
    const psi = new client.Gauge({
      name: 'fraudscore_feature_psi',
      help: `Population stability index of each model feature over ${window} against ${baseline}; NaN until the window is warm.`,
      labelNames: ['feature'],
      registers,
    });
    this.featurePsi = Object.fromEntries(FEATURE_NAMES.map((f) => [f, psi.labels(f)])) as Record<
      FeatureName,
      client.Gauge.Internal<string>
    >;
    for (const f of FEATURE_NAMES) this.featurePsi[f].set(Number.NaN);
    this.scorePsi = new client.Gauge({
      name: 'fraudscore_score_psi',
      help: `Population stability index of the champion score over ${window} against ${baseline}; NaN until the window is warm.`,
      registers,
    });
    this.scorePsi.set(Number.NaN);
    this.defaultedShare = new client.Gauge({
      name: 'fraudscore_defaulted_features_ratio',
      help: `Share of ${window} decided with default features (degraded by FRAUD_FEATURES_UNAVAILABLE).`,
      registers,
    });
    this.driftWindowRecords = new client.Gauge({
      name: 'fraudscore_drift_window_records',
      help: `Records in the drift window (${window}, after the warm-up records).`,
      registers,
    });
    this.driftWarm = new client.Gauge({
      name: 'fraudscore_drift_warm',
      help: 'Whether the drift window is warm (1): the warm-up records after start or model reload are past and the window is full. Drift alerts require it.',
      registers,
    });
    this.driftWarm.set(0);
  }

  deadLetter(code: string): void {
    let c = this.deadLetterChildren.get(code);
    if (c === undefined) {
      c = this.deadLetters.labels(code);
      this.deadLetterChildren.set(code, c);
    }
    c.inc();
  }

  /** The RedisFeatureStore's metric hooks: `RedisFeatureStore.connect({ ..., ...metrics.featureStoreHooks() })`. */
  featureStoreHooks(): {
    onRedisError: (cause: string) => void;
    onWatermarkIdle: (partitions: number) => void;
    onWatermarkWait: (ms: number) => void;
    onCacheEntries: (entries: number, evicted: number) => void;
  } {
    return {
      onRedisError: (cause) => this.redisErrors.labels(cause).inc(),
      onWatermarkIdle: (partitions) => this.watermarkIdlePartitions.inc(partitions),
      onWatermarkWait: (ms) => this.watermarkWait.observe(ms / 1000),
      onCacheEntries: (entries, evicted) => {
        this.featureCacheEntries.set(entries);
        if (evicted > 0) this.featureCacheEvictions.inc(evicted);
      },
    };
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
