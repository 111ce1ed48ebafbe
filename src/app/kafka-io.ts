// The scorer's Kafka Source/Sink pair, of the chosen client, connected; start-up waits at most
// --connect-timeout-ms.

import { withDeadline } from '../deadline.js';
import { ErrorCodes, FraudError } from '../errors.js';
import type { kafkaClient } from '../kafka/client.js';
import { compressionType } from '../kafka/compression.js';
import { confluentClient } from '../kafka/confluent-client.js';
import { ConfluentSink } from '../kafka/confluent-sink.js';
import { ConfluentSource } from '../kafka/confluent-source.js';
import { KafkaSink } from '../kafka/kafka-sink.js';
import { KafkaSource } from '../kafka/kafka-source.js';
import type { AlignOptions } from '../kafka/partition-aligner.js';
import { FatalKafkaError } from '../kafka/producer-errors.js';
import { aclFailure, type KafkaSecurity, principalOf, securityFailure } from '../kafka/security.js';
import type { ProgressFeed } from '../monitoring/consumer-progress.js';
import type { Sink } from '../pipeline/sink.js';
import type { Source } from '../pipeline/source.js';
import type { KafkaIoOptions } from './create-pipeline.js';

export interface KafkaIo {
  source: Source;
  sink: Sink;
  ready(): boolean;
}

export async function openKafkaIo(
  cfg: KafkaIoOptions,
  kafka: ReturnType<typeof kafkaClient>,
  security: KafkaSecurity,
  io: {
    dlqMaxBytes: number;
    progress: ProgressFeed;
    decisionSchemaId: number | null;
    maxInFlight: number;
    onCommitSeconds: (s: number) => void;
    /** Partitions in event-time step (partition-aligner.ts); undefined: handed over as fetched. */
    align: AlignOptions | undefined;
  },
): Promise<KafkaIo> {
  const sourceOpts = {
    topic: cfg.transactionsTopic,
    groupId: cfg.groupId,
    partitionsConcurrently: cfg.partitionsConcurrently,
    sessionTimeoutMs: cfg.sessionTimeoutMs,
    maxInFlight: io.maxInFlight,
    readCommitted: cfg.delivery === 'exactly-once',
    progress: io.progress,
    align: io.align,
  };
  const sinkOpts = {
    decisionsTopic: cfg.decisionsTopic,
    dlqTopic: cfg.dlqTopic,
    dlqMaxBytes: io.dlqMaxBytes,
    groupId: cfg.groupId,
    delivery: cfg.delivery,
    transactionalId: `${cfg.clientId}.${cfg.groupId}.tx`,
    decisionSchemaId: io.decisionSchemaId,
    onCommitSeconds: io.onCommitSeconds,
    compression: compressionType(cfg.compression),
  };
  if (cfg.kafkaClient === 'kafkajs') {
    const source = new KafkaSource(kafka, { ...sourceOpts, stallTimeoutMs: cfg.stallTimeoutMs });
    const sink = new KafkaSink(kafka, sinkOpts, source);
    await connectSink(sink, cfg, security);
    return {
      source,
      sink,
      ready: () => source.assignment.length > 0 && source.millisSinceHeartbeat < cfg.sessionTimeoutMs,
    };
  }
  if (cfg.kafkaClient === 'platformatic') {
    // Loaded only when chosen: the library builds its option validators at import (importing it
    // alone took about 0.56 s on a busy 2-core machine).
    const [{ platformaticBase }, { PlatformaticSink }, { PlatformaticSource }] = await Promise.all([
      import('../kafka/platformatic-client.js'),
      import('../kafka/platformatic-sink.js'),
      import('../kafka/platformatic-source.js'),
    ]);
    const base = platformaticBase(cfg.brokers, cfg.clientId, security);
    // The library has no per-partition pause: partitions are handed over as fetched (no alignment).
    const source = new PlatformaticSource(base, {
      ...sourceOpts,
      align: undefined,
      stallTimeoutMs: cfg.stallTimeoutMs,
      isFatal: (err) => err instanceof FatalKafkaError,
      settleSink: (): Promise<void> => sink.settle(),
    });
    const sink = new PlatformaticSink(
      base,
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
  const ck = confluentClient(cfg.brokers, cfg.clientId, security);
  const source = new ConfluentSource(ck, {
    ...sourceOpts,
    stallTimeoutMs: cfg.stallTimeoutMs,
    isFatal: (err) => err instanceof FatalKafkaError,
    settleSink: (): Promise<void> => sink.settle(),
    writeStep: (): string => sink.writeStep(),
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
async function connectSink(
  sink: { connect(): Promise<void> },
  cfg: KafkaIoOptions,
  security: KafkaSecurity,
): Promise<void> {
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
    throw aclFailure(err, security) ?? securityFailure(err, security, cfg.brokers) ?? err;
  }
}

function withTimeout<T>(
  p: Promise<T>,
  cfg: Pick<KafkaIoOptions, 'brokers' | 'connectTimeoutMs'>,
  what: string,
): Promise<T> {
  return withDeadline(
    p,
    cfg.connectTimeoutMs,
    () =>
      new FraudError(
        ErrorCodes.STACK_UNAVAILABLE,
        `${what} could not connect to Kafka at ${cfg.brokers.join(',')} within ${cfg.connectTimeoutMs} ms; check KAFKA_BROKERS and that the broker is up (\`npm run stack:up\` locally)`,
      ),
  );
}
