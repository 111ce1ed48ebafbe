import { describe, expect, it } from 'vitest';
import { decisionEncoder, labelEncoder, SCHEMA_IDS, transactionEncoder } from '../../src/avro/encoders.js';
import { frame, schemaIdOf } from '../../src/avro/framing.js';
import { decisionType, labelType, loadSchema, transactionType } from '../../src/avro/schemas.js';
import type { Decision, Label, Transaction } from '../../src/types.js';

const tx: Transaction = {
  transaction_id: 'tx-1',
  event_time: Date.UTC(2026, 10, 29, 10, 0, 0),
  customer_id: 'c-42',
  terminal_id: 't-7',
  amount_minor: 12_345,
  currency: 'EUR',
  mcc: '5411',
  channel: 'POS',
  country: 'BE',
};

const decision: Decision = {
  transaction_id: 'tx-1',
  customer_id: 'c-42',
  event_time: tx.event_time,
  score: 0.8125,
  decision: 'DECLINE',
  reason_codes: ['amount:HIGH', 'terminal_risk_7d:HIGH'],
  model_name: 'placeholder',
  model_version: '0.1.0',
  challenger_score: null,
  degraded: true,
  degraded_cause: 'FRAUD_FEATURES_UNAVAILABLE',
  features: [123.45, 0, 1, 1, 123.45, 2, 100, 3, 90, 0, 0, 4, 0.25, 10, 0.5].map(Math.fround),
  latency_us: 1234,
  scored_at: tx.event_time + 3,
};

const label: Label = {
  transaction_id: 'tx-1',
  customer_id: 'c-42',
  terminal_id: 't-7',
  event_time: tx.event_time,
  reported_time: tx.event_time + 7 * 86_400_000,
  is_fraud: true,
};

describe('Avro schemas', () => {
  it('round-trips a transaction, a decision and a label', () => {
    expect(transactionType().fromBuffer(transactionType().toBuffer(tx))).toEqual(tx);
    expect(decisionType().fromBuffer(decisionType().toBuffer(decision))).toEqual(decision);
    expect(labelType().fromBuffer(labelType().toBuffer(label))).toEqual(label);
  });

  it('reads a record written with the older v1 schema, filling the added fields with their defaults', () => {
    const v1 = loadSchema('schemas/history/transaction.v1.avsc');
    const { mcc: _m, channel: _c, country: _k, ...old } = tx;
    const bytes = v1.toBuffer(old);
    const reader = transactionType();
    const resolver = reader.createResolver(v1);
    expect(reader.fromBuffer(bytes, resolver)).toEqual({ ...old, mcc: null, channel: 'UNKNOWN', country: null });
  });

  it("frames a record larger than the encoder's scratch buffer", () => {
    const big = { ...tx, mcc: 'x'.repeat(40_000) };
    const bytes = transactionEncoder().encode(big);
    expect(schemaIdOf(bytes)).toBe(SCHEMA_IDS.transaction);
    expect(transactionType().fromBuffer(bytes.subarray(5))).toEqual(big);
    // And the encoder still frames small records correctly afterwards.
    expect(transactionType().fromBuffer(transactionEncoder().encode(tx).subarray(5))).toEqual(tx);
  });

  it('rejects a value that breaks the schema instead of writing garbage', () => {
    expect(() => transactionType().toBuffer({ ...tx, amount_minor: 'ten' })).toThrow();
  });

  it('encodes and decodes the Confluent framing: magic byte 0 and a big-endian 4-byte schema id', () => {
    const body = Buffer.from([1, 2, 3]);
    const framed = frame(0x01020304, body);
    expect([...framed]).toEqual([0, 1, 2, 3, 4, 1, 2, 3]);
    expect(schemaIdOf(framed)).toBe(0x01020304);
    expect(schemaIdOf(Buffer.from([1, 0, 0, 0, 2]))).toBe(-1);
    expect(schemaIdOf(Buffer.from([0, 0, 0]))).toBe(-1);

    const bytes = transactionEncoder().encode(tx);
    expect(schemaIdOf(bytes)).toBe(SCHEMA_IDS.transaction);
    expect(transactionType().fromBuffer(bytes.subarray(5))).toEqual(tx);
    expect(schemaIdOf(decisionEncoder().encode(decision))).toBe(SCHEMA_IDS.decision);
    expect(schemaIdOf(labelEncoder().encode(label))).toBe(SCHEMA_IDS.label);
    expect(transactionEncoder(null).encode(tx)).toEqual(transactionType().toBuffer(tx));
  });
});
