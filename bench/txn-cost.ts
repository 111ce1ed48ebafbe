// What one exactly-once write costs on this broker, without a scorer: the sink's producer settings and
// flush (confluent-sink.ts), back-to-back writes of `records` decisions spread over `partitions`
// partitions, once in transactions (begin, produce, flush, commit) and once idempotent only (produce,
// flush). The difference is what the transaction itself adds to every exactly-once write: the
// AddPartitionsToTxn round trip, the broker's verification of each partition with its transaction
// coordinator (KIP-890, `transaction.partition.verification.enable`, printed), and EndTxn.
//
//   node dist/bench/txn-cost.js [brokers] [partitions] [records] [writes]   (127.0.0.1:9092 6 100 300)

import { type CkProducer, confluentClient } from '../src/kafka/confluent-client.js';
import { flush, WRITE_SETTINGS } from '../src/kafka/confluent-sink.js';
import { Kafka, logLevel } from '../src/kafka/kafkajs.js';
import { percentile } from '../src/stats/percentile.js';

const [brokersArg = '127.0.0.1:9092', partitionsArg = '6', recordsArg = '100', writesArg = '300'] =
  process.argv.slice(2);
const brokers = brokersArg.split(',');
const partitions = Number(partitionsArg);
const records = Number(recordsArg);
const writes = Number(writesArg);
/** The first writes (connections, metadata, JIT) are left out. */
const WARMUP = 20;

interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
}

const quantiles = (xs: number[]): Quantiles => {
  const s = xs.slice(WARMUP).sort((a, b) => a - b);
  const q = (p: number) => Math.round(percentile(s, p) * 100) / 100;
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99) };
};

async function run(
  topic: string,
  transactional: boolean,
): Promise<{ produce_flush_ms: Quantiles; commit_ms?: Quantiles }> {
  const ck = confluentClient(brokers, 'fraudscore-txn-cost');
  const producer: CkProducer = ck.producer({
    ...WRITE_SETTINGS,
    ...(transactional ? { 'transactional.id': `${topic}.tx` } : {}),
  });
  await producer.connect();
  const value = Buffer.alloc(200);
  const produceFlush: number[] = [];
  const commit: number[] = [];
  for (let i = 0; i < writes; i++) {
    const p = transactional ? await producer.transaction() : producer;
    const native = p._getInternalClient?.();
    if (native == null) throw new Error('this @confluentinc/kafka-javascript exposes no native producer');
    const t0 = performance.now();
    for (let j = 0; j < records; j++) native.produce(topic, -1, value, `k${j}`, 0, undefined, null);
    await flush(native, 30_000);
    const t1 = performance.now();
    produceFlush.push(t1 - t0);
    if (transactional) {
      await p.commit();
      commit.push(performance.now() - t1);
    }
  }
  await producer.disconnect();
  return transactional
    ? { produce_flush_ms: quantiles(produceFlush), commit_ms: quantiles(commit) }
    : { produce_flush_ms: quantiles(produceFlush) };
}

const kafka = new Kafka({ clientId: 'fraudscore-txn-cost', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const topic = `fraudscore-txn-cost-${Date.now()}`;
await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
const broker = (await admin.describeCluster()).brokers[0];
const configs = await admin.describeConfigs({
  includeSynonyms: false,
  resources: [
    { type: 4 /* BROKER */, name: String(broker.nodeId), configNames: ['transaction.partition.verification.enable'] },
  ],
});
const verification = configs.resources[0]?.configEntries[0]?.configValue ?? 'unknown';
try {
  const transactional = await run(topic, true);
  const idempotent = await run(topic, false);
  console.log(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        partitions,
        records_per_write: records,
        writes,
        warmup_writes_left_out: WARMUP,
        transaction_partition_verification_enable: verification,
        transactional,
        idempotent,
      },
      null,
      2,
    ),
  );
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
}
process.exit(0);
