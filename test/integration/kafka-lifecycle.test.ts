// Issue 10 on the real stack: no record can halt a partition (dead letters too big for the DLQ topic),
// start-up failures end the process with one line, SIGTERM ends it with 0 within 10 s.
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { dropNamespace } from '../../src/features/namespace.js';
import { DLQ_HEADERS } from '../../src/kafka/dead-letter.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import {
  createTestTopics,
  deleteTestTopics,
  produceTransactions,
  readTopic,
  useStackClients,
} from '../helpers/kafka-io.js';
import { scorerEnv } from '../helpers/scorer-env.js';
import { startScorer } from '../helpers/scorer-process.js';
import { randomName, redisUrl } from '../helpers/stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Kafka lifecycle (real Kafka + Redis)', () => {
  const stack = useStackClients();

  describe.each([
    ['confluent', 'exactly-once'],
    ['confluent', 'at-least-once'],
    ['kafkajs', 'exactly-once'],
    ['kafkajs', 'at-least-once'],
  ])('%s, %s', (client, delivery) => {
    it('a 1,048,300-byte record and four 900 kB records are dead-lettered as truncated copies; the partition goes on', async () => {
      const t = await createTestTopics(stack.admin, 'big', 1);
      const prefix = `${randomName('fs')}:`;
      stack.cleanups.push(
        () => deleteTestTopics(stack.admin, t),
        () => dropNamespace(stack.redis, prefix),
      );
      const txs = [...quickStream({ count: 600, seed: 21 })];
      const app = await Pipeline.start(
        parseRunConfig(
          [],
          scorerEnv(t, {
            FRAUDSCORE_REDIS_PREFIX: prefix,
            FRAUDSCORE_KAFKA_CLIENT: client,
            FRAUDSCORE_DELIVERY: delivery,
          }),
        ),
      );
      const running = app.runToEnd();
      const big = [1_048_300, 900_000, 900_000, 900_000, 900_000];
      await produceTransactions(stack.kafka, t.transactions, txs.slice(0, 300));
      const producer = stack.kafka.producer();
      await producer.connect();
      // One record per request: the test producer must not exceed the topic's limit itself.
      for (const size of big) {
        await producer.send({ topic: t.transactions, messages: [{ key: 'big', value: Buffer.alloc(size, 7) }] });
      }
      await producer.disconnect();
      await produceTransactions(stack.kafka, t.transactions, txs.slice(300));
      const decisions = await readTopic(stack.kafka, t.decisions, txs.length, { timeoutMs: 60_000 });
      const dlq = await readTopic(stack.kafka, t.dlq, big.length, { timeoutMs: 30_000 });
      await app.stop();
      expect(await running).toBe(0);

      expect(decisions).toHaveLength(txs.length);
      expect(dlq).toHaveLength(big.length);
      // Over the DLQ topic's limit: a truncated copy saying how big the original was; the others whole.
      const truncated = dlq.filter((m) => m.headers[DLQ_HEADERS.originalSize] !== undefined);
      expect(truncated).toHaveLength(1);
      expect(truncated[0].headers[DLQ_HEADERS.originalSize]!.toString()).toBe('1048300');
      // Below the topic's max.message.bytes (1,048,588 by default; librdkafka also caps at 1,000,000).
      expect(truncated[0].value!.length).toBeLessThan(1_048_300 - 1000);
      expect(truncated[0].value!.length).toBeGreaterThan(990_000);
      expect(dlq.filter((m) => m.value!.length === 900_000)).toHaveLength(4);
      for (const m of dlq) {
        expect(m.headers[DLQ_HEADERS.code]!.toString()).toMatch(/^FRAUD_/);
        expect(m.headers[DLQ_HEADERS.topic]!.toString()).toBe(t.transactions);
        expect(m.headers[DLQ_HEADERS.offset]!.toString()).toMatch(/^\d+$/);
      }
    }, 120_000);
  });

  describe('start-up failures exit non-zero within the connect timeout, with one line', () => {
    const servers: Server[] = [];
    afterAll(() => {
      for (const s of servers) s.close();
    });

    async function listen(onConnection: (s: import('node:net').Socket) => void): Promise<number> {
      const server = createServer(onConnection);
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as import('node:net').AddressInfo).port;
    }

    async function expectFailure(env: Record<string, string>, line: RegExp): Promise<void> {
      const t0 = Date.now();
      const s = startScorer([], {
        REDIS_URL: redisUrl(),
        FRAUDSCORE_NO_HTTP: 'true',
        FRAUDSCORE_CONNECT_TIMEOUT_MS: '4000',
        FRAUDSCORE_GROUP_ID: randomName('g'),
        ...env,
      });
      const { code } = await s.exited;
      const seconds = (Date.now() - t0) / 1000;
      expect(code, s.output()).not.toBe(0);
      expect(code, s.output()).not.toBeNull();
      expect(seconds, s.output()).toBeLessThan(10);
      expect(s.output()).toMatch(line);
      // One clear line, never a stack.
      expect(s.output()).not.toMatch(/\n\s+at /);
    }

    it('broker port closed', async () => {
      const port = await listen(() => {});
      servers.pop()!.close();
      await sleep(50);
      await expectFailure(
        { KAFKA_BROKERS: `127.0.0.1:${port}` },
        /Kafka at 127\.0\.0\.1:\d+ .*(did not answer|cannot reach)/,
      );
    }, 20_000);

    it('unresolvable host', async () => {
      await expectFailure({ KAFKA_BROKERS: 'no-such-broker.invalid:9092' }, /no-such-broker\.invalid:9092/);
    }, 20_000);

    it('a broker that accepts and never answers', async () => {
      const port = await listen(() => {}); // holds the socket open, says nothing
      await expectFailure({ KAFKA_BROKERS: `127.0.0.1:${port}` }, /did not answer within 4000 ms/);
    }, 20_000);

    it('missing topic', async () => {
      const missing = randomName('missing');
      await expectFailure(
        {
          KAFKA_BROKERS: stackBrokers(),
          FRAUDSCORE_TRANSACTIONS_TOPIC: missing,
          FRAUDSCORE_DECISIONS_TOPIC: `${missing}.d`,
          FRAUDSCORE_DLQ_TOPIC: `${missing}.dlq`,
          FRAUDSCORE_LABELS_TOPIC: '',
        },
        new RegExp(`topic\\(s\\) ${missing}.* do not exist`),
      );
    }, 20_000);

    it('HTTP port in use', async () => {
      const port = await listen(() => {}); // something else already listens there
      await expectFailure(
        {
          KAFKA_BROKERS: stackBrokers(),
          FRAUDSCORE_NO_HTTP: 'false',
          FRAUDSCORE_HTTP_PORT: String(port),
          FRAUDSCORE_LABELS_TOPIC: '',
        },
        /EADDRINUSE|in use/,
      );
    }, 20_000);
  });

  it.each(['confluent', 'kafkajs'])(
    'SIGTERM mid-stream (%s): exit 0 within 10 s',
    async (client) => {
      const t = await createTestTopics(stack.admin, 'sigterm', 3);
      const prefix = `${randomName('fs')}:`;
      stack.cleanups.push(
        () => deleteTestTopics(stack.admin, t),
        () => dropNamespace(stack.redis, prefix),
      );
      const s = startScorer([], scorerEnv(t, { FRAUDSCORE_REDIS_PREFIX: prefix, FRAUDSCORE_KAFKA_CLIENT: client }));
      await s.waitFor(/partitions assigned/);
      const producing = produceTransactions(stack.kafka, t.transactions, [...quickStream({ count: 6000, seed: 8 })]);
      await sleep(1500);
      const t0 = Date.now();
      s.child.kill('SIGTERM');
      const { code } = await s.exited;
      const seconds = (Date.now() - t0) / 1000;
      await producing;
      expect(code, s.output().slice(-2000)).toBe(0);
      expect(seconds).toBeLessThan(10);
      console.log(`[sigterm ${client}] exit 0 after ${seconds.toFixed(1)} s`);
    },
    60_000,
  );
});

function stackBrokers(): string {
  return process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
}
