import { describe, expect, it } from 'vitest';
import { chunkBySize, DLQ_HEADERS, deadLetterBytes, deadLetterMessage } from '../../src/kafka/dead-letter.js';
import type { DeadLetter } from '../../src/pipeline/sink.js';

const letter = (valueBytes: number, keyBytes = 8): DeadLetter => ({
  record: {
    key: Buffer.alloc(keyBytes, 1),
    value: Buffer.alloc(valueBytes, 2),
    topic: 't',
    partition: 3,
    offset: '42',
    arrivedAt: 0,
  },
  code: 'FRAUD_UNDECODABLE_RECORD',
  message: 'does not decode',
});

describe('dead letters', () => {
  it('keeps a record that fits whole, without fraudscore.original.size', () => {
    const m = deadLetterMessage(letter(900_000), 1_048_588);
    expect(m.value!.length).toBe(900_000);
    expect(m.headers[DLQ_HEADERS.originalSize]).toBeUndefined();
    expect(m.headers[DLQ_HEADERS.offset]).toBe('42');
    expect(m.headers[DLQ_HEADERS.partition]).toBe('3');
  });

  it('truncates a record over the limit and says how big it was', () => {
    const m = deadLetterMessage(letter(1_048_300), 1_000_000);
    expect(m.headers[DLQ_HEADERS.originalSize]).toBe('1048300');
    expect(deadLetterBytes(m)).toBeLessThanOrEqual(1_000_000);
    expect(m.value!.length).toBeGreaterThan(990_000);
    expect(m.key!.length).toBe(8);
  });

  it('cuts a huge key too, so that the copy always fits', () => {
    const m = deadLetterMessage(letter(10, 2_000_000), 1_000_000);
    expect(deadLetterBytes(m)).toBeLessThanOrEqual(1_000_000);
    expect(m.headers[DLQ_HEADERS.originalSize]).toBe('10');
  });

  it('groups dead letters into requests below the limit', () => {
    const ms = [900_000, 900_000, 10, 900_000].map((n) => deadLetterMessage(letter(n), 1_048_588));
    const chunks = chunkBySize(ms, 1_048_588);
    expect(chunks.map((c) => c.length)).toEqual([1, 2, 1]);
    for (const c of chunks) expect(c.reduce((a, m) => a + deadLetterBytes(m), 0)).toBeLessThanOrEqual(1_048_588);
  });
});
