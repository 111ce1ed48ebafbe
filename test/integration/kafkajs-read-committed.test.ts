// kafkajs reading read_committed on the real broker (through src/kafka/kafkajs.ts): two transactional
// producers interleave in one partition and both abort, the later-started one first. kafkajs 2.2.4's own
// filter passed the other's first record as committed (seen as exactly-once duplicates in the chaos
// runs' decision counts); nothing but the committed record may come through.
import { expect, it } from 'vitest';
import { readTopic, testKafka } from '../helpers/kafka-io.js';
import { randomName } from '../helpers/stack.js';

it('read_committed hides interleaved transactions aborted out of start order', async () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const topic = randomName('fraudscore-test-rc');
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = (id: string) =>
    kafka.producer({ transactionalId: `${topic}-${id}`, idempotent: true, maxInFlightRequests: 1 });
  const a = producer('a');
  const b = producer('b');
  const plain = kafka.producer();
  try {
    await Promise.all([a.connect(), b.connect(), plain.connect()]);
    const ta = await a.transaction();
    await ta.send({ topic, messages: [{ value: 'a1' }] });
    const tb = await b.transaction();
    await tb.send({ topic, messages: [{ value: 'b1' }] });
    await ta.send({ topic, messages: [{ value: 'a2' }] });
    await tb.abort();
    await ta.abort();
    await plain.send({ topic, acks: -1, messages: [{ value: 'committed' }] });

    const all = await readTopic(kafka, topic, 4, { readCommitted: false, timeoutMs: 20_000 });
    expect(all.map((m) => String(m.value))).toEqual(['a1', 'b1', 'a2', 'committed']);
    const committed = await readTopic(kafka, topic, 1, { timeoutMs: 20_000 });
    expect(committed.map((m) => String(m.value))).toEqual(['committed']);
  } finally {
    await Promise.all([a.disconnect(), b.disconnect(), plain.disconnect()]).catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});
