import { performance } from 'node:perf_hooks';
import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { decisionEncoder, type Encoder } from '../avro/encoders.js';
import { logger } from '../log/logger.js';
import type { OutputBatch, Position, Sink } from '../pipeline/sink.js';
import type { Decision } from '../types.js';
import { chunkBySize, DEFAULT_MAX_RECORD_BYTES, deadLetterMessage } from './dead-letter.js';
import { partitionsRevoked } from './producer-errors.js';

const log = logger('kafka-sink');

export { DLQ_HEADERS, deadLetterMessage } from './dead-letter.js';

export interface KafkaSinkOptions {
  decisionsTopic: string;
  dlqTopic: string;
  groupId: string;
  delivery: 'exactly-once' | 'at-least-once';
  /** Stable per instance so a restarted scorer fences its own zombie transaction at once. */
  transactionalId: string;
  /** Schema id for Confluent framing of decisions; null writes plain Avro. */
  decisionSchemaId: number | null;
  /** The DLQ topic's max.message.bytes (read at start): bigger dead letters are truncated copies. */
  dlqMaxBytes?: number;
  /** Seconds spent committing each batch (offsets, and for exactly-once the transaction's commit). */
  onCommitSeconds?: (seconds: number) => void;
  /** kafkajs CompressionTypes of decisions and dead letters (compressionType(); default none). */
  compression?: number;
}

/** How the sink learns whether it may still commit for a partition, and commits when not transactional. */
export interface OffsetOwner {
  owns(positions: readonly Position[]): boolean;
  commit(positions: readonly Position[]): Promise<void>;
  /** The positions are durable (decisions written, offsets committed). */
  written?(positions: readonly Position[]): void;
}

/**
 * Decisions and dead letters to Kafka. exactly-once: one transaction per micro-batch holds its
 * decisions, its dead letters and its input offsets (sendOffsets), so a read_committed reader sees each
 * decision once whatever crashes. at-least-once: idempotent produce with acks=all, then commit.
 */
export class KafkaSink implements Sink {
  private readonly producer: Producer;
  private readonly encoder: Encoder<Decision>;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly opts: KafkaSinkOptions,
    private readonly owner: OffsetOwner,
  ) {
    const exactlyOnce = opts.delivery === 'exactly-once';
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: exactlyOnce ? 1 : 5,
      transactionalId: exactlyOnce ? opts.transactionalId : undefined,
      transactionTimeout: 30_000,
      allowAutoTopicCreation: false,
      // The broker answers CONCURRENT_TRANSACTIONS while it still writes the previous transaction's
      // markers; kafkajs' default 300 ms first back-off would then dominate every batch's latency.
      retry: { initialRetryTime: 10, maxRetryTime: 1000, retries: 12, factor: 0.2, multiplier: 2 },
    });
    this.encoder = decisionEncoder(opts.decisionSchemaId);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
    if (this.opts.delivery === 'exactly-once') {
      // kafkajs registers the transactional id only at the first transaction: do it now (an empty
      // transaction, aborted without a request), so that a missing transactional-id ACL or an
      // unreachable coordinator ends the start with one line instead of failing the first write.
      const tx = await this.producer.transaction();
      await tx.abort();
    }
  }

  async write(batch: OutputBatch): Promise<void> {
    const [topicMessages, ...moreDeadLetters] = this.messages(batch);
    if (this.opts.delivery === 'at-least-once') {
      // Decisions for partitions another member has taken over would be duplicates (see ConfluentSink).
      if (batch.positions.length > 0 && !this.owner.owns(batch.positions)) throw partitionsRevoked();
      const compression = this.opts.compression;
      if (topicMessages.length > 0) await this.producer.sendBatch({ topicMessages, acks: -1, compression });
      for (const m of moreDeadLetters) await this.producer.sendBatch({ topicMessages: m, acks: -1, compression });
      const t0 = performance.now();
      await this.owner.commit(batch.positions);
      this.opts.onCommitSeconds?.((performance.now() - t0) / 1000);
      this.owner.written?.(batch.positions);
      return;
    }
    const tx = await this.producer.transaction();
    try {
      const compression = this.opts.compression;
      if (topicMessages.length > 0) await tx.sendBatch({ topicMessages, acks: -1, compression });
      for (const m of moreDeadLetters) await tx.sendBatch({ topicMessages: m, acks: -1, compression });
      const t0 = performance.now();
      if (batch.positions.length > 0) {
        if (!this.owner.owns(batch.positions)) throw partitionsRevoked();
        await tx.sendOffsets({ consumerGroupId: this.opts.groupId, topics: byTopic(batch.positions) });
      }
      await tx.commit();
      this.opts.onCommitSeconds?.((performance.now() - t0) / 1000);
      this.owner.written?.(batch.positions);
    } catch (err) {
      try {
        await tx.abort();
      } catch (abortErr) {
        log.warn('transaction abort failed (the broker aborts it on timeout or when fenced)', { err: abortErr });
      }
      throw err;
    }
  }

  /**
   * The batch's produce requests: decisions with the first dead letters, then any further dead letters
   * in requests each below the DLQ topic's limit (kafkajs sends one record batch per partition, and
   * a few big dead letters together would exceed it).
   */
  private messages(batch: OutputBatch): TopicMessages[][] {
    const first: TopicMessages[] = [];
    if (batch.decisions.length > 0) {
      const messages: Message[] = new Array(batch.decisions.length);
      for (let i = 0; i < batch.decisions.length; i++) {
        const d = batch.decisions[i];
        messages[i] = { key: d.transaction_id, value: this.encoder.encode(d) };
      }
      first.push({ topic: this.opts.decisionsTopic, messages });
    }
    const out = [first];
    if (batch.deadLetters.length > 0) {
      const max = this.opts.dlqMaxBytes ?? DEFAULT_MAX_RECORD_BYTES;
      const chunks = chunkBySize(
        batch.deadLetters.map((d) => deadLetterMessage(d, max)),
        max,
      );
      first.push({ topic: this.opts.dlqTopic, messages: chunks[0] });
      for (let i = 1; i < chunks.length; i++) out.push([{ topic: this.opts.dlqTopic, messages: chunks[i] }]);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = false;
  }
}

export function byTopic(
  positions: readonly Position[],
): { topic: string; partitions: { partition: number; offset: string }[] }[] {
  const m = new Map<string, { partition: number; offset: string }[]>();
  for (const p of positions) {
    let list = m.get(p.topic);
    if (list === undefined) {
      list = [];
      m.set(p.topic, list);
    }
    list.push({ partition: p.partition, offset: p.offset });
  }
  return [...m].map(([topic, partitions]) => ({ topic, partitions }));
}
