// Every Kafka compression codec readable on both input topics (issue 16): records compressed with gzip,
// snappy, lz4 and zstd by an independent producer — Kafka's own Java client from the broker's jars —
// on the transactions and the labels topic are all decided / applied, and neither consumer dies; and
// decisions written with --compression gzip, snappy or lz4 are read by Kafka's Java consumer.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelEncoder, transactionEncoder } from '../../src/avro/encoders.js';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { dropNamespace } from '../../src/features/namespace.js';
import { READABLE_CODECS } from '../../src/kafka/compression.js';
import { CompressionCodecs, CompressionTypes } from '../../src/kafka/kafkajs.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import {
  createTestTopics,
  deleteTestTopics,
  produceTransactions,
  readTopic,
  useStackClients,
} from '../helpers/kafka-io.js';
import { scorerEnv } from '../helpers/scorer-env.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

const LIBS = path.join(process.env.FRAUDSCORE_CACHE ?? path.join(homedir(), '.cache/fraudscore'), 'kafka-4.1.1/libs');
const PRODUCER = path.join(import.meta.dirname, 'fixtures/HexProducer.java');
const CONSUMER = path.join(import.meta.dirname, 'fixtures/HexConsumer.java');
const PER_CODEC = 40;
const LABELS_PER_CODEC = 10;

/** Runs a single-file Java program with the broker's jars, without blocking the event loop. */
function javaRun(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('java', ['-cp', `${LIBS}/*`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.once('error', reject);
    p.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('compression codecs (no broker)', () => {
  it.each([
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
  ] as const)('%s: what the codec writes it reads back', async (_, type) => {
    const codec = CompressionCodecs[type]!();
    const data = Buffer.from('fraudscore '.repeat(500));
    const packed = await codec.compress({ buffer: data } as never);
    expect(packed.length).toBeLessThan(data.length / 4);
    expect(Buffer.compare(await codec.decompress(packed), data)).toBe(0);
  });

  it('zstd is read-only: writing it fails with a clear message', async () => {
    await expect(
      CompressionCodecs[CompressionTypes.ZSTD]!().compress({ buffer: Buffer.alloc(1) } as never),
    ).rejects.toThrow(/zstd compression is not available for writing/);
  });
});

describe.skipIf(!existsSync(LIBS))('compressed input from the Kafka Java producer', () => {
  const stack = useStackClients();

  // Every supported client reads every codec on the transactions topic (the labels consumer is kafkajs).
  it.each(['confluent', 'kafkajs'] as const)(
    'gzip, snappy, lz4 and zstd records on both input topics are decided / applied (%s client)',
    async (client) => {
      const t = await createTestTopics(stack.admin, 'codecs', 2);
      const prefix = `${randomName('fs')}:`;
      stack.cleanups.push(
        () => deleteTestTopics(stack.admin, t),
        () => dropNamespace(stack.redis, prefix),
      );
      const app = await Pipeline.start(
        parseRunConfig(
          ['--redis-prefix', prefix, '--http-port', '0', '--head-poll-ms', '500'],
          scorerEnv(t, { FRAUDSCORE_NO_HTTP: 'false', FRAUDSCORE_KAFKA_CLIENT: client }),
        ),
      );
      stack.cleanups.push(() => app.stop());
      const running = app.runToEnd();
      const deadline = Date.now() + 30_000;
      while ((await fetch(`${app.url}/readyz`)).status !== 200) {
        if (Date.now() > deadline) throw new Error(`not ready: ${await (await fetch(`${app.url}/readyz`)).text()}`);
        await new Promise((r) => setTimeout(r, 200));
      }

      // Lines for the Java producer: each codec its own transactions (ids tell the codec) and labels.
      const txEnc = transactionEncoder();
      const labelEnc = labelEncoder();
      const txs = [
        ...quickStream({ count: PER_CODEC * READABLE_CODECS.length, seed: 16, customers: 50, terminals: 100 }),
      ];
      const lines: string[] = [];
      READABLE_CODECS.forEach((codec, c) => {
        for (let i = 0; i < PER_CODEC; i++) {
          const tx = { ...txs[c * PER_CODEC + i]!, transaction_id: `${codec}-${i}` };
          lines.push(
            [codec, t.transactions, Buffer.from(tx.customer_id).toString('hex'), txEnc.encode(tx).toString('hex')].join(
              '\t',
            ),
          );
          if (i < LABELS_PER_CODEC) {
            const label = {
              transaction_id: tx.transaction_id,
              customer_id: tx.customer_id,
              terminal_id: tx.terminal_id,
              event_time: tx.event_time,
              reported_time: tx.event_time + 1000,
              is_fraud: i % 2 === 0,
            };
            lines.push([codec, t.labels, '', labelEnc.encode(label).toString('hex')].join('\t'));
          }
        }
      });
      const java = spawnSync('java', ['-cp', `${LIBS}/*`, PRODUCER, kafkaBrokers().join(',')], {
        input: `${lines.join('\n')}\n`,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(java.status, java.stderr).toBe(0);
      expect(java.stdout).toContain(`sent ${lines.length}`);

      const total = PER_CODEC * READABLE_CODECS.length;
      const decisions = await readTopic(stack.kafka, t.decisions, total, { timeoutMs: 60_000 });
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      await app.stop();
      expect(await running).toBe(0);

      const ids = new Set(decisions.map((d) => d.value!.toString('latin1').match(/(gzip|snappy|lz4|zstd)-\d+/)?.[0]));
      for (const codec of READABLE_CODECS) {
        expect(
          [...ids].filter((id) => id?.startsWith(`${codec}-`)),
          codec,
        ).toHaveLength(PER_CODEC);
      }
      const value = (series: string) =>
        Number(
          metrics
            .split('\n')
            .find((l) => l.startsWith(`${series} `))
            ?.split(' ')[1],
        );
      // Both consumers alive; every label consumed (offsets moved past all of them); nothing dead-lettered.
      expect(value('fraudscore_consumer_up{consumer="transactions"}')).toBe(1);
      expect(value('fraudscore_consumer_up{consumer="labels"}')).toBe(1);
      expect(value('fraudscore_consumer_progress_offsets_total{consumer="labels"}')).toBe(
        LABELS_PER_CODEC * READABLE_CODECS.length,
      );
      expect(metrics).not.toMatch(/^fraudscore_dead_letters_total\{code="[A-Z_]+"\} [1-9]/m);
    },
    120_000,
  );
});

describe.skipIf(!existsSync(LIBS))('compressed output read by the Kafka Java consumer', () => {
  const stack = useStackClients();
  const COUNT = 300;

  /** Decisions of COUNT transactions written with `codec`: the ids the Java consumer read, and the log size. */
  async function decisionsWith(codec: string): Promise<{ ids: Set<string>; bytes: number }> {
    const t = await createTestTopics(stack.admin, `out-${codec}`, 1);
    const prefix = `${randomName('fs')}:`;
    stack.cleanups.push(
      () => deleteTestTopics(stack.admin, t),
      () => dropNamespace(stack.redis, prefix),
    );
    const app = await Pipeline.start(
      parseRunConfig(['--redis-prefix', prefix, '--compression', codec], scorerEnv(t, { FRAUDSCORE_LABELS_TOPIC: '' })),
    );
    stack.cleanups.push(() => app.stop());
    const running = app.runToEnd();
    const txs = [...quickStream({ count: COUNT, seed: 17, customers: 50, terminals: 100 })].map((tx, i) => ({
      ...tx,
      transaction_id: `out-${i}`,
    }));
    await produceTransactions(stack.kafka, t.transactions, txs);
    // Asynchronously: the scorer runs in this process and must keep going meanwhile.
    const java = await javaRun([CONSUMER, kafkaBrokers().join(','), t.decisions, String(COUNT), '60000']);
    await app.stop();
    expect(await running).toBe(0);
    expect(java.status, java.stderr).toBe(0);
    const lines = java.stdout.trim().split('\n');
    const bytes = Number(lines.pop()!.replace('bytes ', ''));
    const ids = new Set(
      lines.map(
        (h) =>
          Buffer.from(h, 'hex')
            .toString('latin1')
            .match(/out-\d+/)?.[0] ?? '',
      ),
    );
    return { ids, bytes };
  }

  it('--compression gzip, snappy and lz4: every decision readable, stored smaller than uncompressed', async () => {
    const plain = await decisionsWith('none');
    expect(plain.ids.size).toBe(COUNT);
    const sizes = [`none ${plain.bytes} B`];
    for (const codec of ['gzip', 'snappy', 'lz4']) {
      const r = await decisionsWith(codec);
      sizes.push(`${codec} ${r.bytes} B`);
      expect(r.ids.size, codec).toBe(COUNT);
      expect(r.bytes, codec).toBeLessThan(plain.bytes * 0.8);
    }
    console.log(`[compression] decisions topic size for ${COUNT} decisions: ${sizes.join(', ')}`);
  }, 180_000);
});
