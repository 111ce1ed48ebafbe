// kafkajs' read_committed filter as src/kafka/kafkajs.ts installs it: every aborted transaction that
// has started by a record hides that producer's transactional records until its abort marker, whatever
// order the broker lists the aborted transactions in (it lists them in abort order).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type FetchedRecord, filterAbortedMessages } from '../../src/kafka/kafkajs.js';

const require = createRequire(import.meta.url);
const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

const rec = (offset: number, producerId: string, inTransaction = true, marker?: Buffer): FetchedRecord => ({
  offset: String(offset),
  key: marker ?? Buffer.from(`k${offset}`),
  isControlRecord: marker !== undefined,
  batchContext: { producerId, inTransaction },
});
const offsets = (rs: FetchedRecord[]) => rs.filter((r) => !r.isControlRecord).map((r) => Number(r.offset));

describe('read_committed filter', () => {
  // A: 0, 2 (aborted, marker 4); B: 1 (aborted first, marker 3); C: 5 (committed, marker 6); plain 7.
  const log = [
    rec(0, 'A'),
    rec(1, 'B'),
    rec(2, 'A'),
    rec(3, 'B', true, ABORT),
    rec(4, 'A', true, ABORT),
    rec(5, 'C'),
    rec(6, 'C', true, COMMIT),
    rec(7, '-1', false),
  ];

  it('drops both aborted transactions when the broker lists the later-started one first', () => {
    const aborted = [
      { producerId: 'B', firstOffset: '1' },
      { producerId: 'A', firstOffset: '0' },
    ];
    expect(offsets(filterAbortedMessages({ messages: log, abortedTransactions: aborted }))).toEqual([5, 7]);
  });

  it('drops both when a fetch starts inside them, and keeps a producer’s records after its abort marker', () => {
    const fromTwo = log.slice(2);
    const aborted = [
      { producerId: 'A', firstOffset: '0' },
      { producerId: 'B', firstOffset: '1' },
    ];
    const later = [...fromTwo, rec(8, 'A'), rec(9, 'A', true, COMMIT)];
    expect(offsets(filterAbortedMessages({ messages: later, abortedTransactions: aborted }))).toEqual([5, 7, 8]);
  });

  it('keeps everything without aborted transactions, and a non-transactional record of an aborted producer id', () => {
    expect(filterAbortedMessages({ messages: log, abortedTransactions: [] })).toBe(log);
    const mixed = [rec(0, 'A'), rec(1, 'A', false), rec(2, 'A', true, ABORT)];
    expect(
      offsets(filterAbortedMessages({ messages: mixed, abortedTransactions: [{ producerId: 'A', firstOffset: '0' }] })),
    ).toEqual([1]);
  });

  it("is the filter kafkajs' consumer batches use", () => {
    const Batch = require('kafkajs/src/consumer/batch.js') as new (
      topic: string,
      fetchedOffset: string,
      data: object,
    ) => { messages: FetchedRecord[] };
    const batch = new Batch('t', '0', {
      partition: 0,
      highWatermark: '8',
      messages: log,
      abortedTransactions: [
        { producerId: 'B', firstOffset: '1' },
        { producerId: 'A', firstOffset: '0' },
      ],
    });
    expect(offsets(batch.messages)).toEqual([5, 7]);
  });
});
