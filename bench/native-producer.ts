// The bench's load producer: librdkafka's own producer, fire-and-forget. A paced load shares the
// bench process with the decision reader, whose receive times are taken on this event loop; a
// kafkajs producer encodes and writes requests on that same thread, so every record it sent was
// also a delay for the reader's clock. Here produce() only queues: batching, compression and the
// network run in librdkafka's threads.
import { loadConfluent } from '../src/kafka/confluent-client.js';

interface CkNativeProducerClient {
  connect(opts: Record<string, unknown>, cb: (err: Error | null) => void): void;
  produce(topic: string, partition: number, value: Buffer, key: string | Buffer | null, timestamp: number): unknown;
  setPollInterval(ms: number): void;
  on(event: 'delivery-report', cb: (err: Error | null) => void): void;
  flush(timeoutMs: number, cb: (err: Error | null) => void): void;
  disconnect(cb: () => void): void;
}

export interface LoadProducer {
  /** Queues one record (partitioned by key as the Java client and kafkajs do). Throws when librdkafka's queue is full. */
  produce(topic: string, key: string | null, value: Buffer): void;
  /** Records the broker refused (after librdkafka's retries); a paced run with any is not a measurement. */
  readonly failed: number;
  /** Waits for every queued record, then disconnects. */
  close(): Promise<void>;
}

export async function startLoadProducer(brokers: string[], conf: Record<string, unknown> = {}): Promise<LoadProducer> {
  const ck = loadConfluent() as unknown as {
    Producer: new (conf: Record<string, unknown>) => CkNativeProducerClient;
  };
  const p = new ck.Producer({
    'bootstrap.servers': brokers.join(','),
    // murmur2 of the key, the partitioner of kafkajs and the Java client: a customer's records land
    // where every other producer of the project puts them.
    partitioner: 'murmur2_random',
    acks: 1,
    'linger.ms': 1,
    'socket.nagle.disable': true,
    dr_cb: true,
    ...conf,
  });
  let failed = 0;
  p.on('delivery-report', (err) => {
    if (err) failed++;
  });
  await new Promise<void>((resolve, reject) => p.connect({}, (err) => (err ? reject(err) : resolve())));
  p.setPollInterval(100);
  return {
    produce: (topic, key, value) => {
      p.produce(topic, -1, value, key, 0);
    },
    get failed() {
      return failed;
    },
    close: async () => {
      await new Promise<void>((resolve, reject) => p.flush(30_000, (err) => (err ? reject(err) : resolve())));
      await new Promise<void>((resolve) => p.disconnect(() => resolve()));
    },
  };
}
