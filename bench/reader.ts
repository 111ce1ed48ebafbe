// The bench's decision reader: librdkafka (fetches in its own threads, 1 ms fetch wait) so that
// event→decision is not inflated by the reader itself; kafkajs' reader added ≈35 ms at p50.
// readerRoundTrip() shows what it adds: produce→read with nothing in between.
import { Kafka, logLevel } from 'kafkajs';
import { loadConfluent } from '../src/kafka/confluent-client.js';

export interface Reader {
  stop(): Promise<void>;
}

interface CkReaderConsumer {
  connect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(cfg: { eachBatch(p: { batch: { messages: { value: Buffer | null }[] } }): Promise<void> }): Promise<void>;
  disconnect(): Promise<void>;
}

/** Reads `topic` from the beginning (read_committed) and hands each fetched batch's values over. */
export async function startReader(
  brokers: string[],
  topic: string,
  groupId: string,
  onValues: (values: (Buffer | null)[], receivedAt: number) => void,
): Promise<Reader> {
  const ck = loadConfluent();
  const kafka = new ck.KafkaJS.Kafka({ kafkaJS: { brokers, logLevel: ck.KafkaJS.logLevel.NOTHING } });
  const consumer = kafka.consumer({
    'group.id': groupId,
    'auto.offset.reset': 'earliest',
    'enable.auto.commit': false,
    'isolation.level': 'read_committed',
    'fetch.wait.max.ms': 1,
    'js.consumer.max.batch.size': -1,
  }) as unknown as CkReaderConsumer;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      onValues(
        batch.messages.map((m) => m.value),
        now,
      );
    },
  });
  return { stop: () => consumer.disconnect() };
}

/** Produce→read round trip of the reader with no scorer in between: p50/p99 in ms. */
export async function readerRoundTrip(
  brokers: string[],
  topic: string,
  seconds: number,
  rate: number,
): Promise<{ p50_ms: number; p99_ms: number; n: number }> {
  const lat: number[] = [];
  const reader = await startReader(brokers, topic, `${topic}-reader`, (values, now) => {
    for (const v of values) if (v !== null) lat.push(now - Number(v.readBigInt64BE(0)));
  });
  await new Promise((r) => setTimeout(r, 2000));
  const kafka = new Kafka({ clientId: 'bench-roundtrip', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const perTick = Math.max(1, Math.round(rate / 100));
  const t0 = Date.now();
  let sent = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const messages = [];
    for (let i = 0; i < perTick; i++) {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(Date.now()));
      messages.push({ value: b });
    }
    sent += messages.length;
    await producer.send({ topic, acks: 1, messages });
    await new Promise((r) => setTimeout(r, 10));
  }
  const deadline = Date.now() + 10_000;
  while (lat.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await producer.disconnect();
  await reader.stop();
  const steady = lat.slice(Math.floor(lat.length * 0.1)).sort((a, b) => a - b);
  const q = (p: number) => steady[Math.min(steady.length - 1, Math.floor(p * steady.length))];
  return { p50_ms: q(0.5), p99_ms: q(0.99), n: lat.length };
}
