// Redis restarted empty (no persistence) under `fraudscore run`: decisions while it is down are
// degraded (default features), and afterwards no decision is silently computed from the emptied state.
// Which behaviour holds: the scorer notices the loss (its namespace marker is gone), writes back what its
// cache holds, and vouches only for the customers and terminals it wrote back; here one scorer held every
// entity, so its state is rebuilt at once and its decisions are whole again. (Records of entities no
// scorer had cached would be marked FRAUD_FEATURES_INCOMPLETE: test/features/redis-down.test.ts.)

import type { ChildProcess } from 'node:child_process';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionType } from '../../src/avro/schemas.js';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { MemoryFeatureStore } from '../../src/features/memory-store.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Decision } from '../../src/types.js';
import { createTestTopics, deleteTestTopics, produceTransactions, readTopic, testKafka } from '../helpers/kafka-io.js';
import { freePort, killRedis, startRedis } from '../helpers/redis-server.js';
import { scorerEnv } from '../helpers/scorer-env.js';

const decisionAvro = decisionType();
const decode = (v: Buffer | null) => decisionAvro.fromBuffer(v!.subarray(5)) as Decision;

describe('Redis restarted empty mid-stream (a Redis this test owns)', () => {
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

  it('marks decisions degraded while Redis is down and never serves features from the emptied state', async () => {
    const port = await freePort();
    redis = await startRedis(port);
    // One partition: a total order, so the in-memory reference sees what the scorer saw.
    const t = await createTestTopics(admin, 'emptied', 1);
    const txs = [...quickStream({ count: 3000, seed: 23, customers: 80, terminals: 40, meanGapMs: 30 * 60_000 })];
    const app = await Pipeline.start(
      parseRunConfig(
        ['--no-http', '--progress', 'off'],
        scorerEnv(t, { REDIS_URL: `redis://127.0.0.1:${port}`, FRAUDSCORE_REDIS_TIMEOUT_MS: '1000' }),
      ),
    );
    const running = app.runToEnd();
    try {
      await produceTransactions(kafka, t.transactions, txs.slice(0, 1000));
      await readTopic(kafka, t.decisions, 1000, { quietMs: 500 });

      // Down: decided on default features, degraded. Then back, empty.
      await killRedis(redis);
      await produceTransactions(kafka, t.transactions, txs.slice(1000, 1500));
      await readTopic(kafka, t.decisions, 1500, { quietMs: 500 });
      redis = await startRedis(port);
      // The first batches after the restart may race the reconnect (FRAUD_FEATURES_UNAVAILABLE).
      await produceTransactions(kafka, t.transactions, txs.slice(1500, 2000));
      await readTopic(kafka, t.decisions, 2000, { quietMs: 500 });
      await produceTransactions(kafka, t.transactions, txs.slice(2000));
      const decisions = (await readTopic(kafka, t.decisions, 3000, { quietMs: 1000 })).map((m) => decode(m.value));
      expect(new Set(decisions.map((d) => d.transaction_id)).size).toBe(3000);

      const byId = new Map(decisions.map((d) => [d.transaction_id, d]));
      const ref = new MemoryFeatureStore();
      const vec = new Float32Array(N_FEATURES);
      const phase = { up: [0, 0], down: [0, 0], after: [0, 0], last: [0, 0] }; // [normal, degraded]
      const causes = new Map<string, number>();
      let wrong = 0;
      for (let i = 0; i < txs.length; i++) {
        await ref.enrich([txs[i]], 1, vec);
        const d = byId.get(txs[i].transaction_id)!;
        const p = i < 1000 ? phase.up : i < 1500 ? phase.down : i < 2000 ? phase.after : phase.last;
        p[d.degraded ? 1 : 0]++;
        if (d.degraded) causes.set(d.degraded_cause!, (causes.get(d.degraded_cause!) ?? 0) + 1);
        else if (d.features.some((f, k) => !Object.is(f, vec[k]))) wrong++;
      }
      console.log(
        `[redis-emptied] up ${phase.up[0]} normal / ${phase.up[1]} degraded; down ${phase.down[0]} / ${phase.down[1]}; after the empty restart ${phase.after[0]} / ${phase.after[1]}, then ${phase.last[0]} / ${phase.last[1]}; causes ${JSON.stringify(Object.fromEntries(causes))}; silently wrong ${wrong}`,
      );
      expect(wrong).toBe(0);
      expect(phase.up[1]).toBe(0);
      // Records that reached the scorer while Redis was down are degraded (the first ones may have been
      // batched just before the kill).
      expect(phase.down[1]).toBeGreaterThan(400);
      // Rebuilt from the scorer's cache: once Redis answers, every decision is whole again.
      expect(phase.last).toEqual([1000, 0]);
    } finally {
      await app.stop();
      await running;
      await deleteTestTopics(admin, t);
    }
  }, 180_000);
});
