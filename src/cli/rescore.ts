import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { SCHEMA_IDS } from '../avro/encoders.js';
import { unframe } from '../avro/framing.js';
import { labelType, transactionType } from '../avro/schemas.js';
import { TransactionDecoder } from '../avro/transaction-decoder.js';
import { KAFKA_SECURITY_FLAGS } from '../config/kafka-security-options.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { N_FEATURES } from '../features/feature-names.js';
import type { FeatureStore } from '../features/feature-store.js';
import { MemoryFeatureStore } from '../features/memory-store.js';
import { dropNamespace } from '../features/namespace.js';
import { RedisFeatureStore } from '../features/redis-store.js';
import { kafkaClient } from '../kafka/client.js';
import { KafkaSink } from '../kafka/kafka-sink.js';
import { type KafkaSecurity, kafkaSecurityOf } from '../kafka/security.js';
import { Metrics } from '../monitoring/metrics.js';
import { fromRoot } from '../package-root.js';
import { Champion } from '../pipeline/champion.js';
import { Processor } from '../pipeline/processor.js';
import type { OutputBatch, Sink } from '../pipeline/sink.js';
import type { SourceRecord } from '../pipeline/source.js';
import { RunStats, type RunSummary } from '../pipeline/stats.js';
import { ruleScore } from '../policy/rule-policy.js';
import { ThresholdPolicy } from '../policy/threshold-policy.js';
import { LabelFeeder } from '../replay/label-feeder.js';
import { RangeSource } from '../replay/range-source.js';
import { readTopicToEnd } from '../replay/topic-reader.js';
import { ModelRegistry } from '../scoring/model-registry.js';
import type { Decision, Label, Transaction } from '../types.js';
import { type FlagSpec, flagsHelp, parseFlags, required } from './args.js';

/** The features' longest look-back (30-day windows ending 7 days before the transaction) plus a day. */
export const WARM_UP_MS = 38 * 86_400_000;

const FLAGS: readonly FlagSpec[] = [
  { flag: '--since', kind: 'string', help: 'First event time to re-score (ISO 8601 or epoch ms), inclusive' },
  { flag: '--until', kind: 'string', help: 'Event time where re-scoring stops (exclusive)' },
  { flag: '--model', kind: 'string', help: 'Model folder, e.g. models/champion' },
  { flag: '--out-topic', kind: 'string', help: "This run's own decisions topic (must exist)" },
  { flag: '--topic', kind: 'string', default: 'fraudscore.transactions', help: 'Transactions topic to read' },
  {
    flag: '--labels-topic',
    kind: 'string',
    default: 'fraudscore.labels',
    help: 'Fraud reports for the terminal windows ("" for none)',
  },
  { flag: '--dlq-topic', kind: 'string', default: 'fraudscore.dlq', help: 'Dead-letter topic for undecodable records' },
  { flag: '--brokers', kind: 'string', help: 'Kafka bootstrap servers (default: KAFKA_BROKERS or 127.0.0.1:9092)' },
  { flag: '--redis', kind: 'string', help: 'Redis for the feature windows (default: REDIS_URL; unset: in memory)' },
  { flag: '--run-id', kind: 'string', help: "Names this run's consumer group, transactional id and feature namespace" },
  {
    flag: '--keep-features',
    kind: 'bool',
    default: false,
    help: "Keep this run's feature namespace in Redis afterwards",
  },
  ...KAFKA_SECURITY_FLAGS,
];

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
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      flagsHelp(
        'fraudscore rescore --since <time> --until <time> --model models/<name> --out-topic <topic>',
        `Re-scores a time range of the transactions topic with a given model, beside the live scorer: its
own consumer group, its own feature namespace (warmed from the ${WARM_UP_MS / 86_400_000} days before --since) and its own output
topic. The live group's offsets and the live feature keys are never touched.`,
        FLAGS,
      ),
    );
    return 0;
  }
  const f = parseFlags('rescore', argv, FLAGS);
  const r = await rescore({
    since: parseTime('--since', required('rescore', f, '--since')),
    until: parseTime('--until', required('rescore', f, '--until')),
    modelDir: required('rescore', f, '--model'),
    outTopic: required('rescore', f, '--out-topic'),
    topic: String(f.topic),
    labelsTopic: String(f.labelsTopic),
    dlqTopic: String(f.dlqTopic),
    brokers: String(f.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    redisUrl: (f.redis as string | undefined) ?? process.env.REDIS_URL,
    runId: f.runId as string | undefined,
    keepFeatures: f.keepFeatures === true,
    security: await kafkaSecurityOf(f),
  });
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

function parseTime(flag: string, v: string): number {
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(t))
    throw new FraudError(ErrorCodes.INVALID_CONFIG, `rescore: ${flag} ${JSON.stringify(v)} is not a time`);
  return t;
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
  runId?: string;
  keepFeatures?: boolean;
  /** Kafka TLS and SASL (default: plaintext). */
  security?: KafkaSecurity;
}

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
  const modelDir = isAbsolute(o.modelDir) ? o.modelDir : resolve(o.modelDir);
  const kafka = kafkaClient(o.brokers, groupId, o.security);
  const metrics = new Metrics(undefined, { defaultMetrics: false });
  const registry = await ModelRegistry.open(modelDir).catch(async () => ModelRegistry.open(fromRoot(o.modelDir)));
  const store: FeatureStore = o.redisUrl
    ? await RedisFeatureStore.connect({ url: o.redisUrl, prefix, commandTimeoutMs: 1000 })
    : new MemoryFeatureStore();

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
  const feeder = new LabelFeeder(labels, store);

  const decoder = new TransactionDecoder({ maxEventTimeSkewMs: Number.MAX_SAFE_INTEGER });
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
      await feeder.advance(part[part.length - 1].event_time);
      await store.enrich(part, part.length, scratch);
    }
  };

  const source = new RangeSource(kafka, {
    topic: o.topic,
    groupId,
    fromTimestamp: o.since - WARM_UP_MS,
    eventTimeOf,
    since: o.since,
    until: o.until,
    warm,
    // Fraud reports up to the newest transaction of the batch reach its terminal windows first.
    beforeScore: (maxEventTime) => feeder.advance(maxEventTime),
  });
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
    source,
  );
  await kafkaSink.connect();
  const sink = new CapturingSink(kafkaSink);
  const stats = new RunStats();
  const champion = new Champion(registry, (m) => new ThresholdPolicy(m), ruleScore, metrics, {
    budgetMs: 1,
    deadlineMs: 50,
    maxBatch: 256,
  });
  const processor = new Processor(decoder, store, champion, sink, metrics, stats, { maxBatch: 256, maxWaitMs: 5 });
  try {
    await source.run(processor.handle);
    await processor.close();
  } finally {
    await source.stop();
    await sink.close();
    if (o.redisUrl && !o.keepFeatures) {
      const redis = new Redis(o.redisUrl);
      await dropNamespace(redis, prefix).finally(() => redis.disconnect());
    }
    await store.close();
    await registry.close();
  }
  const m = registry.current().manifest;
  return {
    runId,
    summary: stats.summary(),
    warmed: source.counts.warmed,
    skipped: source.counts.skipped,
    labelsApplied: feeder.applied,
    decisions: sink.decisions,
    model: { name: m.name, version: m.version },
  };
}
