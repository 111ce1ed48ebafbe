// The composition root: one options object in, a wired Pipeline out. `fraudscore run` (embedded or on
// Kafka), `fraudscore rescore` (its own range source and sink) and every test that runs the scorer build
// the graph here, so the model, feature store, champion, decoder and processor are wired one way.

import { hostname } from 'node:os';
import { SCHEMA_IDS } from '../avro/encoders.js';
import { eventTimeOf } from '../avro/event-time.js';
import { setUpSchemaRegistry } from '../avro/registry-setup.js';
import { type DecoderOptions, TransactionDecoder } from '../avro/transaction-decoder.js';
import { Progress } from '../cli/progress.js';
import type { KafkaSecurityOptions } from '../config/kafka-security-options.js';
import type { OptionsOf } from '../config/option-spec.js';
import type {
  DRIFT_OPTIONS,
  EMBEDDED_OPTIONS,
  FEATURE_STORE_OPTIONS,
  HTTP_OPTIONS,
  KAFKA_RUN_OPTIONS,
  MODEL_OPTIONS,
  SCHEMA_REGISTRY_CLIENT_OPTIONS,
  SCHEMA_REGISTRY_RUN_OPTIONS,
  SCORING_OPTIONS,
} from '../config/options.js';
import { ErrorCodes, FraudError } from '../errors.js';
import type { FeatureStore } from '../features/feature-store.js';
import { MemoryFeatureStore } from '../features/memory-store.js';
import { loadRedisSecrets } from '../features/redis-connection.js';
import { RedisFeatureStore } from '../features/redis-store.js';
import { GeneratorSource } from '../io/generator-source.js';
import { MemorySink } from '../io/memory-sink.js';
import { kafkaClient } from '../kafka/client.js';
import { LabelConsumer } from '../kafka/label-consumer.js';
import { type KafkaSecurity, loadKafkaSecurity, principalOf } from '../kafka/security.js';
import { checkKafka } from '../kafka/startup-check.js';
import { logger } from '../log/logger.js';
import { ChallengerAgreement } from '../monitoring/batch-observers.js';
import { type ConsumerProgress, HeadPoller, ProgressMetrics } from '../monitoring/consumer-progress.js';
import { dashboardHtml } from '../monitoring/dashboard.js';
import { DriftMonitor } from '../monitoring/drift.js';
import { HttpServer, type ReadinessCheck } from '../monitoring/http.js';
import { Metrics } from '../monitoring/metrics.js';
import { ShadowChallenger } from '../pipeline/challenger.js';
import { Champion } from '../pipeline/champion.js';
import { type BatchObserver, Processor } from '../pipeline/processor.js';
import type { Sink } from '../pipeline/sink.js';
import type { Source } from '../pipeline/source.js';
import { RunStats } from '../pipeline/stats.js';
import { ruleScore } from '../policy/rule-policy.js';
import { ThresholdPolicy } from '../policy/threshold-policy.js';
import { ModelRegistry } from '../scoring/model-registry.js';
import { openKafkaIo } from './kafka-io.js';
import { type Closeable, Pipeline } from './pipeline.js';

// The component name the scorer's log lines always had.
const log = logger('run');

type KafkaRunOptions = OptionsOf<typeof KAFKA_RUN_OPTIONS>;
type SchemaRegistryOptions = OptionsOf<typeof SCHEMA_REGISTRY_CLIENT_OPTIONS> &
  OptionsOf<typeof SCHEMA_REGISTRY_RUN_OPTIONS>;

/** The scorer on Kafka: its topics, group, client and delivery, and an optional schema registry. */
export type KafkaIoOptions = Omit<KafkaRunOptions, 'brokers' | 'wireFormat'> & {
  brokers: string[];
} & SchemaRegistryOptions &
  KafkaSecurityOptions;

/** I/O a command opens itself (rescore's range source and capturing sink), from the built parts. */
export interface CustomIo {
  source: Source;
  sink: Sink;
  /** Stopped after the processor, before the sink. */
  companions?: Closeable[];
}

export type IoOptions =
  | ({ kind: 'embedded' } & OptionsOf<typeof EMBEDDED_OPTIONS>)
  | ({ kind: 'kafka' } & KafkaIoOptions)
  | { kind: 'custom'; open(parts: { store: FeatureStore; metrics: Metrics }): Promise<CustomIo> };

export interface PipelineOptions {
  /** The champion (watched for a new model when `watch`) and the optional shadow challenger. */
  model: OptionsOf<typeof MODEL_OPTIONS> & { watch: boolean };
  scoring: OptionsOf<typeof SCORING_OPTIONS>;
  /** Redis when `redisUrl` is set, else the in-memory store (identical results). */
  features: OptionsOf<typeof FEATURE_STORE_OPTIONS>;
  decoder: { wireFormat: KafkaRunOptions['wireFormat']; maxEventTimeSkewMs?: number };
  /** Drift PSI and challenger agreement observers; undefined: none. */
  drift: OptionsOf<typeof DRIFT_OPTIONS> | undefined;
  http: OptionsOf<typeof HTTP_OPTIONS>;
  progress: 'auto' | 'on' | 'off';
  /** Node's process metrics (CPU, memory, event loop) on /metrics as well. */
  processMetrics: boolean;
  io: IoOptions;
}

export async function createPipeline(o: PipelineOptions): Promise<Pipeline> {
  const io = o.io;
  // Schema registry first (issue 13): a registry that refuses our schemas stops the run before
  // anything else is opened. Embedded runs generate their own stream with the built-in ids.
  const schemaRegistry =
    io.kind !== 'kafka' || io.schemaRegistryUrl === undefined
      ? undefined
      : await setUpSchemaRegistry(
          {
            url: io.schemaRegistryUrl,
            username: io.schemaRegistryUser,
            password: io.schemaRegistryPassword,
            passwordFile: io.schemaRegistryPasswordFile,
            caFile: io.schemaRegistryCa,
            autoRegister: io.schemaRegistryAutoRegister,
            unavailableMs: io.schemaRegistryUnavailableMs,
          },
          { transactions: io.transactionsTopic, decisions: io.decisionsTopic, labels: io.labelsTopic },
        );
  const metrics = new Metrics(undefined, {
    defaultMetrics: o.processMetrics,
    ...(o.drift === undefined ? {} : { driftWindow: o.drift.driftWindow }),
  });
  // Consumer progress, lag and stall series (consumer-progress.ts), exported whatever the I/O.
  const consumers = new ProgressMetrics(metrics.registry, {
    stallAfterMs: io.kind === 'kafka' ? io.stallTimeoutMs : 60_000,
  });
  const registry = await ModelRegistry.open(o.model.modelDir, {
    pollMs: o.model.modelPollMs,
    maxBatch: o.scoring.maxBatch,
    onReload: (next, prev) => {
      metrics.modelReloads.inc();
      metrics.setModel('champion', next.name, next.version, next.format);
      log.info('model reloaded', { from: `${prev.name}@${prev.version}`, to: `${next.name}@${next.version}` });
    },
    onError: (err) => log.error('new model rejected; the previous one stays', { err }),
  });
  const manifest = registry.current().manifest;
  metrics.setModel('champion', manifest.name, manifest.version, manifest.format);
  if (o.model.watch) registry.watch();

  const f = o.features;
  let store: FeatureStore;
  try {
    store = f.redisUrl
      ? await RedisFeatureStore.connect({
          url: f.redisUrl,
          prefix: f.redisPrefix,
          commandTimeoutMs: f.redisTimeoutMs,
          maxCachedEntries: f.featureCacheEntries,
          // Redis TLS, password file and Cluster (issues 12, 13).
          cluster: f.redisCluster,
          ...(await loadRedisSecrets(f.redisUrl, {
            tlsCaFile: f.redisTlsCa,
            tlsCertFile: f.redisTlsCert,
            tlsKeyFile: f.redisTlsKey,
            tlsServername: f.redisTlsServername,
            passwordFile: f.redisPasswordFile,
          })),
          ...metrics.featureStoreHooks(),
        })
      : new MemoryFeatureStore();
  } catch (err) {
    registry.stopWatching();
    await registry.close();
    schemaRegistry?.client.close();
    throw err;
  }

  const s = o.scoring;
  const policyFor = (m: typeof manifest) =>
    new ThresholdPolicy(m, { thresholds: { review: s.reviewThreshold, decline: s.declineThreshold } });
  const champion = new Champion(registry, policyFor, ruleScore, metrics, {
    budgetMs: s.inferenceBudgetMs,
    deadlineMs: s.inferenceDeadlineMs,
    maxBatch: s.maxBatch,
  });
  const decoderOptions: Partial<DecoderOptions> = { wireFormat: o.decoder.wireFormat };
  if (o.decoder.maxEventTimeSkewMs !== undefined) decoderOptions.maxEventTimeSkewMs = o.decoder.maxEventTimeSkewMs;
  if (schemaRegistry !== undefined && io.kind === 'kafka') {
    decoderOptions.writerSchemas = new Map();
    decoderOptions.registry = schemaRegistry.writerSchemas;
    decoderOptions.registryUnavailableMs = io.schemaRegistryUnavailableMs;
  }
  const decoder = new TransactionDecoder(decoderOptions);
  const stats = new RunStats();
  const progress = new Progress(io.kind === 'kafka' ? 'scored' : 'scoring', o.progress);

  let source: Source;
  let transactionsPartitions = 0;
  let sink: Sink;
  const companions: Closeable[] = [];
  const liveness: ReadinessCheck[] = [];
  const checks: ReadinessCheck[] = [
    { name: 'model', ready: () => registry.current() !== undefined },
    {
      name: 'features',
      ready: () => store.isHealthy(),
      // e.g. 'noperm' when the Redis user lost a permission after start (issue 10).
      reason: () => (store instanceof RedisFeatureStore ? (store.failureCause ?? 'unhealthy') : 'unhealthy'),
    },
  ];
  const closeOnFailure = async () => {
    // Nothing opened so far may keep the process alive after a start-up failure.
    registry.stopWatching();
    await Promise.allSettled([store.close(), registry.close()]);
    schemaRegistry?.client.close();
  };
  if (io.kind === 'embedded') {
    source = new GeneratorSource({
      count: io.count,
      rate: io.rate,
      seed: io.seed,
      poisonEvery: 2000,
      onProgress: (done, total) => progress.update(done, total),
    });
    sink = new MemorySink(io.decisionsOut);
  } else if (io.kind === 'custom') {
    let opened: CustomIo;
    try {
      opened = await io.open({ store, metrics });
    } catch (err) {
      await closeOnFailure();
      throw err;
    }
    source = opened.source;
    sink = opened.sink;
    companions.push(...(opened.companions ?? []));
  } else {
    // TLS and SASL (issue 13): files read once, every client below configured from the same object.
    let security: KafkaSecurity;
    try {
      security = await loadKafkaSecurity(io);
    } catch (err) {
      await closeOnFailure();
      throw err;
    }
    const kafka = kafkaClient(io.brokers, io.clientId, security);
    // Progress, lag and stall of both consumers (consumer-progress.ts): /healthz, /readyz, alerts.
    const txProgress = consumers.consumer('transactions');
    const consumerCheck = (c: ConsumerProgress): ReadinessCheck => ({
      name: `consumer:${c.name}`,
      ready: () => !c.status().stalled,
      reason: () => c.status().reason,
    });
    liveness.push(consumerCheck(txProgress));
    let opened: Awaited<ReturnType<typeof openKafkaIo>>;
    try {
      const facts = await checkKafka(io, security);
      transactionsPartitions = facts.transactionsPartitions;
      const wireFormat = o.decoder.wireFormat;
      opened = await openKafkaIo(io, kafka, security, {
        dlqMaxBytes: facts.dlqMaxBytes,
        // Partitions in event-time step, so that a backlog drains with whole features (0: off).
        align:
          io.alignMaxLeadMs === 0
            ? undefined
            : {
                maxLeadMs: io.alignMaxLeadMs,
                idleMs: io.alignIdleMs,
                eventTime: (value: Buffer | null) => eventTimeOf(value, wireFormat),
                onPause: () => metrics.alignPauses.inc(),
                onIdle: () => metrics.alignIdlePartitions.inc(),
              },
        progress: txProgress,
        decisionSchemaId:
          o.decoder.wireFormat === 'plain' ? null : (schemaRegistry?.decisionSchemaId ?? SCHEMA_IDS.decision),
        maxInFlight: io.maxInFlight,
        onCommitSeconds: (sec) => metrics.stage.commit.observe(sec),
      });
    } catch (err) {
      await closeOnFailure();
      throw err;
    }
    source = opened.source;
    sink = opened.sink;
    // Assigned partitions, and progress while records wait (a member cut off from the broker keeps
    // its last assignment until it notices; the stalled writes give it away).
    checks.push({ name: 'kafka', ready: opened.ready });
    checks.push(consumerCheck(txProgress));
    const polled: { topic: string; feed: ConsumerProgress }[] = [{ topic: io.transactionsTopic, feed: txProgress }];
    if (io.labelsTopic !== '') {
      const labelsProgress = consumers.consumer('labels');
      const labels = new LabelConsumer(
        kafka,
        { topic: io.labelsTopic, groupId: `${io.groupId}.labels`, dlqTopic: io.dlqTopic },
        store,
        metrics,
        labelsProgress,
      );
      liveness.push(consumerCheck(labelsProgress));
      checks.push({
        name: 'consumer:labels',
        ready: () => labelsProgress.status().up && !labelsProgress.status().stalled,
        reason: () => labelsProgress.status().reason,
      });
      polled.push({ topic: io.labelsTopic, feed: labelsProgress });
      await labels.start();
      companions.push(labels);
    }
    const admin = kafka.admin();
    await admin.connect();
    const heads = new HeadPoller(
      polled,
      async (topic) =>
        (await admin.fetchTopicOffsets(topic)).map((x) => ({ partition: x.partition, high: Number(x.high) })),
      io.headPollMs,
      (err) => log.warn('offsets poll failed; records waiting are not updated until the next one', { err }),
      () => admin.disconnect(),
    );
    heads.start();
    companions.push(heads);
    log.info('consuming', {
      brokers: io.brokers,
      topic: io.transactionsTopic,
      group: io.groupId,
      delivery: io.delivery,
      client: io.kafkaClient,
      security: io.kafkaSecurityProtocol,
      ...(security.sasl !== undefined
        ? { saslMechanism: security.sasl.mechanism, principal: principalOf(security) }
        : {}),
      model: `${manifest.name}@${manifest.version}`,
      host: hostname(),
    });
  }

  // --- monitoring observers (issue 5): drift PSI, lag by event time, challenger agreement ---
  const observers: BatchObserver[] =
    o.drift === undefined
      ? []
      : [
          new DriftMonitor(() => registry.current().manifest, metrics, {
            windowSize: o.drift.driftWindow,
            warmupRecords: o.drift.driftWarmup,
          }),
          new ChallengerAgreement(metrics, () => {
            const t = registry.current().manifest.thresholds;
            return { review: s.reviewThreshold ?? t.review, decline: s.declineThreshold ?? t.decline };
          }),
        ];

  // Shadow challenger (issue 4): scored beside the champion into decision.challenger_score, never decides.
  const challenger =
    o.model.challengerDir === undefined
      ? undefined
      : await ShadowChallenger.load(o.model.challengerDir, {
          maxBatch: s.maxBatch,
          onLatency: (seconds) => metrics.challengerLatency.observe(seconds),
          onError: (err) => log.warn('challenger failed a batch; its scores are null', { err }),
        });
  if (challenger) metrics.setModel('challenger', challenger.name, challenger.version, challenger.format);
  const processor = new Processor({
    decoder,
    store,
    champion,
    sink,
    metrics,
    stats,
    maxBatch: s.maxBatch,
    maxWaitMs: s.maxWaitMs,
    batchesPerWrite: s.batchesPerWrite,
    // The topic's partition count and the source's floors: the store's watermark waits for each.
    partitionCount: transactionsPartitions,
    floors: source.eventTimeFloors,
    challenger,
    observers,
  });
  let http: HttpServer | undefined;
  let url: string | undefined;
  if (!o.http.noHttp) {
    http = new HttpServer({
      host: o.http.httpHost,
      port: o.http.httpPort,
      registry: metrics.registry,
      checks,
      liveness,
      routes: new Map([['/dashboard', () => ['text/html; charset=utf-8', dashboardHtml()] as [string, string]]]),
    });
    try {
      url = await http.listen();
    } catch (err) {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `cannot serve HTTP on ${o.http.httpHost}:${o.http.httpPort} (${(err as Error).message}); pick another --http-port (0 = any free port) or --no-http`,
      );
    }
    log.info('serving', { metrics: `${url}/metrics`, ready: `${url}/readyz`, dashboard: `${url}/dashboard` });
  }
  return new Pipeline({
    metrics,
    registry,
    store,
    processor,
    source,
    sink,
    stats,
    companions,
    challenger,
    http,
    url,
    schemaRegistry,
    progressDone: () => progress.done(),
  });
}
