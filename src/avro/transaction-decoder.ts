import avro from 'avsc';
import { type ErrorCode, ErrorCodes, FraudError } from '../errors.js';
import type { Transaction } from '../types.js';
import { FRAME_HEADER_BYTES, MAGIC_BYTE } from './framing.js';
import { type AvroType, loadSchema, transactionType } from './schemas.js';
import type { WriterSchemaSource } from './writer-schemas.js';

export type WireFormat = 'confluent' | 'plain' | 'auto';

export interface DecoderOptions {
  wireFormat: WireFormat;
  /** Registry schema id → .avsc path of the writer schema for that id. */
  writerSchemas: ReadonlyMap<number, string>;
  /** A transaction older than the newest accepted event time minus this is "absurdly far from the stream". */
  maxEventTimeSkewMs: number;
  /** Event times before this are absurd whatever the stream (default 2000-01-01). */
  minEventTimeMs: number;
  /** Event times this far past the wall clock are absurd. */
  maxFutureMs: number;
  /** Larger amounts (minor units) are absurd. */
  maxAmountMinor: number;
  /** Writer schemas of ids not in `writerSchemas`, asked for by `resolveIds` (a schema registry). */
  registry?: WriterSchemaSource;
  /** How long `resolveIds` retries a registry that does not answer before it gives up (fatal). */
  registryUnavailableMs: number;
  /** An id the registry does not have is dead-lettered without asking again for this long. */
  unknownIdRetryMs: number;
}

export const DEFAULT_DECODER_OPTIONS: DecoderOptions = {
  wireFormat: 'auto',
  writerSchemas: new Map([
    [1, 'schemas/history/transaction.v1.avsc'],
    [2, 'schemas/transaction.avsc'],
  ]),
  maxEventTimeSkewMs: 30 * 86_400_000,
  minEventTimeMs: Date.UTC(2000, 0, 1),
  maxFutureMs: 86_400_000,
  maxAmountMinor: 100_000_000_000,
  registryUnavailableMs: 30_000,
  unknownIdRetryMs: 60_000,
};

/** An id whose records are dead-lettered without decoding: unknown to the registry, or unreadable. */
interface Rejected {
  code: ErrorCode;
  message: string;
  /** Date.now() after which the registry is asked again. */
  until: number;
}

const ID_MAX_LENGTH = 128;
const CURRENCY = /^[A-Z]{3}$/;
const REPLACEMENT_CHARACTER = '\uFFFD';

interface Reader {
  type: AvroType;
  resolver: avro.Resolver | undefined;
}

/**
 * Turns raw record bytes into a validated Transaction, or throws a FraudError whose code says why
 * (the caller dead-letters the record with that code). Writer schemas are compiled and resolved
 * against the reader schema once, at construction.
 */
export class TransactionDecoder {
  private readonly readers = new Map<number, Reader>();
  private readonly plain: Reader;
  private readonly opts: DecoderOptions;
  /** Newest accepted event time per partition key; the stream's clock for the skew check. */
  private readonly watermarks = new Map<string, number>();
  private readonly rejected = new Map<number, Rejected>();
  /** Ids being asked for, so that overlapping batches ask once. */
  private readonly resolving = new Map<number, Promise<void>>();

  constructor(opts: Partial<DecoderOptions> = {}) {
    this.opts = { ...DEFAULT_DECODER_OPTIONS, ...opts };
    const reader = transactionType();
    this.plain = { type: reader, resolver: undefined };
    for (const [id, path] of this.opts.writerSchemas) {
      const writer = loadSchema(path);
      this.readers.set(id, {
        type: reader,
        resolver: writer.equals(reader) ? undefined : reader.createResolver(writer),
      });
    }
  }

  /** `stream` identifies the ordered stream the record came from (topic/partition) for the skew check. */
  decode(value: Buffer | null, stream: string): Transaction {
    if (value === null || value.length === 0) {
      throw new FraudError(ErrorCodes.EMPTY_RECORD, 'record has no value (tombstone or empty message)');
    }
    let reader = this.plain;
    let start = 0;
    const framed = this.opts.wireFormat === 'confluent' || (this.opts.wireFormat === 'auto' && value[0] === MAGIC_BYTE);
    if (framed) {
      if (value[0] !== MAGIC_BYTE) {
        throw new FraudError(
          ErrorCodes.BAD_MAGIC_BYTE,
          `expected Confluent magic byte 0, got ${value[0]} (is the producer writing plain Avro? set wire format to plain)`,
        );
      }
      if (value.length < FRAME_HEADER_BYTES) {
        throw new FraudError(ErrorCodes.TRUNCATED_RECORD, `framed record of ${value.length} bytes has no schema id`);
      }
      const id = value.readUInt32BE(1);
      const found = this.readers.get(id);
      if (found === undefined) {
        const r = this.rejected.get(id);
        if (r !== undefined) throw new FraudError(r.code, r.message);
        throw new FraudError(
          ErrorCodes.UNKNOWN_SCHEMA_ID,
          `schema id ${id} is not registered (known: ${[...this.readers.keys()].join(', ')})`,
        );
      }
      reader = found;
      start = FRAME_HEADER_BYTES;
    }
    let tx: Transaction;
    let end: number;
    try {
      const res = reader.type.decode(value, start, reader.resolver);
      tx = res.value as Transaction;
      end = res.offset;
    } catch (err) {
      throw this.undecodable(
        value,
        framed,
        ErrorCodes.UNDECODABLE_RECORD,
        `Avro body does not decode: ${(err as Error).message}`,
        err,
      );
    }
    if (end < 0) {
      throw this.undecodable(
        value,
        framed,
        ErrorCodes.TRUNCATED_RECORD,
        `Avro body ends before the record is complete (${value.length} bytes: truncated, or not this schema)`,
      );
    }
    if (end !== value.length) {
      throw this.undecodable(
        value,
        framed,
        ErrorCodes.UNDECODABLE_RECORD,
        `${value.length - end} trailing bytes after the Avro body (wrong schema id or wire format?)`,
      );
    }
    this.validate(tx, stream);
    return tx;
  }

  /**
   * Asks the registry for the writer schemas of framed records whose ids are new, so that `decode`
   * stays synchronous. Returns undefined (nothing to wait for) when every id is known, which is the
   * steady state: the cost per record is then one Map lookup. A registry that does not answer is
   * retried with backoff for `registryUnavailableMs`, then the returned promise rejects with
   * FRAUD_REGISTRY_UNAVAILABLE: records are never dead-lettered because the registry was down.
   */
  resolveIds(records: readonly { value: Buffer | null }[]): Promise<void> | undefined {
    const registry = this.opts.registry;
    if (registry === undefined || this.opts.wireFormat === 'plain') return undefined;
    let missing: Set<number> | undefined;
    let now = 0;
    for (const r of records) {
      const v = r.value;
      if (v === null || v.length < FRAME_HEADER_BYTES || v[0] !== MAGIC_BYTE) continue;
      const id = v.readUInt32BE(1);
      if (this.readers.has(id)) continue;
      const rej = this.rejected.get(id);
      if (rej !== undefined) {
        if (now === 0) now = Date.now();
        if (rej.until > now) continue;
      }
      if (missing === undefined) missing = new Set();
      missing.add(id);
    }
    if (missing === undefined) return undefined;
    return Promise.all([...missing].map((id) => this.resolveOnce(registry, id))).then(() => undefined);
  }

  private resolveOnce(registry: WriterSchemaSource, id: number): Promise<void> {
    let p = this.resolving.get(id);
    if (p === undefined) {
      p = this.resolve(registry, id).finally(() => this.resolving.delete(id));
      this.resolving.set(id, p);
    }
    return p;
  }

  private async resolve(registry: WriterSchemaSource, id: number): Promise<void> {
    const deadline = Date.now() + this.opts.registryUnavailableMs;
    let delay = 100;
    let answer: Awaited<ReturnType<WriterSchemaSource['writerSchema']>>;
    for (;;) {
      try {
        answer = await registry.writerSchema(id);
        break;
      } catch (err) {
        const retry = err instanceof FraudError && err.canRetry;
        if (!retry || Date.now() + delay > deadline) {
          if (!retry) throw err;
          throw new FraudError(
            ErrorCodes.REGISTRY_UNAVAILABLE,
            `${(err as Error).message}; gave up on writer schema id ${id} after ${this.opts.registryUnavailableMs} ms (the records were not dead-lettered)`,
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(2 * delay, 2000);
      }
    }
    if (answer === null) {
      this.reject(id, ErrorCodes.UNKNOWN_SCHEMA_ID, `schema id ${id} is not in the schema registry ${registry.where}`);
      return;
    }
    if (answer.schemaType !== 'AVRO') {
      this.reject(id, ErrorCodes.UNDECODABLE_RECORD, `schema id ${id} is a ${answer.schemaType} schema, not Avro`);
      return;
    }
    const reader = this.plain.type;
    try {
      const writer = avro.Type.forSchema(JSON.parse(answer.schema), { wrapUnions: false });
      this.readers.set(id, {
        type: reader,
        resolver: writer.equals(reader) ? undefined : reader.createResolver(writer),
      });
      this.rejected.delete(id);
    } catch (err) {
      // A registered schema does not change under its id: no need to ask again.
      this.reject(
        id,
        ErrorCodes.UNDECODABLE_RECORD,
        `writer schema id ${id} cannot be read as a transaction: ${(err as Error).message}`,
        Number.POSITIVE_INFINITY,
      );
    }
  }

  private reject(id: number, code: ErrorCode, message: string, forMs = this.opts.unknownIdRetryMs): void {
    this.rejected.set(id, { code, message, until: Date.now() + forMs });
  }

  /**
   * The error for a body that did not decode. In auto mode a record whose first byte is not 0 was read
   * as plain Avro; when it cannot be plain Avro (an odd first byte is a negative length for the leading
   * transaction_id string) or bytes 1-4 name a registered schema id, it is a framed record with a
   * corrupt magic byte, and says so. Only failing records pay for this check.
   */
  private undecodable(value: Buffer, framed: boolean, code: ErrorCode, message: string, cause?: unknown): FraudError {
    if (!framed && this.opts.wireFormat === 'auto') {
      const first = value[0]!;
      const id = value.length >= FRAME_HEADER_BYTES ? value.readUInt32BE(1) : -1;
      if (first % 2 === 1 || this.readers.has(id)) {
        const hint = this.readers.has(id) ? `; bytes 1-4 hold the registered schema id ${id}` : '';
        return new FraudError(
          ErrorCodes.BAD_MAGIC_BYTE,
          `byte 0 is ${first}, neither Confluent's magic byte 0 nor the start of a plain Avro transaction${hint}`,
          { cause },
        );
      }
    }
    return new FraudError(code, message, cause === undefined ? undefined : { cause });
  }

  /** Contract checks that Avro types cannot express. Exposed for sources that do not decode Avro. */
  validate(tx: Transaction, stream: string): void {
    checkId(tx.transaction_id, 'transaction_id');
    checkId(tx.customer_id, 'customer_id');
    checkId(tx.terminal_id, 'terminal_id');
    const amount = tx.amount_minor;
    if (!Number.isSafeInteger(amount)) {
      invalid(`amount_minor must be a whole number of minor units, got ${amount}`);
    }
    if (amount < 0) invalid(`amount_minor must not be negative, got ${amount}`);
    if (amount > this.opts.maxAmountMinor) {
      invalid(`amount_minor ${amount} is above the plausible maximum ${this.opts.maxAmountMinor}`);
    }
    if (typeof tx.currency !== 'string' || !CURRENCY.test(tx.currency)) {
      invalid(`currency must be an ISO 4217 code like EUR, got ${JSON.stringify(tx.currency)}`);
    }
    const t = tx.event_time;
    if (!Number.isSafeInteger(t)) invalid(`event_time must be epoch milliseconds, got ${t}`);
    if (t < this.opts.minEventTimeMs || t > Date.now() + this.opts.maxFutureMs) {
      throw new FraudError(
        ErrorCodes.EVENT_TIME_OUT_OF_RANGE,
        `event_time ${t} (${safeIso(t)}) is outside the plausible range`,
      );
    }
    const mark = this.watermarks.get(stream);
    if (mark === undefined || t > mark) {
      this.watermarks.set(stream, t);
    } else if (mark - t > this.opts.maxEventTimeSkewMs) {
      throw new FraudError(
        ErrorCodes.EVENT_TIME_OUT_OF_RANGE,
        `event_time ${safeIso(t)} is ${Math.round((mark - t) / 3_600_000)} h older than the stream (${safeIso(mark)})`,
      );
    }
  }
}

function checkId(v: unknown, field: string): void {
  if (typeof v !== 'string' || v.length === 0) invalid(`${field} must be a non-empty string`);
  if ((v as string).length > ID_MAX_LENGTH) invalid(`${field} is longer than ${ID_MAX_LENGTH} characters`);
  // Invalid UTF-8 decodes to U+FFFD, so ids differing only in their invalid bytes would become one id
  // (one customer's windows fed by another's card). An id is never legitimately U+FFFD: reject both.
  if ((v as string).includes(REPLACEMENT_CHARACTER)) {
    invalid(`${field} is not valid UTF-8 (it decodes to U+FFFD replacement characters)`);
  }
}

function invalid(message: string): never {
  throw new FraudError(ErrorCodes.INVALID_FIELD, message);
}

function safeIso(t: number): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString();
}
