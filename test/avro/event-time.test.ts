import { describe, expect, it } from 'vitest';
import { transactionEncoder } from '../../src/avro/encoders.js';
import { eventTimeOf } from '../../src/avro/event-time.js';
import { frame } from '../../src/avro/framing.js';
import { loadSchema } from '../../src/avro/schemas.js';
import type { Transaction } from '../../src/types.js';

const tx = (id: string, t: number): Transaction => ({
  transaction_id: id,
  event_time: t,
  customer_id: 'c1',
  terminal_id: 't1',
  amount_minor: 1234,
  currency: 'EUR',
  mcc: null,
  channel: 'ECOM',
  country: null,
});

describe('eventTimeOf', () => {
  const times = [0, 1, -1, 63, 64, Date.UTC(2018, 3, 1, 12, 30), Date.UTC(2026, 10, 29), 2 ** 52];

  it('reads event_time from Confluent-framed and plain records without decoding them', () => {
    const framed = transactionEncoder();
    const plain = transactionEncoder(null);
    for (const t of times) {
      for (const id of ['', 'x', 'a'.repeat(63), 'b'.repeat(64), 'é'.repeat(200)]) {
        expect(eventTimeOf(framed.encode(tx(id, t)), 'auto')).toBe(t);
        expect(eventTimeOf(framed.encode(tx(id, t)), 'confluent')).toBe(t);
        expect(eventTimeOf(plain.encode(tx(id, t)), 'plain')).toBe(t);
      }
    }
  });

  it('reads the v1 writer schema too (same leading fields)', () => {
    const v1 = loadSchema('schemas/history/transaction.v1.avsc');
    const t = Date.UTC(2018, 5, 1);
    const body = v1.toBuffer({
      transaction_id: 'tx-1',
      event_time: t,
      customer_id: 'c',
      terminal_id: 'x',
      amount_minor: 5,
      currency: 'EUR',
    });
    expect(eventTimeOf(frame(1, body), 'auto')).toBe(t);
  });

  it('gives NaN for bytes that do not start like a transaction', () => {
    expect(eventTimeOf(null, 'auto')).toBeNaN();
    expect(eventTimeOf(Buffer.alloc(0), 'auto')).toBeNaN();
    expect(eventTimeOf(Buffer.from([0, 0, 0, 0, 2]), 'confluent')).toBeNaN(); // header only
    expect(eventTimeOf(Buffer.from([1, 2, 3]), 'confluent')).toBeNaN(); // no magic byte
    expect(eventTimeOf(Buffer.from([0x80, 0x80, 0x80]), 'plain')).toBeNaN(); // varint runs off the end
    expect(eventTimeOf(Buffer.from([0x10, 0x41]), 'plain')).toBeNaN(); // id longer than the record
  });
});
