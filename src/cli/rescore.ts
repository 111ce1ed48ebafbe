import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { createPipeline } from '../app/create-pipeline.js';
import { SCHEMA_IDS } from '../avro/encoders.js';
import { unframe } from '../avro/framing.js';
import { labelType, transactionType } from '../avro/schemas.js';
import { TransactionDecoder } from '../avro/transaction-decoder.js';
import { RESCORE_FEATURE_OPTIONS, RESCORE_OPTIONS } from '../config/command-options.js';
import { brokerProblems, resolveModelDir } from '../config/config.js';
import { defineOptions, type OptionsOf } from '../config/option-spec.js';
import { SCORING_OPTIONS } from '../config/options.js';
import { parseOptions } from '../config/parse-options.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { N_FEATURES } from '../features/feature-names.js';
import type { FeatureStore } from '../features/feature-store.js';
import { dropNamespace } from '../features/namespace.js';
import { kafkaClient } from '../kafka/client.js';
import { KafkaSink } from '../kafka/kafka-sink.js';
import { type KafkaSecurity, kafkaSecurityOf, kafkaSecurityProblems } from '../kafka/security.js';
import { redactUrls } from '../log/redact.js';
import { fromRoot } from '../package-root.js';
import type { OutputBatch, Sink } from '../pipeline/sink.js';
import type { SourceRecord } from '../pipeline/source.js';
import type { RunSummary } from '../pipeline/stats.js';
import { LabelFeeder } from '../replay/label-feeder.js';
import { RangeSource } from '../replay/range-source.js';
import { readTopicToEnd } from '../replay/topic-reader.js';
import type { Decision, Label, Transaction } from '../types.js';
import { WARM_UP_MS } from './commands.js';

export { WARM_UP_MS };

export interface RescoreResult {
  runId: string;
  summary: RunSummary;
  warmed: number;
  skipped: number;
  labelsApplied: number;
  decisions: Decision[];
  model: { name: string; version: string };
}

export async function rescoreCommand(argv: string[]): Promise<number> {
  const { values: f } = parseOptions('rescore', RESCORE_OPTIONS, argv, process.env, ({ values: v }, problem) => {
    if (Number.isFinite(v.since) && Number.isFinite(v.until) && !(v.since < v.until)) {
      problem('--since must be before --until');
    }
    for (const p of brokerProblems(v.brokers)) problem(p);
    for (const p of kafkaSecurityProblems(v)) problem(p);
    if (v.redisUrl !== undefined && !/^rediss?:\/\//.test(v.redisUrl)) {
      problem(`REDIS_URL / --redis must look like redis://host:port, got ${JSON.stringify(redactUrls(v.redisUrl))}`);
    }
    if (v.modelDir !== '') v.modelDir = resolveModelDir(v.modelDir, '--model / FRAUDSCORE_RESCORE_MODEL', problem);
  });
  const r = await rescore({ ...f, scoring: f, security: await kafkaSecurityOf(f) });
  const s = r.summary;
  console.log(`rescore ${r.runId} with ${r.model.name}@${r.model.version}`);
  console.log(`  warm-up records      ${r.warmed.toLocaleString('en-US')} (feature windows only)`);
  console.log(
    `  decisions            ${s.decisions.toLocaleString('en-US')} (APPROVE ${s.by_outcome.APPROVE}, REVIEW ${s.by_outcome.REVIEW}, DECLINE ${s.by_outcome.DECLINE})`,
  );
  console.log(`  dead letters         ${s.dead_letters}`);
  console.log(`  after --until        ${r.skipped.toLocaleString('en-US')} skipped`);
  console.log(`  labels applied       ${r.labelsApplied.toLocaleString('en-US')}`);
  console.log(
    `  throughput           ${Math.round(s.throughput_tps).toLocaleString('en-US')} tx/s, latency p50 ${s.p50_ms.toFixed(2)} ms, p99 ${s.p99_ms.toFixed(2)} ms`,
  );
  return 0;
}

export interface RescoreOptions {
  since: number;
  until: number;
  modelDir: string;
  outTopic: string;
  topic: string;
  labelsTopic: string;
  dlqTopic: string;
  brokers: string[];
  redisUrl?: string;
  /** Feature round-trip timeout (default: rescore's table). */
  redisTimeoutMs?: number;
  /** Transactions the feature store keeps in memory (default: the scorer's). */
  featureCacheEntries?: number;
  runId?: string;
  keepFeatures?: boolean;
  /** Batching, inference budget and deadline, thresholds (defaults: the SCORING_OPTIONS table). */
  scoring?: Partial<ScoringOptions>;
  /** Kafka TLS and SASL (default: plaintext). */
  security?: KafkaSecurity;
}

type ScoringOptions = OptionsOf<typeof SCORING_OPTIONS>;

/** Keeps the decisions of the run for its report, then forwards to the real sink. */
class CapturingSink implements Sink {
  readonly decisions: Decision[] = [];
  constructor(private readonly inner: Sink) {}
  async write(batch: OutputBatch): Promise<void> {
    await this.inner.write(batch);
    for (const d of batch.decisions) this.decisions.push(d);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export async function rescore(o: RescoreOptions): Promise<RescoreResult> {
  if (!(o.since < o.until)) throw new FraudError(ErrorCodes.INVALID_CONFIG, 'rescore: --since must be before --until');
  const runId =
    o.runId ??
    `${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const groupId = `fraudscore-rescore-${runId}`;
  const prefix = `rescore:${runId}:`;
  const defaults = parseOptions('rescore', RESCORE_DEFAULTS, [], {}).values;
  const scoring: ScoringOptions = { ...defaults, ...o.scoring };
  const kafka = kafkaClient(o.brokers, groupId, o.security);
  let source: RangeSource | undefined;
  let feeder: LabelFeeder | undefined;
  let sink: CapturingSink | undefined;

  /** Rescore's own I/O: the range (after a warm-up of the feature windows) in, its own topic out. */
  const open = async ({ store }: { store: FeatureStore }) => {
    const labelAvro = labelType();
    const labels: Label[] =
      o.labelsTopic === ''
        ? []
        : await readTopicToEnd(kafka, o.labelsTopic, (v) => {
            try {
              return labelAvro.fromBuffer(unframe(v)) as Label;
            } catch {
              return undefined;
            }
          });
    const fed = new LabelFeeder(labels, store);
    feeder = fed;
    const txAvro = transactionType();
    const eventTimeOf = (v: Buffer | null): number | undefined => {
      if (v === null || v.length < 2) return undefined;
      try {
        return (txAvro.decode(unframe(v), 0).value as Transaction | undefined)?.event_time;
      } catch {
        return undefined;
      }
    };
    const scratch = new Float32Array(1024 * N_FEATURES);
    const warmDecoder = new TransactionDecoder({ maxEventTimeSkewMs: Number.MAX_SAFE_INTEGER });
    const warm = async (records: SourceRecord[]) => {
      const txs: Transaction[] = [];
      for (const r of records) {
        try {
          txs.push(warmDecoder.decode(r.value, `${r.topic}/${r.partition}`));
        } catch {
          // Undecodable warm-up records cannot feed a window; the live scorer dead-lettered them already.
        }
      }
      for (let i = 0; i < txs.length; i += 1024) {
        const part = txs.slice(i, i + 1024);
        await fed.advance(part[part.length - 1].event_time);
        await store.enrich(part, part.length, scratch);
      }
    };
    const range = new RangeSource(kafka, {
      topic: o.topic,
      groupId,
      fromTimestamp: o.since - WARM_UP_MS,
      eventTimeOf,
      since: o.since,
      until: o.until,
      warm,
      // Fraud reports up to the newest transaction of the batch reach its terminal windows first.
      beforeScore: (maxEventTime) => fed.advance(maxEventTime),
    });
    source = range;
    const kafkaSink = new KafkaSink(
      kafka,
      {
        decisionsTopic: o.outTopic,
        dlqTopic: o.dlqTopic,
        groupId,
        delivery: 'exactly-once',
        transactionalId: groupId,
        decisionSchemaId: SCHEMA_IDS.decision,
      },
      range,
    );
    await kafkaSink.connect();
    sink = new CapturingSink(kafkaSink);
    return { source: range, sink };
  };

  const app = await createPipeline({
    model: { modelDir: modelDirOf(o.modelDir), challengerDir: undefined, modelPollMs: 2000, watch: false },
    scoring,
    features: {
      redisUrl: o.redisUrl,
      redisPrefix: prefix,
      redisTimeoutMs: o.redisTimeoutMs ?? defaults.redisTimeoutMs,
      featureCacheEntries: o.featureCacheEntries ?? defaults.featureCacheEntries,
      redisCluster: false,
      redisPasswordFile: undefined,
      redisTlsCa: undefined,
      redisTlsCert: undefined,
      redisTlsKey: undefined,
      redisTlsServername: undefined,
    },
    // History is far from the wall clock and from itself: no event-time skew bound.
    decoder: { wireFormat: 'auto', maxEventTimeSkewMs: Number.MAX_SAFE_INTEGER },
    drift: undefined,
    http: { noHttp: true, httpHost: '127.0.0.1', httpPort: 0 },
    progress: 'off',
    processMetrics: false,
    io: { kind: 'custom', open },
  });
  try {
    await app.runToEnd();
  } finally {
    await app.stop();
    if (o.redisUrl && !o.keepFeatures) {
      const redis = new Redis(o.redisUrl);
      await dropNamespace(redis, prefix).finally(() => redis.disconnect());
    }
  }
  const m = app.registry.current().manifest;
  return {
    runId,
    summary: app.stats.summary(),
    warmed: source?.counts.warmed ?? 0,
    skipped: source?.counts.skipped ?? 0,
    labelsApplied: feeder?.applied ?? 0,
    decisions: sink?.decisions ?? [],
    model: { name: m.name, version: m.version },
  };
}

/** The defaults rescore() fills in for a caller that does not give them: from the tables. */
const RESCORE_DEFAULTS = defineOptions([...SCORING_OPTIONS, ...RESCORE_FEATURE_OPTIONS]);

/** A relative model folder is looked up in the working directory, then in the package. */
function modelDirOf(dir: string): string {
  if (isAbsolute(dir)) return dir;
  return existsSync(resolve(dir)) ? resolve(dir) : fromRoot(dir);
}
