import { hostname } from 'node:os';
import { SCHEMA_IDS } from '../avro/encoders.js';
import { type SchemaRegistrySetup, setUpSchemaRegistry } from '../avro/registry-setup.js';
import { TransactionDecoder } from '../avro/transaction-decoder.js';
import { parseRunConfig, type RunConfig, runHelp } from '../config/config.js';
import { ErrorCodes, FraudError } from '../errors.js';
import type { FeatureStore } from '../features/feature-store.js';
import { MemoryFeatureStore } from '../features/memory-store.js';
import { loadRedisSecrets } from '../features/redis-connection.js';
import { RedisFeatureStore } from '../features/redis-store.js';
import { GeneratorSource } from '../io/generator-source.js';
import { MemorySink } from '../io/memory-sink.js';
import { kafkaClient } from '../kafka/client.js';
import { compressionType } from '../kafka/compression.js';
import { confluentClient } from '../kafka/confluent-client.js';
import { ConfluentSink, FatalKafkaError } from '../kafka/confluent-sink.js';
import { ConfluentSource } from '../kafka/confluent-source.js';
import { KafkaSink } from '../kafka/kafka-sink.js';
import { KafkaSource } from '../kafka/kafka-source.js';
import { LabelConsumer } from '../kafka/label-consumer.js';
import { aclFailure, type KafkaSecurity, loadKafkaSecurity, principalOf, securityFailure } from '../kafka/security.js';
import { checkKafka } from '../kafka/startup-check.js';
import { logger } from '../log/logger.js';
import { ChallengerAgreement } from '../monitoring/batch-observers.js';
import {
  type ConsumerProgress,
  HeadPoller,
  type ProgressFeed,
  ProgressMetrics,
} from '../monitoring/consumer-progress.js';
import { dashboardHtml } from '../monitoring/dashboard.js';
import { DriftMonitor } from '../monitoring/drift.js';
import { HttpServer, type ReadinessCheck } from '../monitoring/http.js';
import { Metrics } from '../monitoring/metrics.js';
import { ShadowChallenger } from '../pipeline/challenger.js';
import { Champion } from '../pipeline/champion.js';
import { type BatchObserver, Processor } from '../pipeline/processor.js';
import type { Sink } from '../pipeline/sink.js';
import type { Source } from '../pipeline/source.js';
import { RunStats, type RunSummary } from '../pipeline/stats.js';
import { ruleScore } from '../policy/rule-policy.js';
import { ThresholdPolicy } from '../policy/threshold-policy.js';
import { ModelRegistry } from '../scoring/model-registry.js';
import { Progress } from './progress.js';

const log = logger('run');

export async function runCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(runHelp());
    return 0;
  }
  const cfg = parseRunConfig(argv);
  try {
    const app = await Pipeline.start(cfg);
    return await app.runToEnd();
  } finally {
    // Whatever a failed start or a fatal fault left open (a Redis socket, a client's reconnect timer)
    // must not keep the process alive: the process never idles after its work ended.
    setTimeout(() => {
      log.debug('handles still open after the run ended; exiting anyway');
      process.exit(process.exitCode ?? 1);
    }, 1000).unref();
  }
}

/** Everything `fraudscore run` wires together, embedded or on Kafka + Redis. */
export class Pipeline {
  readonly stats = new RunStats();
  private stopping: Promise<void> | undefined;
  // --- schema registry (issue 13) ---
  schemaRegistry: SchemaRegistrySetup | undefined;
  /** A fault the run cannot ride out (a schema registry down past its bound): it stops the run. */
  private fatal: unknown;

  private constructor(
    readonly cfg: RunConfig,
    readonly metrics: Metrics,
    readonly registry: ModelRegistry,
    readonly store: FeatureStore,
    readonly processor: Processor,
    readonly source: Source,
    readonly sink: Sink,
    readonly http: HttpServer | undefined,
    readonly url: string | undefined,
    private readonly labels: LabelConsumer | undefined,
    private readonly progress: Progress,
    private readonly challenger: ShadowChallenger | undefined,
    private readonly heads: HeadPoller | undefined,
  ) {}

  static async start(cfg: RunConfig): Promise<Pipeline> {
    const embedded = cfg.brokers === undefined;
    // Schema registry first (issue 13): a registry that refuses our schemas stops the run before
    // anything else is opened. Embedded runs generate their own stream with the built-in ids.
    const schemaRegistry =
      embedded || cfg.schemaRegistryUrl === undefined
        ? undefined
        : await setUpSchemaRegistry(
            {
              url: cfg.schemaRegistryUrl,
              username: cfg.schemaRegistryUser,
              password: cfg.schemaRegistryPassword,
              passwordFile: cfg.schemaRegistryPasswordFile,
              caFile: cfg.schemaRegistryCa,
              autoRegister: cfg.schemaRegistryAutoRegister,
              unavailableMs: cfg.schemaRegistryUnavailableMs,
            },
            { transactions: cfg.transactionsTopic, decisions: cfg.decisionsTopic, labels: cfg.labelsTopic },
          );
    const metrics = new Metrics(undefined, { driftWindow: cfg.driftWindow });
    const consumers = new ProgressMetrics(metrics.registry, { stallAfterMs: cfg.stallTimeoutMs });
    const registry = await ModelRegistry.open(cfg.modelDir, {
      pollMs: cfg.modelPollMs,
      maxBatch: cfg.maxBatch,
      onReload: (next, prev) => {
        metrics.modelReloads.inc();
        metrics.setModel('champion', next.name, next.version, next.format);
        log.info('model reloaded', { from: `${prev.name}@${prev.version}`, to: `${next.name}@${next.version}` });
      },
      onError: (err) => log.error('new model rejected; the previous one stays', { err }),
    });
    const manifest = registry.current().manifest;
    metrics.setModel('champion', manifest.name, manifest.version, manifest.format);
    registry.watch();

    const store: FeatureStore = cfg.redisUrl
      ? await RedisFeatureStore.connect({
          url: cfg.redisUrl,
          prefix: cfg.redisPrefix,
          commandTimeoutMs: cfg.redisTimeoutMs,
          // Redis TLS, password file and Cluster (issues 12, 13).
          cluster: cfg.redisCluster,
          ...(await loadRedisSecrets(cfg.redisUrl, {
            tlsCaFile: cfg.redisTlsCa,
            tlsCertFile: cfg.redisTlsCert,
            tlsKeyFile: cfg.redisTlsKey,
            tlsServername: cfg.redisTlsServername,
            passwordFile: cfg.redisPasswordFile,
          })),
          ...metrics.featureStoreHooks(),
        })
      : new MemoryFeatureStore();

    const policyFor = (m: typeof manifest) =>
      new ThresholdPolicy(m, { thresholds: { review: cfg.reviewThreshold, decline: cfg.declineThreshold } });
    const champion = new Champion(registry, policyFor, ruleScore, metrics, {
      budgetMs: cfg.inferenceBudgetMs,
      deadlineMs: cfg.inferenceDeadlineMs,
      maxBatch: cfg.maxBatch,
    });
    const decoder = new TransactionDecoder(
      schemaRegistry === undefined
        ? { wireFormat: cfg.wireFormat }
        : {
            wireFormat: cfg.wireFormat,
            writerSchemas: new Map(),
            registry: schemaRegistry.writerSchemas,
            registryUnavailableMs: cfg.schemaRegistryUnavailableMs,
          },
    );
    const stats = new RunStats();
    const progress = new Progress(embedded ? 'scoring' : 'scored', cfg.progress);

    let source: Source;
    let sink: Sink;
    let labels: LabelConsumer | undefined;
    let heads: HeadPoller | undefined;
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
    if (embedded) {
      source = new GeneratorSource({
        count: cfg.count,
        rate: cfg.rate,
        seed: cfg.seed,
        poisonEvery: 2000,
        onProgress: (done, total) => progress.update(done, total),
      });
      sink = new MemorySink(cfg.decisionsOut);
    } else {
      // TLS and SASL (issue 13): files read once, every client below configured from the same object.
      const security = await loadKafkaSecurity(cfg);
      const kafka = kafkaClient(cfg.brokers!, cfg.clientId, security);
      // Progress, lag and stall of both consumers (consumer-progress.ts): /healthz, /readyz, alerts.
      const txProgress = consumers.consumer('transactions');
      const consumerCheck = (c: ConsumerProgress): ReadinessCheck => ({
        name: `consumer:${c.name}`,
        ready: () => !c.status().stalled,
        reason: () => c.status().reason,
      });
      liveness.push(consumerCheck(txProgress));
      let io: KafkaIo;
      try {
        const { dlqMaxBytes } = await checkKafka(cfg, security);
        io = await openKafkaIo(cfg, kafka, security, metrics, {
          dlqMaxBytes,
          progress: txProgress,
          decisionSchemaId:
            cfg.wireFormat === 'plain' ? null : (schemaRegistry?.decisionSchemaId ?? SCHEMA_IDS.decision),
        });
      } catch (err) {
        // Nothing opened so far may keep the process alive after this start-up failure.
        registry.stopWatching();
        await Promise.allSettled([store.close(), registry.close()]);
        throw err;
      }
      source = io.source;
      sink = io.sink;
      // Assigned partitions, and progress while records wait (a member cut off from the broker keeps
      // its last assignment until it notices; the stalled writes give it away).
      checks.push({ name: 'kafka', ready: io.ready });
      checks.push(consumerCheck(txProgress));
      const polled: { topic: string; feed: ConsumerProgress }[] = [{ topic: cfg.transactionsTopic, feed: txProgress }];
      if (cfg.labelsTopic !== '') {
        const labelsProgress = consumers.consumer('labels');
        labels = new LabelConsumer(
          kafka,
          { topic: cfg.labelsTopic, groupId: `${cfg.groupId}.labels`, dlqTopic: cfg.dlqTopic },
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
        polled.push({ topic: cfg.labelsTopic, feed: labelsProgress });
        await labels.start();
      }
      const admin = kafka.admin();
      await admin.connect();
      heads = new HeadPoller(
        polled,
        async (topic) =>
          (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, high: Number(o.high) })),
        cfg.headPollMs,
        (err) => log.warn('offsets poll failed; records waiting are not updated until the next one', { err }),
        () => admin.disconnect(),
      );
      heads.start();
      log.info('consuming', {
        brokers: cfg.brokers,
        topic: cfg.transactionsTopic,
        group: cfg.groupId,
        delivery: cfg.delivery,
        client: cfg.kafkaClient,
        security: cfg.kafkaSecurityProtocol,
        ...(security.sasl !== undefined
          ? { saslMechanism: security.sasl.mechanism, principal: principalOf(security) }
          : {}),
        model: `${manifest.name}@${manifest.version}`,
        host: hostname(),
      });
    }

    // --- monitoring observers (issue 5): drift PSI, lag by event time, challenger agreement ---
    const observers: BatchObserver[] = [
      new DriftMonitor(() => registry.current().manifest, metrics, {
        windowSize: cfg.driftWindow,
        warmupRecords: cfg.driftWarmup,
      }),
      new ChallengerAgreement(metrics, () => {
        const t = registry.current().manifest.thresholds;
        return { review: cfg.reviewThreshold ?? t.review, decline: cfg.declineThreshold ?? t.decline };
      }),
    ];
    // --- end monitoring observers ---

    // Shadow challenger (issue 4): scored beside the champion into decision.challenger_score, never decides.
    const challenger =
      cfg.challengerDir === undefined
        ? undefined
        : await ShadowChallenger.load(cfg.challengerDir, {
            maxBatch: cfg.maxBatch,
            onLatency: (seconds) => metrics.challengerLatency.observe(seconds),
            onError: (err) => log.warn('challenger failed a batch; its scores are null', { err }),
          });
    if (challenger) metrics.setModel('challenger', challenger.name, challenger.version, challenger.format);
    const processor = new Processor(
      decoder,
      store,
      champion,
      sink,
      metrics,
      stats,
      { maxBatch: cfg.maxBatch, maxWaitMs: cfg.maxWaitMs },
      challenger,
      observers,
    );
    let http: HttpServer | undefined;
    let url: string | undefined;
    if (!cfg.noHttp) {
      http = new HttpServer({
        host: cfg.httpHost,
        port: cfg.httpPort,
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
          `cannot serve HTTP on ${cfg.httpHost}:${cfg.httpPort} (${(err as Error).message}); pick another --http-port (0 = any free port) or --no-http`,
        );
      }
      log.info('serving', { metrics: `${url}/metrics`, ready: `${url}/readyz`, dashboard: `${url}/dashboard` });
    }
    const app = new Pipeline(
      cfg,
      metrics,
      registry,
      store,
      processor,
      source,
      sink,
      http,
      url,
      labels,
      progress,
      challenger,
      heads,
    );
    (app as { stats: RunStats }).stats = stats;
    app.schemaRegistry = schemaRegistry;
    return app;
  }

  /** Runs until the source ends (embedded) or SIGTERM/SIGINT; returns the exit code. */
  async runToEnd(): Promise<number> {
    // SIGTERM must end the process within 10 s even when a broker does not answer: the 7 s clock starts
    // at the signal, not once the source has handed back its partitions (that alone can take seconds).
    let abandon: () => void = () => {};
    const abandoned = new Promise<void>((r) => {
      abandon = r;
    });
    const onSignal = (signal: string) => {
      log.info('stopping: finishing the in-flight batch', { signal });
      setTimeout(abandon, 7000).unref();
      void this.stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const handler = this.processor.handle;
    const bp = this.source.backpressure?.bind(this.source);
    const wrapped = bp
      ? (records: Parameters<typeof handler>[0]) => {
          const p = handler(records);
          bp(this.processor.inFlight);
          return p.finally(() => bp(this.processor.inFlight));
        }
      : handler;
    const guarded = (records: Parameters<typeof handler>[0]) =>
      wrapped(records).catch((err: unknown) => {
        if (err instanceof FraudError && err.code === ErrorCodes.REGISTRY_UNAVAILABLE && this.fatal === undefined) {
          this.fatal = err;
          void this.stop();
        }
        throw err;
      });
    const running = this.source.run(guarded);
    running.catch(() => {}); // observed below; a rejection after an abandoned shutdown is not an error
    try {
      await Promise.race([running, abandoned]);
    } finally {
      const bounded = await Promise.race([
        this.stop().then(() => true),
        abandoned.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(false), 7000).unref()),
      ]);
      if (!bounded) log.warn('shutdown did not finish within 7 s; abandoning the batch in flight');
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
    }
    if (this.fatal !== undefined) throw this.fatal;
    this.progress.done();
    const summary = this.stats.summary();
    printSummary(summary, this.cfg);
    return 0;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.source.stop();
      await this.processor.close();
      await this.labels?.stop();
      await this.heads?.stop();
      await this.sink.close();
      await this.store.close();
      this.registry.stopWatching();
      await this.registry.close();
      await this.challenger?.close();
      await this.http?.close();
      this.schemaRegistry?.client.close();
    })();
    return this.stopping;
  }
}

interface KafkaIo {
  source: Source;
  sink: Sink;
  ready(): boolean;
}

/** The Source/Sink pair of the chosen client, connected; start-up waits at most --connect-timeout-ms. */
async function openKafkaIo(
  cfg: RunConfig,
  kafka: ReturnType<typeof kafkaClient>,
  security: KafkaSecurity,
  metrics: Metrics,
  io: { dlqMaxBytes: number; progress: ProgressFeed; decisionSchemaId: number | null },
): Promise<KafkaIo> {
  const sourceOpts = {
    topic: cfg.transactionsTopic,
    groupId: cfg.groupId,
    partitionsConcurrently: cfg.partitionsConcurrently,
    sessionTimeoutMs: cfg.sessionTimeoutMs,
    maxInFlight: cfg.maxInFlight,
    readCommitted: cfg.delivery === 'exactly-once',
    progress: io.progress,
  };
  const sinkOpts = {
    decisionsTopic: cfg.decisionsTopic,
    dlqTopic: cfg.dlqTopic,
    dlqMaxBytes: io.dlqMaxBytes,
    groupId: cfg.groupId,
    delivery: cfg.delivery,
    transactionalId: `${cfg.clientId}.${cfg.groupId}.tx`,
    decisionSchemaId: io.decisionSchemaId,
    onCommitSeconds: (s: number) => metrics.stage.commit.observe(s),
    compression: compressionType(cfg.compression),
  };
  if (cfg.kafkaClient === 'kafkajs') {
    const source = new KafkaSource(kafka, sourceOpts);
    const sink = new KafkaSink(kafka, sinkOpts, source);
    await connectSink(sink, cfg, security);
    return {
      source,
      sink,
      ready: () => source.assignment.length > 0 && source.millisSinceHeartbeat < cfg.sessionTimeoutMs,
    };
  }
  const ck = confluentClient(cfg.brokers!, cfg.clientId, security);
  const source = new ConfluentSource(ck, {
    ...sourceOpts,
    stallTimeoutMs: cfg.stallTimeoutMs,
    isFatal: (err) => err instanceof FatalKafkaError,
  });
  // A transaction left open by a stopped process is aborted (and its producer fenced) by the broker.
  const sink = new ConfluentSink(
    ck,
    { ...sinkOpts, transactionTimeoutMs: cfg.sessionTimeoutMs, codec: cfg.compression },
    source,
  );
  await connectSink(sink, cfg, security);
  return {
    source,
    sink,
    ready: () => source.assignment.length > 0 && source.millisSinceProgress < cfg.stallTimeoutMs,
  };
}

/** The producer's start (transactions: InitProducerId on the transactional id), refusals as one line. */
async function connectSink(sink: { connect(): Promise<void> }, cfg: RunConfig, security: KafkaSecurity): Promise<void> {
  try {
    await withTimeout(sink.connect(), cfg, 'the Kafka producer');
  } catch (err) {
    // kafkajs hides the broker's refusal of the transactional id (logged above) behind this name.
    if ((err as Error).name === 'KafkaJSGroupCoordinatorNotFound' && cfg.delivery === 'exactly-once') {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `Kafka named no transaction coordinator for the transactional id ${cfg.clientId}.${cfg.groupId}.tx (the broker's refusal, e.g. Transactional Id authorization failed, is logged above); grant ${principalOf(security)} Write on the transactional id (prefix), see README "Security" for the exact ACLs`,
      );
    }
    throw aclFailure(err, security) ?? securityFailure(err, security, cfg.brokers!) ?? err;
  }
}

async function withTimeout<T>(p: Promise<T>, cfg: RunConfig, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new FraudError(
                ErrorCodes.STACK_UNAVAILABLE,
                `${what} could not connect to Kafka at ${cfg.brokers!.join(',')} within ${cfg.connectTimeoutMs} ms; check KAFKA_BROKERS and that the broker is up (\`npm run stack:up\` locally)`,
              ),
            ),
          cfg.connectTimeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function printSummary(s: RunSummary, cfg: RunConfig): void {
  const fmt = (n: number, d = 0) =>
    Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d }) : '-';
  const rows: [string, string][] = [
    ['records in', fmt(s.records)],
    ['decisions', fmt(s.decisions)],
    ['  APPROVE', fmt(s.by_outcome.APPROVE)],
    ['  REVIEW', fmt(s.by_outcome.REVIEW)],
    ['  DECLINE', fmt(s.by_outcome.DECLINE)],
    ['  degraded', fmt(s.degraded)],
    ['dead letters', fmt(s.dead_letters)],
    ['elapsed', `${fmt(s.seconds, 2)} s`],
    ['throughput', `${fmt(s.throughput_tps)} tx/s`],
    ['latency p50', `${fmt(s.p50_ms, 3)} ms`],
    ['latency p99', `${fmt(s.p99_ms, 3)} ms`],
  ];
  const mode =
    cfg.brokers === undefined ? 'embedded (generated stream, in-memory features)' : `Kafka ${cfg.brokers.join(',')}`;
  console.log(`\nfraudscore run — ${mode}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(14)} ${v.padStart(14)}`);
  if (cfg.brokers === undefined && s.dead_letters > 0) {
    console.log('  (the embedded stream includes 1 truncated record in 2000 to show the dead-letter path)');
  }
  console.log('  latency = from the record reaching fraudscore to its decision being written');
}
