import { describe, expect, it } from 'vitest';
import { transactionEncoder } from '../../src/avro/encoders.js';
import { frame } from '../../src/avro/framing.js';
import { loadSchema, transactionType } from '../../src/avro/schemas.js';
import { TransactionDecoder } from '../../src/avro/transaction-decoder.js';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import type { Transaction } from '../../src/types.js';

const base: Transaction = {
  transaction_id: 'tx-1',
  event_time: Date.UTC(2026, 10, 1),
  customer_id: 'c-1',
  terminal_id: 't-1',
  amount_minor: 1000,
  currency: 'EUR',
  mcc: null,
  channel: 'ECOM',
  country: null,
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FraudError);
    return (err as FraudError).code;
  }
  throw new Error('expected a FraudError');
}

describe('TransactionDecoder', () => {
  const enc = transactionEncoder();

  it('decodes framed (schema ids 1 and 2) and plain records', () => {
    const d = new TransactionDecoder();
    expect(d.decode(enc.encode(base), 's')).toEqual(base);
    expect(d.decode(transactionType().toBuffer(base), 's')).toEqual(base);
    const { mcc: _a, channel: _b, country: _c, ...old } = base;
    const v1 = frame(1, loadSchema('schemas/history/transaction.v1.avsc').toBuffer(old));
    expect(d.decode(v1, 's')).toEqual({ ...old, mcc: null, channel: 'UNKNOWN', country: null });
  });

  it('gives each kind of bad input its own error code', () => {
    const d = new TransactionDecoder({ wireFormat: 'confluent' });
    const good = enc.encode(base);
    expect(codeOf(() => d.decode(null, 's'))).toBe(ErrorCodes.EMPTY_RECORD);
    expect(codeOf(() => d.decode(Buffer.alloc(0), 's'))).toBe(ErrorCodes.EMPTY_RECORD);
    expect(codeOf(() => d.decode(Buffer.from([7, ...good.subarray(1)]), 's'))).toBe(ErrorCodes.BAD_MAGIC_BYTE);
    expect(codeOf(() => d.decode(frame(99, good.subarray(5)), 's'))).toBe(ErrorCodes.UNKNOWN_SCHEMA_ID);
    expect(codeOf(() => d.decode(good.subarray(0, good.length - 4), 's'))).toBe(ErrorCodes.TRUNCATED_RECORD);
    expect(codeOf(() => d.decode(good.subarray(0, 3), 's'))).toBe(ErrorCodes.TRUNCATED_RECORD);
    expect(codeOf(() => d.decode(Buffer.concat([good, Buffer.from([1, 2])]), 's'))).toBe(ErrorCodes.UNDECODABLE_RECORD);
    const e = (tx: Partial<Transaction>) => enc.encode({ ...base, ...tx });
    expect(codeOf(() => d.decode(e({ amount_minor: -5 }), 's'))).toBe(ErrorCodes.INVALID_FIELD);
    expect(codeOf(() => d.decode(e({ amount_minor: 1e15 }), 's'))).toBe(ErrorCodes.INVALID_FIELD);
    expect(codeOf(() => d.decode(e({ customer_id: '' }), 's'))).toBe(ErrorCodes.INVALID_FIELD);
    expect(codeOf(() => d.decode(e({ transaction_id: '' }), 's'))).toBe(ErrorCodes.INVALID_FIELD);
    expect(codeOf(() => d.decode(e({ currency: 'euro' }), 's'))).toBe(ErrorCodes.INVALID_FIELD);
    expect(codeOf(() => d.decode(e({ event_time: Date.UTC(1990, 0, 1) }), 's'))).toBe(
      ErrorCodes.EVENT_TIME_OUT_OF_RANGE,
    );
    expect(codeOf(() => d.decode(e({ event_time: Date.now() + 10 * 86_400_000 }), 's'))).toBe(
      ErrorCodes.EVENT_TIME_OUT_OF_RANGE,
    );
  });

  it('rejects NaN and fractional amounts that a non-Avro source could hand over', () => {
    const d = new TransactionDecoder();
    expect(codeOf(() => d.validate({ ...base, amount_minor: Number.NaN }, 's'))).toBe(ErrorCodes.INVALID_FIELD);
    expect(codeOf(() => d.validate({ ...base, amount_minor: 10.5 }, 's'))).toBe(ErrorCodes.INVALID_FIELD);
    expect(codeOf(() => d.validate({ ...base, event_time: Number.NaN }, 's'))).toBe(ErrorCodes.INVALID_FIELD);
  });

  it('dead-letters an event time far older than its stream, per stream', () => {
    const d = new TransactionDecoder({ maxEventTimeSkewMs: 86_400_000 });
    d.decode(enc.encode(base), 'p0');
    const late = enc.encode({ ...base, event_time: base.event_time - 2 * 86_400_000 });
    expect(codeOf(() => d.decode(late, 'p0'))).toBe(ErrorCodes.EVENT_TIME_OUT_OF_RANGE);
    // Slightly out of order is normal; another partition has its own clock.
    expect(d.decode(enc.encode({ ...base, event_time: base.event_time - 3_600_000 }), 'p0').transaction_id).toBe(
      'tx-1',
    );
    expect(d.decode(late, 'p1').transaction_id).toBe('tx-1');
  });

  it('does not take a plain record for a framed one in confluent mode', () => {
    const d = new TransactionDecoder({ wireFormat: 'confluent' });
    expect(codeOf(() => d.decode(transactionType().toBuffer(base), 's'))).toBe(ErrorCodes.BAD_MAGIC_BYTE);
  });

  it('reports a framed record with a corrupt magic byte as BAD_MAGIC_BYTE in auto mode too', () => {
    const d = new TransactionDecoder(); // auto: a first byte other than 0 is read as plain Avro
    const good = enc.encode(base);
    for (const magic of [1, 7, 0x80, 0xff]) {
      const e = (() => {
        try {
          d.decode(Buffer.from([magic, ...good.subarray(1)]), 's');
        } catch (err) {
          return err as FraudError;
        }
        throw new Error(`magic byte ${magic} decoded`);
      })();
      expect(e.code, `magic byte ${magic}`).toBe(ErrorCodes.BAD_MAGIC_BYTE);
      expect(e.message).toMatch(/registered schema id 2/);
    }
    // An odd first byte cannot start a plain transaction (a negative string length), whatever follows.
    expect(codeOf(() => d.decode(Buffer.from([3, 0x61, 0x62, 0x63]), 's'))).toBe(ErrorCodes.BAD_MAGIC_BYTE);
    // A truncated plain record is still what it is.
    const plain = transactionType().toBuffer(base);
    expect(codeOf(() => d.decode(plain.subarray(0, plain.length - 3), 's'))).toBe(ErrorCodes.TRUNCATED_RECORD);
    expect(codeOf(() => d.decode(Buffer.concat([plain, Buffer.from([1])]), 's'))).toBe(ErrorCodes.UNDECODABLE_RECORD);
  });

  it('dead-letters ids with invalid UTF-8 instead of merging ids that differ only in those bytes', () => {
    const d = new TransactionDecoder();
    // The same record with the id's "AB" replaced by two different invalid byte pairs.
    const withId = (field: 'transaction_id' | 'customer_id' | 'terminal_id', bytes: number[]) => {
      const buf = enc.encode({ ...base, [field]: 'id-AB' });
      const at = buf.indexOf('id-AB');
      return Buffer.concat([buf.subarray(0, at + 3), Buffer.from(bytes), buf.subarray(at + 5)]);
    };
    for (const field of ['transaction_id', 'customer_id', 'terminal_id'] as const) {
      const a = withId(field, [0xff, 0x41]);
      const b = withId(field, [0xfe, 0x41]);
      expect(a.equals(b)).toBe(false);
      for (const rec of [a, b]) {
        let err: unknown;
        try {
          d.decode(rec, 's');
        } catch (e) {
          err = e;
        }
        expect(err, field).toBeInstanceOf(FraudError);
        expect((err as FraudError).code).toBe(ErrorCodes.INVALID_FIELD);
        expect((err as FraudError).message).toBe(
          `${field} is not valid UTF-8 (it decodes to U+FFFD replacement characters)`,
        );
      }
    }
    // Valid multi-byte UTF-8 is fine.
    expect(d.decode(enc.encode({ ...base, customer_id: 'client-é-東京' }), 's').customer_id).toBe('client-é-東京');
  });
});
