// The bench's decision reader: librdkafka (fetches in its own threads, a native thread hands each record
// over) so that event→decision is not inflated by the reader itself; kafkajs' reader added ≈35 ms at p50.
// readerRoundTrip() shows what it adds: produce→read with nothing in between.
import { loadConfluent } from '../src/kafka/confluent-client.js';
import { startLoadProducer } from './native-producer.js';

export interface Reader {
  stop(): Promise<void>;
}

interface CkNativeMessage {
  value: Buffer | null;
  /** The record's timestamp, ms (LogAppendTime on the round-trip topic). */
  timestamp: number;
}

/** librdkafka's own consumer API (not the KafkaJS-compatible one): flowing mode, a 'data' event per record. */
interface CkNativeConsumer {
  connect(opts: Record<string, unknown>, cb: (err: Error | null) => void): void;
  subscribe(topics: string[]): void;
  consume(): void;
  setDefaultConsumeTimeout(ms: number): void;
  setDefaultConsumeLoopTimeoutDelay(ms: number): void;
  on(event: 'data', cb: (m: CkNativeMessage) => void): void;
  disconnect(cb: () => void): void;
}

/** Wall-clock milliseconds with sub-millisecond resolution (Date.now() rounds every sample down). */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

/**
 * Reads `topic` from the beginning (read_committed) and hands each record's value over with the time it
 * reached this process (`preciseNow()`) and its timestamp.
 *
 * Flowing mode: a native thread polls librdkafka's queue and wakes the event loop per record. The
 * KafkaJS-compatible consumer instead runs each consume() on the libuv pool, one more thread hop:
 * produce→read p50 / p99 2.8–3.6 / 6.2–14.5 ms against 1.4–1.8 / 3.2–6.8 ms here (three A/B pairs,
 * 1,000 records/s, bench/reader.ts readerRoundTrip).
 */
export async function startReader(
  brokers: string[],
  topic: string,
  groupId: string,
  onRecord: (value: Buffer | null, receivedAt: number, timestamp: number) => void,
): Promise<Reader> {
  const ck = loadConfluent() as unknown as {
    KafkaConsumer: new (conf: Record<string, unknown>, topicConf: Record<string, unknown>) => CkNativeConsumer;
  };
  const consumer = new ck.KafkaConsumer(
    {
      'bootstrap.servers': brokers.join(','),
      'group.id': groupId,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      // A long poll: with fetch.min.bytes 1 the broker answers as soon as a record (or, read_committed,
      // a commit marker) arrives. A 1 ms wait answered no sooner and cost ~1,000 empty fetches a second.
      'fetch.wait.max.ms': 100,
      'socket.nagle.disable': true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  // The native loop waits at most 100 ms per poll (a record ends the wait at once) and never sleeps.
  consumer.setDefaultConsumeTimeout(100);
  consumer.setDefaultConsumeLoopTimeoutDelay(0);
  consumer.on('data', (m) => onRecord(m.value, preciseNow(), m.timestamp));
  consumer.subscribe([topic]);
  consumer.consume();
  return { stop: () => new Promise<void>((resolve) => consumer.disconnect(() => resolve())) };
}

export interface RoundTrip {
  /** Produce (before the client is called) → handed over by the reader, sub-millisecond clock. */
  p50_ms: number;
  p99_ms: number;
  /** Of which after the broker appended (its LogAppendTime, whole ms, so up to 1 ms high): the reader's own part. */
  after_append_p50_ms: number;
  after_append_p99_ms: number;
  n: number;
}

/**
 * Produce→read round trip of the reader with no scorer in between. The producer is librdkafka with
 * linger 0, as the scorer's sink is, so the round trip holds what a decision's last hop holds.
 * `topic` must be created with message.timestamp.type=LogAppendTime for the after-append split.
 */
export async function readerRoundTrip(
  brokers: string[],
  topic: string,
  seconds: number,
  rate: number,
): Promise<RoundTrip> {
  const lat: number[] = [];
  const afterAppend: number[] = [];
  let received = 0;
  // The first WARMUP_MS of records are sent and read but not counted: on a broker just started, the
  // first records of a new topic once took a second (p99 1,003 ms in a bench right after stack up).
  let countFrom = Number.POSITIVE_INFINITY;
  const reader = await startReader(brokers, topic, `${topic}-reader`, (value, now, timestamp) => {
    if (value === null) return;
    received++;
    const sentAt = value.readDoubleBE(0);
    if (sentAt < countFrom) return;
    lat.push(now - sentAt);
    afterAppend.push(now - timestamp);
  });
  await new Promise((r) => setTimeout(r, 2000));
  const producer = await startLoadProducer(brokers, { 'linger.ms': 0 });
  const perTick = Math.max(1, Math.round(rate / 100));
  const t0 = Date.now();
  countFrom = preciseNow() + WARMUP_MS;
  let sent = 0;
  while (Date.now() - t0 < WARMUP_MS + seconds * 1000) {
    for (let i = 0; i < perTick; i++) {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(preciseNow());
      producer.produce(topic, null, b);
    }
    sent += perTick;
    await new Promise((r) => setTimeout(r, 10));
  }
  const deadline = Date.now() + 10_000;
  while (received < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await producer.close();
  await reader.stop();
  const q = (xs: number[], p: number) => {
    const s = xs.slice().sort((a, b) => a - b);
    return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 100) / 100;
  };
  return {
    p50_ms: q(lat, 0.5),
    p99_ms: q(lat, 0.99),
    after_append_p50_ms: q(afterAppend, 0.5),
    after_append_p99_ms: q(afterAppend, 0.99),
    n: lat.length,
  };
}

const WARMUP_MS = 2000;

/** Kafka admin config for the round-trip topic: the broker stamps each record when it appends it. */
export const ROUND_TRIP_TOPIC_CONFIG = [{ name: 'message.timestamp.type', value: 'LogAppendTime' }];
