// The bench's decision reader: librdkafka (fetches in its own threads, woken when its queue fills) so
// that event→decision is not inflated by the reader itself; kafkajs' reader added ≈35 ms at p50.
// readerRoundTrip() shows what it adds: produce→read with nothing in between.
import { loadConfluent } from '../src/kafka/confluent-client.js';

export interface Reader {
  stop(): Promise<void>;
}

interface CkReaderMessage {
  value: Buffer | null;
  timestamp: string;
}

interface CkReaderConsumer {
  connect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(cfg: { eachBatch(p: { batch: { messages: CkReaderMessage[] } }): Promise<void> }): Promise<void>;
  disconnect(): Promise<void>;
}

interface CkRoundTripProducer {
  connect(): Promise<void>;
  send(r: { topic: string; messages: { value: Buffer }[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}

/** Wall-clock milliseconds with sub-millisecond resolution (Date.now() rounds every sample down). */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

/**
 * Reads `topic` from the beginning (read_committed) and hands each fetched batch's values over with
 * the time they reached this process (`preciseNow()`).
 */
export async function startReader(
  brokers: string[],
  topic: string,
  groupId: string,
  onValues: (values: (Buffer | null)[], receivedAt: number, messages: readonly CkReaderMessage[]) => void,
): Promise<Reader> {
  const ck = loadConfluent();
  const kafka = new ck.KafkaJS.Kafka({ kafkaJS: { brokers, logLevel: ck.KafkaJS.logLevel.NOTHING } });
  const consumer = kafka.consumer({
    'group.id': groupId,
    'auto.offset.reset': 'earliest',
    'enable.auto.commit': false,
    'isolation.level': 'read_committed',
    // A long poll: with fetch.min.bytes 1 the broker answers as soon as a record (or, read_committed,
    // a commit marker) arrives. The former 1 ms wait answered no sooner (measured: produce→read p50
    // 2.3 ms either way) and cost ~1,000 empty fetches a second per broker on a 2-core machine.
    'fetch.wait.max.ms': 100,
    'socket.nagle.disable': true,
    'js.consumer.max.batch.size': -1,
  }) as unknown as CkReaderConsumer;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = preciseNow();
      onValues(
        batch.messages.map((m) => m.value),
        now,
        batch.messages,
      );
    },
  });
  return { stop: () => consumer.disconnect() };
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
  const reader = await startReader(brokers, topic, `${topic}-reader`, (_values, now, messages) => {
    for (const m of messages) {
      if (m.value === null) continue;
      lat.push(now - m.value.readDoubleBE(0));
      afterAppend.push(now - Number(m.timestamp));
    }
  });
  await new Promise((r) => setTimeout(r, 2000));
  const ck = loadConfluent();
  const kafka = new ck.KafkaJS.Kafka({ kafkaJS: { brokers, logLevel: ck.KafkaJS.logLevel.NOTHING } });
  const producer = kafka.producer({
    'linger.ms': 0,
    acks: 1,
    'socket.nagle.disable': true,
  }) as unknown as CkRoundTripProducer;
  await producer.connect();
  const perTick = Math.max(1, Math.round(rate / 100));
  const t0 = Date.now();
  let sent = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const messages = [];
    for (let i = 0; i < perTick; i++) {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(preciseNow());
      messages.push({ value: b });
    }
    sent += messages.length;
    await producer.send({ topic, messages });
    await new Promise((r) => setTimeout(r, 10));
  }
  const deadline = Date.now() + 10_000;
  while (lat.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await producer.disconnect();
  await reader.stop();
  const q = (xs: number[], p: number) => {
    const s = xs.slice(Math.floor(xs.length * 0.1)).sort((a, b) => a - b);
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

/** Kafka admin config for the round-trip topic: the broker stamps each record when it appends it. */
export const ROUND_TRIP_TOPIC_CONFIG = [{ name: 'message.timestamp.type', value: 'LogAppendTime' }];
