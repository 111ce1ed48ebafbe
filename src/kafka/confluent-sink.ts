import { performance } from 'node:perf_hooks';
import { decisionEncoder, type Encoder } from '../avro/encoders.js';
import { withDeadline } from '../deadline.js';
import { logger } from '../log/logger.js';
import type { OutputBatch, Sink } from '../pipeline/sink.js';
import type { Decision } from '../types.js';
import type { CkConsumer, CkError, CkKafka, CkMessageOut, CkNativeProducer, CkProducer } from './confluent-client.js';
import { DEFAULT_MAX_RECORD_BYTES, deadLetterMessage } from './dead-letter.js';
import { byTopic, type KafkaSinkOptions, type OffsetOwner } from './kafka-sink.js';
import { CommitUncertainError, FatalKafkaError, partitionsRevoked } from './producer-errors.js';

const log = logger('confluent-sink');

export interface ConfluentSinkOptions extends KafkaSinkOptions {
  /** The broker aborts (and fences) a transaction left open this long, e.g. by a paused process. */
  transactionTimeoutMs: number;
  /** librdkafka's compression.codec for decisions and dead letters (default none). */
  codec?: 'none' | 'gzip' | 'snappy' | 'lz4';
  /** Longest wait for sendOffsetsToTransaction before the producer is replaced (default 10 s, see write()). */
  sendOffsetsTimeoutMs?: number;
}

/**
 * librdkafka bounds sendOffsetsToTransaction by 5 s (the compatible layer's default), but it does not
 * check that bound while it looks for the group coordinator (confluentinc/librdkafka#5456, #5511,
 * open): in a chaos leader kill a write waited there 40 s, until the stall watchdog exited the scorer.
 */
const SEND_OFFSETS_TIMEOUT_MS = 10_000;

/** The source's consumer: its group metadata goes with the offsets (KIP-447). */
export interface ConsumerOwner extends OffsetOwner {
  readonly consumer: CkConsumer;
}

/**
 * Decisions and dead letters through librdkafka. exactly-once: one transaction per micro-batch with
 * sendOffsetsToTransaction carrying the consumer's group metadata (generation, member id), so the
 * broker itself rejects the commit of a member that lost its partitions (KIP-447).
 * at-least-once: idempotent produce with acks=all, a flush, then the source commits.
 */
export class ConfluentSink implements Sink {
  private producer: CkProducer;
  private readonly producerConfig: Record<string, unknown>;
  private readonly encoder: Encoder<Decision>;
  private readonly dlqMaxBytes: number;
  private connected = false;
  /** An abort failed (e.g. the broker was down): the client still believes a transaction is open. */
  private broken = false;
  /** The first record librdkafka failed to deliver in the write in progress. */
  private deliveryError: unknown;
  /** The write's current step and since when (a stalled scorer's error names it). */
  private step = 'idle';
  private stepAt = 0;

  constructor(
    private readonly kafka: CkKafka,
    private readonly opts: ConfluentSinkOptions,
    private readonly owner: ConsumerOwner,
  ) {
    const exactlyOnce = opts.delivery === 'exactly-once';
    // librdkafka refuses a record above its own message.max.bytes before the broker sees it.
    this.dlqMaxBytes = Math.min(opts.dlqMaxBytes ?? DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_RECORD_BYTES);
    this.producerConfig = {
      ...WRITE_SETTINGS,
      'allow.auto.create.topics': false,
      'compression.codec': opts.codec ?? 'none',
      ...(exactlyOnce
        ? {
            'transactional.id': opts.transactionalId,
            'transaction.timeout.ms': opts.transactionTimeoutMs,
            'socket.timeout.ms': Math.min(60_000, opts.transactionTimeoutMs),
          }
        : {}),
    };
    this.producer = kafka.producer(this.producerConfig);
    this.encoder = decisionEncoder(opts.decisionSchemaId);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.watchDeliveryErrors();
    this.connected = true;
  }

  /**
   * Failed records are noted here. The compatible layer's own report handler is replaced: it expects
   * a per-record handle, which these records do not carry.
   */
  private watchDeliveryErrors(): void {
    const native = nativeOf(this.producer);
    native.removeAllListeners('delivery-report');
    native.on('delivery-report', (err) => {
      if (err) this.deliveryError ??= err;
    });
  }

  /** "write: <step> for <n> s", or "no write in progress". */
  writeStep(): string {
    if (this.step === 'idle') return 'no write in progress';
    return `write: ${this.step} for ${Math.round((Date.now() - this.stepAt) / 1000)} s`;
  }

  private at(step: string): void {
    this.step = step;
    this.stepAt = Date.now();
  }

  async write(batch: OutputBatch): Promise<void> {
    try {
      await this.writeSteps(batch);
    } finally {
      this.step = 'idle';
    }
  }

  private async writeSteps(batch: OutputBatch): Promise<void> {
    const topicMessages = this.messages(batch);
    if (this.opts.delivery === 'at-least-once') {
      // A member resumed from a pause runs its I/O callbacks (this write) before its watchdog's timer:
      // decisions produced now, for partitions another member has taken over, would be duplicates.
      if (!this.owner.owns(batch.positions)) throw partitionsRevoked();
      this.at('produce and flush');
      if (topicMessages.length > 0) {
        const native = nativeOf(this.producer);
        this.deliveryError = undefined;
        produceUnreported(native, topicMessages);
        await flush(native, ALO_FLUSH_TIMEOUT_MS);
        await reportsServed();
        if (this.deliveryError !== undefined) throw this.deliveryError;
      }
      const t0 = performance.now();
      this.at('commit offsets');
      await this.owner.commit(batch.positions);
      this.opts.onCommitSeconds?.((performance.now() - t0) / 1000);
      this.owner.written?.(batch.positions);
      return;
    }
    this.at('replace producer');
    if (this.broken) await this.reset();
    this.at('begin transaction');
    const tx = await this.producer.transaction();
    this.deliveryError = undefined;
    let committing = false;
    /** The producer is still inside sendOffsetsToTransaction: any other transactional call would wait behind it. */
    let hung = false;
    try {
      if (topicMessages.length > 0) {
        const native = nativeOf(tx);
        this.at('produce and flush');
        produceUnreported(native, topicMessages);
        // Delivered before the offsets are sent: overlapped with the records still on their way, the
        // offsets' requests were refused as concurrent and retried after a back-off (commit p99 438
        // against 18.8 ms at 12,500 tx/s).
        await flush(native, this.opts.transactionTimeoutMs);
      }
      const t0 = performance.now();
      if (batch.positions.length > 0) {
        // The broker fences a stale member (KIP-447); this check only saves a round trip when we know.
        if (!this.owner.owns(batch.positions)) throw partitionsRevoked();
        this.at('send offsets');
        const bound = this.opts.sendOffsetsTimeoutMs ?? SEND_OFFSETS_TIMEOUT_MS;
        await withDeadline(
          tx.sendOffsets({ consumer: this.owner.consumer, topics: byTopic(batch.positions) }),
          bound,
          () => {
            hung = true;
            return new Error(
              `sendOffsetsToTransaction did not answer within ${bound} ms (librdkafka can wait there for a moving group coordinator regardless of its timeout): the transactional producer is replaced, which aborts the transaction`,
            );
          },
        );
      }
      if (this.deliveryError !== undefined) throw this.deliveryError;
      committing = true;
      this.at('commit transaction');
      await this.commit(tx);
      this.opts.onCommitSeconds?.((performance.now() - t0) / 1000);
      this.owner.written?.(batch.positions);
    } catch (err) {
      if (isFatal(err)) throw fatal(err);
      if (hung) {
        // The next write's new producer (same transactional id) fences this one; the broker aborts its transaction.
        this.broken = true;
        throw err;
      }
      if (committing) {
        // EndTxn may have reached the coordinator (even an "abortable" answer can come from a new
        // coordinator after the old one logged the commit): aborting may fail, and the next producer's
        // InitProducerId completes a logged commit or aborts the rest. Only the broker knows which.
        this.broken = true;
        throw new CommitUncertainError(err);
      }
      try {
        this.at('abort transaction');
        await tx.abort();
      } catch (abortErr) {
        if (isFatal(abortErr)) throw fatal(abortErr);
        // The broker aborts it on timeout; this producer is replaced before the next transaction.
        this.broken = true;
        log.warn('transaction abort failed; the producer is replaced before the next batch', { err: abortErr });
      }
      throw err;
    }
  }

  /**
   * commit_transaction, resumed while librdkafka says the commit goes on in the background (it gives
   * up waiting after 5 s, e.g. while the coordinator moves to another broker), up to the
   * transaction timeout, after which the broker itself would have aborted an unfinished transaction.
   */
  private async commit(tx: CkProducer): Promise<void> {
    const deadline = performance.now() + this.opts.transactionTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await tx.commit();
        return;
      } catch (err) {
        if ((err as CkError)?.retriable !== true || performance.now() >= deadline) throw err;
        log.warn('transaction commit not confirmed yet; resuming it', { err, attempt });
      }
    }
  }

  /**
   * Settles a transaction left in doubt (CommitUncertainError): the replacing producer's
   * InitProducerId returns only once the coordinator has completed or aborted it, after which the
   * group's committed offsets say which. Throws while the broker is unreachable.
   */
  async settle(): Promise<void> {
    if (this.broken) await this.reset();
  }

  /**
   * A new producer with the same transactional id: its initTransactions aborts whatever the old one
   * left open. Throws while the broker is unreachable; the batch is then retried later.
   */
  private async reset(): Promise<void> {
    const old = this.producer;
    await Promise.race([old.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    this.producer = this.kafka.producer(this.producerConfig);
    await this.producer.connect();
    this.watchDeliveryErrors();
    this.broken = false;
    log.info('transactional producer replaced');
  }

  private messages(batch: OutputBatch): { topic: string; messages: CkMessageOut[] }[] {
    const out: { topic: string; messages: CkMessageOut[] }[] = [];
    if (batch.decisions.length > 0) {
      const messages: CkMessageOut[] = new Array(batch.decisions.length);
      for (let i = 0; i < batch.decisions.length; i++) {
        const d = batch.decisions[i];
        messages[i] = { key: d.transaction_id, value: this.encoder.encode(d) };
      }
      out.push({ topic: this.opts.decisionsTopic, messages });
    }
    if (batch.deadLetters.length > 0) {
      out.push({
        topic: this.opts.dlqTopic,
        messages: batch.deadLetters.map((d) => deadLetterMessage(d, this.dlqMaxBytes)),
      });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = false;
  }
}

/** The producer settings every write depends on; bench/txn-cost.ts measures a write with them too. */
export const WRITE_SETTINGS = {
  'enable.idempotence': true,
  acks: -1,
  // Each write is awaited before the next: lingering would only add latency.
  'linger.ms': 0,
  // A delivery report for failed records only: the write flushes until none is left undelivered,
  // and any report is a failure (exactly-once: commit_transaction also fails then). Per-record
  // reports (a JS object built by the binding, a persistent handle and a callback each) were the
  // largest part of the producer's cost on the Node thread.
  'delivery.report.only.error': true,
} as const;

const ERR_FENCED = -144; // librdkafka ERR__FENCED: a newer epoch (restart or the broker's timeout abort)
const ERR_PRODUCER_FENCED = 90;

/** librdkafka cannot go on with this producer: fenced, or a fatal idempotence/transaction error. */
function isFatal(err: unknown): boolean {
  const e = err as CkError;
  return e?.fatal === true || e?.code === ERR_FENCED || e?.code === ERR_PRODUCER_FENCED;
}

function fatal(err: unknown): FatalKafkaError {
  return new FatalKafkaError(`the Kafka producer cannot continue: ${(err as Error).message}`, { cause: err });
}

/**
 * The binding's producer under the compatible one: records are produced through it without a per-record
 * delivery handle (produceUnreported). Without it no failure report would ever be seen, so a client
 * version that lacks it is refused at connect.
 */
function nativeOf(producer: CkProducer): CkNativeProducer {
  const native = producer._getInternalClient?.();
  if (native == null) {
    throw new FatalKafkaError(
      '@confluentinc/kafka-javascript exposes no native producer (_getInternalClient): this version is not supported',
      { cause: undefined },
    );
  }
  return native;
}

/**
 * at-least-once: how long a write waits for its records. librdkafka reports every record delivered or
 * failed within message.timeout.ms (its default, 300 s, is kept); the stall watchdog exits sooner.
 */
const ALO_FLUSH_TIMEOUT_MS = 300_000 + 5_000;

/**
 * Resolves once the delivery reports librdkafka queued before the flush returned have reached the
 * 'delivery-report' listeners. librdkafka serves them before its flush can return (a record counts as
 * outstanding until then), but the binding hands them to JS through its own async handle, which
 * libuv runs after the thread pool's in the same poll phase, after the flush's promise continuation
 * has run. An immediate runs once that phase is over.
 */
function reportsServed(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** librdkafka's RD_KAFKA_RESP_ERR__TIMED_OUT, which a flush with records still undelivered returns. */
const ERR_TIMED_OUT = -185;

/**
 * Resolves once librdkafka holds no undelivered record (delivered or failed); rejects after
 * `timeoutMs`. One long flush is not used: without a delivery report per record nothing wakes it
 * when the last record is delivered, and it notices only at its next 10 ms poll (10.6 ms median for
 * 280 records the broker acknowledged in about 3). Flushes of 1 ms in a row notice within a
 * millisecond, each on a libuv worker thread.
 */
export async function flush(native: Pick<CkNativeProducer, 'flush'>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const err = await new Promise<unknown>((resolve) => native.flush(1, resolve));
    if (err == null) return;
    if ((err as CkError).code !== ERR_TIMED_OUT || performance.now() >= deadline) throw err;
  }
}

/**
 * Produces every message without a delivery handle (with delivery.report.only.error): a flush and
 * the absence of a failure report confirm them, and exactly-once's commit_transaction too. Throws on
 * a local failure.
 */
function produceUnreported(
  native: CkNativeProducer,
  topicMessages: { topic: string; messages: CkMessageOut[] }[],
): void {
  for (const t of topicMessages) {
    for (const m of t.messages) {
      native.produce(
        t.topic,
        -1,
        m.value,
        m.key,
        0,
        undefined,
        m.headers === undefined ? null : nativeHeaders(m.headers),
      );
    }
  }
}

/** node-rdkafka's header list: one single-key object per header. */
function nativeHeaders(headers: Record<string, string>): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const k of Object.keys(headers)) out.push({ [k]: headers[k] });
  return out;
}
