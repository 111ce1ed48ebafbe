// kafkajs, loaded with a read_committed filter that drops every aborted transaction's records, and
// without a 1 ms timer per idle connection (quietIdleQueues below).
// Every value import of kafkajs goes through this module; types may come from 'kafkajs' itself.
//
// kafkajs 2.2.4 (its last release) starts at most one aborted transaction per record, taking the
// broker's list in its order. The broker lists a fetch's aborted transactions in the order they were
// aborted, not by first offset. So when two producers' transactions overlap in a partition and the
// later-started one aborts first, the other's first records pass as committed. Seen: a chaos-cluster
// leader kill, where both scorers' transactions on a decisions partition were aborted and their
// records were read as decisions (counted as exactly-once duplicates); and a kafkajs scorer reading a
// transactional input topic would score them. The filter below starts every aborted transaction
// whose first offset is at or before the record, as the Java client does per batch.
import Module, { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';

const require = createRequire(import.meta.url);

export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]); // control record key: version 0, type 0 (ABORT)

/** The records of `messages` (one partition's fetch, in offset order) not in an aborted transaction. */
export function filterAbortedMessages({
  messages,
  abortedTransactions,
}: {
  messages: FetchedRecord[];
  abortedTransactions?: AbortedTransaction[];
}): FetchedRecord[] {
  if (abortedTransactions === undefined || abortedTransactions.length === 0) return messages;
  const pending = abortedTransactions
    .map((t) => ({ first: Number(t.firstOffset), producerId: String(t.producerId) }))
    .sort((a, b) => a.first - b.first);
  const aborted = new Set<string>();
  let next = 0;
  return messages.filter((m) => {
    const offset = Number(m.offset);
    while (next < pending.length && pending[next].first <= offset) aborted.add(pending[next++].producerId);
    const { producerId, inTransaction } = m.batchContext;
    if (m.isControlRecord === true) {
      // The abort marker ends that producer's aborted transaction; kafkajs drops control records after.
      if (m.key !== null && ABORT_MARKER_KEY.equals(m.key)) aborted.delete(producerId);
      return true;
    }
    return !(inTransaction && aborted.has(producerId));
  });
}

const FIXED = Symbol.for('fraudscore.kafkajs.readCommitted');

/** Puts the filter in Node's module cache where kafkajs' consumer will require it. */
function install(): void {
  const filterPath = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js');
  if ((require.cache[filterPath]?.exports as Record<symbol, unknown> | undefined)?.[FIXED] === true) return;
  if (require.cache[require.resolve('kafkajs/src/consumer/batch.js')] !== undefined) {
    throw new Error(
      'kafkajs was loaded before src/kafka/kafkajs.ts could fix its read_committed filter: import kafkajs values from src/kafka/kafkajs.ts',
    );
  }
  const m = new Module(filterPath);
  m.filename = filterPath;
  m.loaded = true;
  m.exports = Object.assign(filterAbortedMessages, { [FIXED]: true });
  require.cache[filterPath] = m;
}

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

const IDLE_FIXED = Symbol.for('fraudscore.kafkajs.idleQueue');

/**
 * kafkajs 2.2.4 re-arms a timer after every check of a connection's request queue, even when nothing
 * waits and nothing is throttled (tulios/kafkajs#1704, open): with a negative delay, so every
 * connection wakes the event loop every 1 ms for as long as it is open (and Node 24 warns,
 * TimeoutNegativeWarning, #1751). Measured here: an idle kafkajs admin and producer cost 28 ms of CPU
 * per second, 2.5 ms with this fix; an idle default scorer 33 ms, 11 ms with it. A check is still
 * armed whenever a request waits or a throttle is running; a request that cannot be sent at once is
 * queued and arms one itself (RequestQueue.push).
 */
function quietIdleQueues(): void {
  const proto = (require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike }).prototype;
  const marked = proto as unknown as Record<symbol, unknown>;
  if (marked[IDLE_FIXED] === true) return;
  const schedule = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueLike): void {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
  marked[IDLE_FIXED] = true;
}

install();
const kafkajs = require('kafkajs') as typeof KafkaJs;
quietIdleQueues();
export default kafkajs;

export const Kafka = kafkajs.Kafka;
export type Kafka = KafkaJs.Kafka;
export const logLevel = kafkajs.logLevel;
export const CompressionTypes = kafkajs.CompressionTypes;
export const CompressionCodecs = kafkajs.CompressionCodecs;
