import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionType } from '../../src/avro/schemas.js';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Decision } from '../../src/types.js';
import { createTestTopics, deleteTestTopics, produceTransactions, readTopic, testKafka } from '../helpers/kafka-io.js';
import { freePort, killRedis, startRedis } from '../helpers/redis-server.js';
import { scorerEnv } from '../helpers/scorer-env.js';

const decisionAvro = decisionType();
const decode = (v: Buffer | null) => decisionAvro.fromBuffer(v!.subarray(5)) as Decision;

describe('Redis stopped mid-run (a Redis this test owns)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let redis: ChildProcess | undefined;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await killRedis(redis);
    await admin.disconnect();
  });

  it('decides on default features marked degraded while Redis is down, and normally once it is back', async () => {
    const port = await freePort();
    // Stopped, not emptied: it comes back with its data (an emptied Redis is test/features/redis-down).
    const dir = mkdtempSync(path.join(tmpdir(), 'fraudscore-outage-redis-'));
    redis = await startRedis(port, dir);
    const t = await createTestTopics(admin, 'outage', 2);
    const txs = [...quickStream({ count: 1500, seed: 21 })];
    const app = await Pipeline.start(
      parseRunConfig(
        ['--no-http', '--progress', 'off'],
        scorerEnv(t, {
          REDIS_URL: `redis://127.0.0.1:${port}`,
        }),
      ),
    );
    const running = app.runToEnd();
    try {
      await produceTransactions(kafka, t.transactions, txs.slice(0, 500));
      const phase1 = await readTopic(kafka, t.decisions, 500, { quietMs: 500 });
      expect(phase1.map((m) => decode(m.value)).filter((d) => d.degraded)).toHaveLength(0);

      await killRedis(redis);
      await produceTransactions(kafka, t.transactions, txs.slice(500, 1000));
      const phase2 = (await readTopic(kafka, t.decisions, 1000, { quietMs: 500 })).map((m) => decode(m.value));
      expect(phase2).toHaveLength(1000);
      const down = phase2.filter((d) => txs.slice(500, 1000).some((tx) => tx.transaction_id === d.transaction_id));
      expect(down).toHaveLength(500);
      for (const d of down) {
        expect(d.degraded).toBe(true);
        expect(d.degraded_cause).toBe('FRAUD_FEATURES_UNAVAILABLE');
      }
      expect(app.store.isHealthy()).toBe(false);

      redis = await startRedis(port, dir);
      const deadline = Date.now() + 15_000;
      while (!app.store.isHealthy() && Date.now() < deadline) {
        // Health is learned from traffic and reconnects; give it a record to try.
        await new Promise((r) => setTimeout(r, 200));
      }
      await produceTransactions(kafka, t.transactions, txs.slice(1000));
      const all = (await readTopic(kafka, t.decisions, 1500, { quietMs: 500 })).map((m) => decode(m.value));
      expect(all).toHaveLength(1500);
      const after = all.filter((d) => txs.slice(1000).some((tx) => tx.transaction_id === d.transaction_id));
      expect(after).toHaveLength(500);
      // The first batches after the restart may still race the reconnect; the rest must be normal.
      const normal = after.filter((d) => !d.degraded).length;
      expect(normal).toBeGreaterThan(450);
      console.log(
        `[redis-outage] up: 500/500 normal; down: ${down.length}/500 degraded (${down[0].degraded_cause}); back: ${normal}/500 normal, process never restarted`,
      );
    } finally {
      await app.stop();
      await running;
      await deleteTestTopics(admin, t);
      await killRedis(redis);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
