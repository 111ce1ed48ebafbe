// The ceiling for the end-to-end benchmark: a consumer→producer that decodes nothing and scores
// nothing, on the same broker, topic shape and commit discipline as the scorer's at-least-once mode.
//
//   node dist/bench/passthrough.js <brokers> <in-topic> <out-topic> <group>

import { Kafka, logLevel } from '../src/kafka/kafkajs.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const [brokers, inTopic, outTopic, groupId] = process.argv.slice(2);
const CHUNK = 2000;
const kafka = new Kafka({ clientId: 'passthrough', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
const producer = kafka.producer({ idempotent: true });
await Promise.all([consumer.connect(), producer.connect()]);
await consumer.subscribe({ topic: inTopic, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  partitionsConsumedConcurrently: 4,
  eachBatch: async ({ batch }) => {
    if (batch.messages.length === 0) return;
    // Chunked: a whole fetch (≈18k records of a backlog) as one request exceeds the broker's limit.
    for (let i = 0; i < batch.messages.length; i += CHUNK) {
      await producer.send({
        topic: outTopic,
        acks: -1,
        messages: batch.messages.slice(i, i + CHUNK).map((m) => ({ key: m.key, value: m.value })),
      });
    }
    await consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) },
    ]);
  },
});
console.error('passthrough: partitions assigned');
const stop = async () => {
  await consumer.disconnect();
  await producer.disconnect();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
