import type { Kafka } from 'kafkajs';

/**
 * Reads a whole topic once, from the beginning to the end offsets seen at the start, without a consumer
 * group (so no offsets are committed anywhere), and returns the decoded values.
 */
export async function readTopicToEnd<T>(
  kafka: Kafka,
  topic: string,
  decode: (value: Buffer) => T | undefined,
): Promise<T[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(
    ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
  );
  const out: T[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({
    groupId: `fraudscore-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = remaining.get(batch.partition);
          if (end === undefined) return;
          for (const m of batch.messages) {
            if (BigInt(m.offset) >= end) break;
            if (m.value !== null) {
              const v = decode(m.value);
              if (v !== undefined) out.push(v);
            }
          }
          const last = batch.messages.at(-1);
          if (last !== undefined && BigInt(last.offset) + 1n >= end) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}
