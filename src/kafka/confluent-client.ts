// @confluentinc/kafka-javascript (librdkafka) through its KafkaJS-compatible API. It is an optional
// dependency built from source at install time, so it is loaded lazily and typed here by the few
// shapes fraudscore uses: a machine where it did not build still compiles, installs and runs kafkajs.
import { createRequire } from 'node:module';
import { ErrorCodes, FraudError } from '../errors.js';
import { logger } from '../log/logger.js';
import { type KafkaSecurity, librdkafkaSecurity, PLAINTEXT } from './security.js';

const log = logger('librdkafka');

export interface CkMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp: string;
}

export interface CkBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: CkMessage[];
  lastOffset(): string;
}

export interface CkEachBatchPayload {
  batch: CkBatch;
  resolveOffset(offset: string): void;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface CkTopicPartition {
  topic: string;
  partition: number;
}

export interface CkConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(cfg: {
    partitionsConsumedConcurrently?: number;
    eachBatchAutoResolve?: boolean;
    eachBatch(payload: CkEachBatchPayload): Promise<void>;
  }): Promise<void>;
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  seek(tpo: { topic: string; partition: number; offset: string }): void;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  assignment(): CkTopicPartition[];
  committed(tps: { topic: string; partition: number }[], timeoutMs: number): Promise<CkTopicPartitionOffset[]>;
}

export interface CkTopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read; negative when the group has none. */
  offset: string;
}

export interface CkMessageOut {
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: Record<string, string>;
}

/** The librdkafka producer under the KafkaJS-compatible one (node-rdkafka's API). */
export interface CkNativeProducer {
  /**
   * Throws on a local failure (queue full, record too large); the delivery report settles `opaque`.
   * Without an opaque, nothing is held for the report (with delivery.report.only.error, none comes
   * for a delivered record, and a held opaque would never be released).
   */
  produce(
    topic: string,
    partition: number,
    value: Buffer | null,
    key: Buffer | string | null,
    timestamp: number,
    opaque: CkDeliveryOpaque | undefined,
    headers: Record<string, string>[] | null,
  ): unknown;
  on(event: 'delivery-report', listener: (err: CkError | null, report: unknown) => void): unknown;
  removeAllListeners(event: 'delivery-report'): unknown;
  flush(timeoutMs: number, cb: (err: unknown) => void): unknown;
}

/** What the compatible layer's delivery handler calls for each record: resolve, or reject with its error. */
export interface CkDeliveryOpaque {
  resolve(report: unknown): void;
  reject(err: unknown): void;
}

export interface CkProducer {
  /** The native producer (the library marks it internal; the sink refuses a client without it). */
  _getInternalClient?(): CkNativeProducer | null;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(b: { topicMessages: { topic: string; messages: CkMessageOut[] }[] }): Promise<unknown>;
  transaction(): Promise<CkProducer>;
  sendOffsets(a: {
    consumer: CkConsumer;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface CkKafka {
  producer(cfg: Record<string, unknown>): CkProducer;
  consumer(cfg: Record<string, unknown>): CkConsumer;
}

/** librdkafka's error as the KafkaJS-compatible layer raises it. */
export interface CkError extends Error {
  code?: number;
  fatal?: boolean;
  abortable?: boolean;
  retriable?: boolean;
}

interface CkModule {
  KafkaJS: { Kafka: new (cfg: Record<string, unknown>) => CkKafka; logLevel: Record<string, number> };
  librdkafkaVersion: string;
}

let loaded: CkModule | undefined;

/** The native module, or a one-line error saying how to get it (or how to use kafkajs instead). */
export function loadConfluent(): CkModule {
  if (loaded !== undefined) return loaded;
  try {
    const require = createRequire(import.meta.url);
    loaded = require('@confluentinc/kafka-javascript') as CkModule;
    defineMissingErrorClass(require);
    return loaded;
  } catch (err) {
    throw new FraudError(
      ErrorCodes.INVALID_CONFIG,
      `--kafka-client confluent needs @confluentinc/kafka-javascript, which is not installed or did not build here (${(err as Error).message.split('\n')[0]}); install librdkafka's build dependencies (see README "Kafka clients") and run \`CKJS_LINKING=dynamic npm ci\`, or choose --kafka-client kafkajs`,
      { cause: err },
    );
  }
}

/**
 * @confluentinc/kafka-javascript 1.10.1 turns COORDINATOR_NOT_AVAILABLE (e.g. sendOffsets while a
 * transaction coordinator's broker is down) into `new error.KafkaJSGroupCoordinatorNotAvailableError`,
 * a class its error module never defines: the TypeError is thrown in a native callback and kills the
 * process (chaos leader-kill, a CI run of 2026-11-30). Defined here as its GroupCoordinatorNotFound, the
 * failure reaches the sink as the rejected write it is.
 */
function defineMissingErrorClass(require: NodeJS.Require): void {
  try {
    const errors = require('@confluentinc/kafka-javascript/lib/kafkajs/_error.js') as Record<string, unknown>;
    errors.KafkaJSGroupCoordinatorNotAvailableError ??= errors.KafkaJSGroupCoordinatorNotFound;
  } catch {
    // Another layout: a release that fixed it, or moved the module; nothing to define.
  }
}

export function confluentVersion(): string | undefined {
  try {
    return loadConfluent().librdkafkaVersion;
  } catch {
    return undefined;
  }
}

/** A client whose logs go through fraudscore's logger; librdkafka's own retries stay at debug. */
export function confluentClient(brokers: string[], clientId: string, security: KafkaSecurity = PLAINTEXT): CkKafka {
  const ck = loadConfluent();
  const { logLevel } = ck.KafkaJS;
  const sink = {
    info: (message: string) => log.debug(message),
    debug: (message: string) => log.debug(message),
    warn: (message: string, extra?: Record<string, unknown>) => log.warn(message, pick(extra)),
    error: (message: string, extra?: Record<string, unknown>) => log.warn(message, pick(extra)),
    namespace() {
      return sink;
    },
    setLogLevel() {},
  };
  // librdkafka's own debug contexts (e.g. cgrp,broker,metadata), logged at debug: how the group and
  // broker trail behind the broker-paused exit (stall-watch.ts rejoinStalled) was read.
  const debug = process.env.FRAUDSCORE_KAFKA_DEBUG || undefined;
  return new ck.KafkaJS.Kafka({
    kafkaJS: {
      brokers,
      clientId,
      logLevel: debug === undefined ? logLevel.WARN : logLevel.DEBUG,
      logger: sink,
      connectionTimeout: 5000,
    },
    ...(debug === undefined ? {} : { debug }),
    // Small requests (produce, fetch, the transaction's) go out at once. At-least-once p99 at 11,499
    // tx/s, 4 alternated pairs of `npm run bench -- --latency`: median 78.8 ms with Nagle, 54.7 without
    // (exactly-once 94.2 and 98.6: no difference).
    'socket.nagle.disable': true,
    // TLS and SASL as librdkafka properties (the KafkaJS-compatible block takes no CA or key files).
    ...librdkafkaSecurity(security),
  });
}

function pick(extra: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (extra === undefined) return undefined;
  return { broker: extra.broker, error: extra.error };
}
