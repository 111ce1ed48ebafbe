import { performance } from 'node:perf_hooks';
import {
  type API,
  type BaseOptions,
  type ClusterMetadata,
  type Connection,
  findErrorBy,
  kGetApi,
  kGetConnection,
  kMetadata,
  type MessageToProduce,
  ProduceAcks,
  Producer,
  type txnOffsetCommitV4,
} from '@platformatic/kafka';
import { decisionEncoder, type Encoder } from '../avro/encoders.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { logger } from '../log/logger.js';
import type { OutputBatch, Position, Sink } from '../pipeline/sink.js';
import type { Decision } from '../types.js';
import { DEFAULT_MAX_RECORD_BYTES, deadLetterMessage } from './dead-letter.js';
import type { KafkaSinkOptions, OffsetOwner } from './kafka-sink.js';
import { describeKafkaError, type PlatformaticGroupMetadata } from './platformatic-client.js';
import type { PlatformaticSource } from './platformatic-source.js';
import { CommitUncertainError, FatalKafkaError, partitionsRevoked } from './producer-errors.js';

const log = logger('platformatic-sink');

export interface PlatformaticSinkOptions extends KafkaSinkOptions {
  /** The broker aborts (and fences) a transaction left open this long, e.g. by a paused process. */
  transactionTimeoutMs: number;
  codec?: 'none' | 'gzip' | 'snappy' | 'lz4';
}

/** The source: its consumer joins the transaction, and each partition's fetch metadata goes with its offset. */
export interface GroupOwner extends OffsetOwner {
  readonly consumer: PlatformaticSource['consumer'];
  groupMetadata(topic: string, partition: number): PlatformaticGroupMetadata | undefined;
}

// InitProducerId of a new instance: the library sends producer id 0 and epoch 0 unless told, which the
// coordinator takes as a stale epoch of this transactional id (PRODUCER_FENCED) once it has been used.
const NEW_PRODUCER = { producerId: -1n, producerEpoch: -1 };

type TxnOffsetCommitRequest = txnOffsetCommitV4.TxnOffsetCommitRequest;
type TxnOffsetCommitRequestTopic = txnOffsetCommitV4.TxnOffsetCommitRequestTopic;
type TxnOffsetCommitResponse = txnOffsetCommitV4.TxnOffsetCommitResponse;

type Out = MessageToProduce<Buffer | string, Buffer, string, string>;
type OutProducer = Producer<Buffer | string, Buffer, string, string>;
type OutTransaction = Awaited<ReturnType<OutProducer['beginTransaction']>>;

const toBuffer = (s?: string | Buffer): Buffer | undefined => (typeof s === 'string' ? Buffer.from(s) : s);
const stringToBuffer = (s?: string): Buffer | undefined => (s === undefined ? undefined : Buffer.from(s));

/**
 * Decisions and dead letters through @platformatic/kafka. exactly-once: one transaction per
 * micro-batch; each partition's offset goes in TxnOffsetCommit with the generation and member id its
 * records were fetched under (KIP-447), so the broker itself rejects the commit of a member that lost
 * its partitions. at-least-once: idempotent produce with acks=all, then the source commits.
 */
export class PlatformaticSink implements Sink {
  private producer: OutProducer;
  private readonly encoder: Encoder<Decision>;
  private readonly dlqMaxBytes: number;
  /** A transaction was left open or in doubt: the producer is replaced before the next one. */
  private broken = false;

  constructor(
    private readonly base: BaseOptions,
    private readonly opts: PlatformaticSinkOptions,
    private readonly owner: GroupOwner,
  ) {
    this.dlqMaxBytes = Math.min(opts.dlqMaxBytes ?? DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_RECORD_BYTES);
    this.producer = this.newProducer();
    this.encoder = decisionEncoder(opts.decisionSchemaId);
  }

  private newProducer(): OutProducer {
    const exactlyOnce = this.opts.delivery === 'exactly-once';
    return new Producer<Buffer | string, Buffer, string, string>({
      ...this.base,
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: this.opts.codec ?? 'none',
      // InitProducerId's transaction timeout (and the produce request's) is the client's `timeout`.
      timeout: this.opts.transactionTimeoutMs,
      ...(exactlyOnce ? { transactionalId: this.opts.transactionalId } : {}),
      serializers: { key: toBuffer, headerKey: stringToBuffer, headerValue: stringToBuffer },
    });
  }

  /**
   * InitProducerId now, so refusals show at start. exactly-once: it also fences this transactional
   * id's earlier instance; while the broker still aborts that one's open transaction it answers
   * CONCURRENT_TRANSACTIONS, retried here (the start-up timeout bounds the wait).
   */
  async connect(): Promise<void> {
    for (let wait = 200; ; wait = Math.min(2000, wait * 2)) {
      try {
        if (this.opts.delivery === 'exactly-once') {
          // An empty transaction needs no EndTxn: cancel only forgets it locally.
          await (await this.producer.beginTransaction(NEW_PRODUCER)).cancel();
        } else {
          await this.producer.initIdempotentProducer(NEW_PRODUCER);
        }
        return;
      } catch (err) {
        if (isFenced(err) || findErrorBy(err as Error, 'canRetry', true) === null) {
          throw new FraudError(
            ErrorCodes.KAFKA_FATAL,
            `the Kafka producer could not start: ${describeKafkaError(err)}`,
            {
              cause: err,
            },
          );
        }
        log.warn('the Kafka producer could not start yet; retrying', { err: describeKafkaError(err), retryInMs: wait });
        await this.producer.close(true).catch(() => {});
        this.producer = this.newProducer();
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async write(batch: OutputBatch): Promise<void> {
    const messages = this.messages(batch);
    if (this.opts.delivery === 'at-least-once') {
      // Decisions for partitions another member has taken over would be duplicates (see ConfluentSink).
      if (batch.positions.length > 0 && !this.owner.owns(batch.positions)) throw partitionsRevoked();
      if (messages.length > 0) await this.producer.send({ messages });
      const t0 = performance.now();
      await this.owner.commit(batch.positions);
      this.opts.onCommitSeconds?.((performance.now() - t0) / 1000);
      this.owner.written?.(batch.positions);
      return;
    }
    if (this.broken) await this.reset();
    let tx: OutTransaction;
    try {
      tx = await this.producer.beginTransaction(NEW_PRODUCER);
    } catch (err) {
      // The library keeps a transaction that failed to begin as the active one: start afresh.
      this.broken = true;
      throw classify(err);
    }
    let committing = false;
    try {
      if (messages.length > 0) await tx.send({ messages });
      const t0 = performance.now();
      if (batch.positions.length > 0) {
        // The broker fences a stale member (KIP-447); this check only saves a round trip when we know.
        if (!this.owner.owns(batch.positions)) throw partitionsRevoked();
        await tx.addConsumer(this.owner.consumer);
        await this.sendOffsets(batch.positions);
      }
      committing = true;
      await tx.commit();
      this.opts.onCommitSeconds?.((performance.now() - t0) / 1000);
      this.owner.written?.(batch.positions);
    } catch (err) {
      if (isFenced(err)) throw fatal(err);
      if (committing) {
        // EndTxn may have reached the coordinator: only a new InitProducerId settles it (committed or aborted).
        this.broken = true;
        throw new CommitUncertainError(err);
      }
      try {
        await tx.abort();
      } catch (abortErr) {
        if (isFenced(abortErr)) throw fatal(abortErr);
        this.broken = true;
        log.warn('transaction abort failed; the producer is replaced before the next batch', { err: abortErr });
      }
      throw err;
    }
  }

  /**
   * TxnOffsetCommit for the batch's partitions in one request per fetch generation (the library's
   * Transaction.addOffset sends one request per partition, one at a time), with the generation and
   * member id the records were fetched under (KIP-447). Built as the library's own addOffset does,
   * through its exported client internals (metadata, connection, API by name).
   */
  private async sendOffsets(positions: readonly Position[]): Promise<void> {
    const groups = new Map<PlatformaticGroupMetadata, TxnOffsetCommitRequestTopic[]>();
    for (const p of positions) {
      const meta = this.owner.groupMetadata(p.topic, p.partition);
      if (meta === undefined) {
        throw new FraudError(ErrorCodes.PARTITIONS_REVOKED, `no fetch of ${p.topic}/${p.partition} in hand`, {
          canRetry: true,
        });
      }
      let topics = groups.get(meta);
      if (topics === undefined) {
        topics = [];
        groups.set(meta, topics);
      }
      let topic = topics.find((t) => t.name === p.topic);
      if (topic === undefined) {
        topic = { name: p.topic, partitions: [] };
        topics.push(topic);
      }
      topic.partitions.push({
        partitionIndex: p.partition,
        committedOffset: BigInt(p.offset),
        committedLeaderEpoch: -1,
      });
    }
    const producer = this.producer;
    for (const [meta, topics] of groups) {
      const metadata = await new Promise<ClusterMetadata>((resolve, reject) =>
        producer[kMetadata]({ topics: topics.map((t) => t.name) }, (err, m) => (err ? reject(err) : resolve(m!))),
      );
      const broker = metadata.brokers.get(meta.coordinatorId);
      if (broker === undefined) throw new Error(`group coordinator ${meta.coordinatorId} is not in the metadata`);
      const connection = await new Promise<Connection>((resolve, reject) =>
        producer[kGetConnection](broker, (err, c) => (err ? reject(err) : resolve(c!))),
      );
      const api = await new Promise<API<TxnOffsetCommitRequest, TxnOffsetCommitResponse>>((resolve, reject) =>
        producer[kGetApi]<TxnOffsetCommitRequest, TxnOffsetCommitResponse>('TxnOffsetCommit', (err, a) =>
          err ? reject(err) : resolve(a!),
        ),
      );
      await api.async(
        connection,
        this.opts.transactionalId,
        meta.groupId,
        producer.producerId!,
        producer.producerEpoch!,
        meta.generationId,
        meta.memberId,
        null,
        topics,
      );
    }
  }

  /** Settles a transaction left open or in doubt: the replacing producer's InitProducerId completes or aborts it. */
  async settle(): Promise<void> {
    if (this.broken) await this.reset();
  }

  private async reset(): Promise<void> {
    const old = this.producer;
    await Promise.race([old.close(true).catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    this.producer = this.newProducer();
    await (await this.producer.beginTransaction(NEW_PRODUCER)).cancel();
    this.broken = false;
    log.info('transactional producer replaced');
  }

  private messages(batch: OutputBatch): Out[] {
    const nd = batch.decisions.length;
    const out: Out[] = new Array(nd);
    const topic = this.opts.decisionsTopic;
    for (let i = 0; i < nd; i++) {
      const d = batch.decisions[i];
      out[i] = { topic, key: d.transaction_id, value: this.encoder.encode(d) };
    }
    for (const d of batch.deadLetters) {
      const m = deadLetterMessage(d, this.dlqMaxBytes);
      out.push({ topic: this.opts.dlqTopic, key: m.key ?? undefined, value: m.value ?? undefined, headers: m.headers });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.producer.close(true);
  }
}

/** This producer's epoch is gone (a newer instance, or the broker's timeout abort): it cannot go on. */
function isFenced(err: unknown): boolean {
  const e = err as Error;
  return (
    findErrorBy(e, 'apiId', 'PRODUCER_FENCED') !== null ||
    findErrorBy(e, 'apiId', 'INVALID_PRODUCER_EPOCH') !== null ||
    findErrorBy(e, 'apiId', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') !== null
  );
}

function classify(err: unknown): unknown {
  return isFenced(err) ? fatal(err) : err;
}

function fatal(err: unknown): FatalKafkaError {
  return new FatalKafkaError(`the Kafka producer cannot continue: ${(err as Error).message}`, { cause: err });
}
