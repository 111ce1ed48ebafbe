import { performance } from 'node:perf_hooks';
import type { TransactionDecoder } from '../avro/transaction-decoder.js';
import { ErrorCodes, errorCodeOf } from '../errors.js';
import { N_FEATURES } from '../features/feature-names.js';
import type { EnrichContext, FeatureStore } from '../features/feature-store.js';
import type { Policy } from '../policy/policy.js';
import type { Decision, Transaction } from '../types.js';
import { MicroBatcher } from './micro-batcher.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import type { DeadLetter, Position, Sink } from './sink.js';
import type { SourceRecord } from './source.js';
import type { RunStats } from './stats.js';

/** The outcome of scoring one micro-batch with whatever model is current. */
export interface ScoreOutcome {
  name: string;
  version: string;
  policy: Policy;
  /** null, or the degradation cause when the fallback scored the batch. */
  cause: string | null;
}

/** The champion as the processor sees it: one call per micro-batch, never rejects. */
export interface ChampionHandle {
  score(input: Float32Array, n: number, out: Float32Array): Promise<ScoreOutcome>;
}

/** A shadow model: its score is recorded, it never decides. Resolves false when it could not score. */
export interface ChallengerHandle {
  score(input: Float32Array, n: number, out: Float32Array): Promise<boolean>;
}

/**
 * Sees every scored micro-batch after its decisions are durable (drift, challenger agreement, lag by
 * event time). Called once per batch, never per record; must not keep the arrays, they are reused.
 */
export interface BatchObserver {
  observeBatch(batch: ObservedBatch): void;
}

export interface ObservedBatch {
  /** Rows 0..n of features (n × N_FEATURES), scores and, when challenged, challengerScores. */
  n: number;
  features: Float32Array;
  scores: Float32Array;
  challengerScores: Float32Array | null;
  /** Degradation cause of the whole batch, or null. */
  cause: string | null;
  transactions: readonly Transaction[];
  records: readonly SourceRecord[];
}

export interface ProcessorOptions {
  decoder: TransactionDecoder;
  store: FeatureStore;
  champion: ChampionHandle;
  sink: Sink;
  metrics: PipelineMetrics;
  stats: RunStats;
  /** Largest micro-batch, and how long its first record may wait for it to fill. */
  maxBatch: number;
  maxWaitMs: number;
  /** Most micro-batches written together when they were prepared during one write (default 1). */
  batchesPerWrite?: number;
  /** A shadow model scored beside the champion (never decides). */
  challenger?: ChallengerHandle;
  observers?: readonly BatchObserver[];
  /** Partitions of the source topic (the feature store's watermark waits for each); 0 when unknown. */
  partitionCount?: number;
  /** The source's per-partition event-time floors (PartitionAligner.floors), passed to the store. */
  floors?: ReadonlyMap<number, number>;
}

const NO_REASONS: readonly string[] = Object.freeze([]);

/**
 * The pipeline core: decode → features → score → policy → sink, one micro-batch at a time.
 * It knows only the seams (FeatureStore, ChampionHandle, Sink), never Kafka or Redis.
 */
export class Processor {
  private readonly batcher: MicroBatcher<PreparedBatch>;
  // Reused every batch: the hot path allocates only the decision objects it hands to the sink.
  private readonly txs: Transaction[];
  private readonly records: SourceRecord[];
  /** Source partition of txs[i]: the feature store's event-time watermark (FeatureStore EnrichContext). */
  private readonly partitions: Int32Array;
  private readonly features: Float32Array;
  private readonly scores: Float32Array;
  private readonly challengerScores: Float32Array;
  /** "topic/partition" per topic and partition, built once: decode's skew check keys by it per record. */
  private readonly streamKeys = new Map<string, string[]>();
  /** The store's EnrichContext: one object, its partitions array refilled per batch. */
  private readonly context: EnrichContext;

  private readonly decoder: TransactionDecoder;
  private readonly store: FeatureStore;
  private readonly champion: ChampionHandle;
  private readonly sink: Sink;
  private readonly metrics: PipelineMetrics;
  private readonly stats: RunStats;
  private readonly challenger: ChallengerHandle | undefined;
  private readonly observers: readonly BatchObserver[];

  constructor(opts: ProcessorOptions) {
    this.decoder = opts.decoder;
    this.store = opts.store;
    this.champion = opts.champion;
    this.sink = opts.sink;
    this.metrics = opts.metrics;
    this.stats = opts.stats;
    this.challenger = opts.challenger;
    this.observers = opts.observers ?? [];
    this.batcher = new MicroBatcher(
      (batch) => this.prepare(batch),
      (prepared) => this.write(prepared),
      opts.maxBatch,
      opts.maxWaitMs,
      opts.batchesPerWrite ?? 1,
    );
    this.txs = new Array(opts.maxBatch);
    this.records = new Array(opts.maxBatch);
    this.partitions = new Int32Array(opts.maxBatch);
    this.features = new Float32Array(opts.maxBatch * N_FEATURES);
    this.scores = new Float32Array(opts.maxBatch);
    this.challengerScores = new Float32Array(opts.maxBatch);
    this.context = {
      partitions: this.partitions,
      partitionCount: opts.partitionCount ?? 0,
      floors: opts.floors,
    };
  }

  /** The RecordHandler a Source calls. */
  readonly handle = (records: SourceRecord[]): Promise<void> => {
    this.metrics.recordsIn.inc(records.length);
    this.stats.recordsIn += records.length;
    return this.batcher.submit(records);
  };

  get inFlight(): number {
    return this.batcher.inFlight;
  }

  close(): Promise<void> {
    return this.batcher.close();
  }

  private streamKey(r: SourceRecord): string {
    let byPartition = this.streamKeys.get(r.topic);
    if (byPartition === undefined) {
      byPartition = [];
      this.streamKeys.set(r.topic, byPartition);
    }
    let key = byPartition[r.partition];
    if (key === undefined) {
      key = `${r.topic}/${r.partition}`;
      byPartition[r.partition] = key;
    }
    return key;
  }

  /** Decode, features, scoring and policy: everything before the sink. Reuses the batch buffers. */
  private async prepare(batch: SourceRecord[]): Promise<PreparedBatch> {
    const m = this.metrics;
    const t0 = performance.now();
    // Where the oldest record of the batch waited: for Kafka (timestamp → arrival) and for the batch.
    const oldest = batch[0];
    m.stage.batch_wait.observe((t0 - oldest.arrivedAt) / 1000);
    if (oldest.timestamp !== undefined) {
      m.stage.fetch_wait.observe(Math.max(0, Date.now() - (t0 - oldest.arrivedAt) - oldest.timestamp) / 1000);
    }
    const deadLetters: DeadLetter[] = [];
    // Last offset seen per partition; records of one partition arrive in offset order.
    const last = new Map<string, SourceRecord>();
    // New writer schema ids (schema registry) are resolved before decoding, so decode stays synchronous.
    const unresolved = this.decoder.resolveIds(batch);
    if (unresolved !== undefined) await unresolved;
    let n = 0;
    for (const r of batch) {
      const key = this.streamKey(r);
      last.set(key, r);
      try {
        this.txs[n] = this.decoder.decode(r.value, key);
        this.records[n] = r;
        this.partitions[n] = r.partition;
        n++;
      } catch (err) {
        const code = errorCodeOf(err, ErrorCodes.UNDECODABLE_RECORD);
        deadLetters.push({ record: r, code, message: (err as Error).message });
        m.deadLetter(code);
      }
    }
    const t1 = performance.now();
    m.stage.decode.observe((t1 - t0) / 1000);

    const decisions: Decision[] = new Array(n);
    let cause: string | null = null;
    let challenged = false;
    if (n > 0) {
      const featureCause = await this.store.enrich(this.txs, n, this.features, this.context);
      const t2 = performance.now();
      m.stage.features.observe((t2 - t1) / 1000);

      const [outcome, shadow] = await Promise.all([
        this.champion.score(this.features, n, this.scores),
        this.challenger ? this.challenger.score(this.features, n, this.challengerScores) : Promise.resolve(false),
      ]);
      const t3 = performance.now();
      m.stage.inference.observe((t3 - t2) / 1000);
      m.batchSize.observe(n);

      challenged = shadow;
      cause = featureCause ?? outcome.cause;
      const policy = outcome.policy;
      const scoredAt = Date.now();
      for (let i = 0; i < n; i++) {
        const tx = this.txs[i];
        const off = i * N_FEATURES;
        const score = this.scores[i];
        const verdict = policy.decide(score, this.features, off);
        decisions[i] = {
          transaction_id: tx.transaction_id,
          customer_id: tx.customer_id,
          event_time: tx.event_time,
          score,
          decision: verdict.outcome,
          reason_codes: verdict.reasons.length === 0 ? NO_REASONS : verdict.reasons,
          model_name: outcome.name,
          model_version: outcome.version,
          challenger_score: challenged ? this.challengerScores[i] : null,
          degraded: cause !== null,
          degraded_cause: cause,
          features: featureRow(this.features, off),
          latency_us: 0,
          scored_at: scoredAt,
        };
        m.score.observe(score);
      }
      if (cause !== null) m.degradedDecisions(cause, n);
      m.stage.policy.observe((performance.now() - t3) / 1000);
    }

    const positions: Position[] = [];
    for (const r of last.values()) {
      positions.push({ topic: r.topic, partition: r.partition, offset: String(BigInt(r.offset) + 1n) });
    }
    const arrivals = new Float64Array(n);
    for (let i = 0; i < n; i++) arrivals[i] = this.records[i].arrivedAt;
    // Observers see the batch now, while the reused buffers still hold it (a batch whose write then
    // fails is observed again when it is redelivered).
    if (n > 0 && this.observers.length > 0) {
      const observed: ObservedBatch = {
        n,
        features: this.features,
        scores: this.scores,
        challengerScores: challenged ? this.challengerScores : null,
        cause,
        transactions: this.txs,
        records: this.records,
      };
      for (const o of this.observers) o.observeBatch(observed);
    }
    // Let the batch's buffers be collected while the processor waits for the next one.
    this.records.fill(undefined as unknown as SourceRecord, 0, n);
    return { decisions, deadLetters, positions, arrivals };
  }

  /**
   * One sink write (and commit) for the batches prepared while the previous write ran, then the
   * per-decision metrics. Runs while the next batches are prepared.
   */
  private async write(group: readonly PreparedBatch[]): Promise<void> {
    const m = this.metrics;
    const p = group.length === 1 ? group[0] : mergeBatches(group);
    const { decisions, deadLetters, arrivals } = p;
    const n = decisions.length;
    const tw = performance.now();
    for (let i = 0; i < n; i++) decisions[i].latency_us = Math.round((tw - arrivals[i]) * 1000);
    await this.sink.write({ decisions, deadLetters, positions: p.positions });
    const done = performance.now();
    m.stage.produce.observe((done - tw) / 1000);

    const wall = Date.now();
    // Outcome counters once per batch, not per record.
    let approve = 0;
    let review = 0;
    let decline = 0;
    for (let i = 0; i < n; i++) {
      const d = decisions[i];
      if (d.decision === 'APPROVE') approve++;
      else if (d.decision === 'REVIEW') review++;
      else decline++;
      const processing = done - arrivals[i];
      m.processingLatency.observe(processing / 1000);
      m.eventToDecision.observe((wall - d.event_time) / 1000);
      this.stats.recordDecision(d, processing);
    }
    if (approve > 0) m.decisions.APPROVE.inc(approve);
    if (review > 0) m.decisions.REVIEW.inc(review);
    if (decline > 0) m.decisions.DECLINE.inc(decline);
    this.stats.deadLetters += deadLetters.length;
  }
}

/** Batches in write order as one: decisions and dead letters appended, each partition's last position. */
function mergeBatches(group: readonly PreparedBatch[]): PreparedBatch {
  let n = 0;
  for (const b of group) n += b.decisions.length;
  const decisions: Decision[] = new Array(n);
  const arrivals = new Float64Array(n);
  const deadLetters: DeadLetter[] = [];
  const positions = new Map<string, Position>();
  let k = 0;
  for (const b of group) {
    for (let i = 0; i < b.decisions.length; i++, k++) {
      decisions[k] = b.decisions[i];
      arrivals[k] = b.arrivals[i];
    }
    for (const d of b.deadLetters) deadLetters.push(d);
    // Later batches hold later offsets of a partition: the last one written stands.
    for (const pos of b.positions) positions.set(`${pos.topic}/${pos.partition}`, pos);
  }
  return { decisions, deadLetters, positions: [...positions.values()], arrivals };
}

/** One record's features as the plain array the decision schema takes (no subarray view in between). */
function featureRow(features: Float32Array, off: number): number[] {
  const row = new Array<number>(N_FEATURES);
  for (let j = 0; j < N_FEATURES; j++) row[j] = features[off + j];
  return row;
}

interface PreparedBatch {
  decisions: Decision[];
  deadLetters: DeadLetter[];
  positions: Position[];
  /** performance.now() at which each decision's record arrived. */
  arrivals: Float64Array;
}
