import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { decisionType } from '../../src/avro/schemas.js';
import { rescore } from '../../src/cli/rescore.js';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { featureKeys } from '../../src/features/keys.js';
import { fromRoot } from '../../src/package-root.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Decision } from '../../src/types.js';
import {
  createTestTopics,
  deleteTestTopics,
  produceTransactions,
  readTopic,
  useStackClients,
} from '../helpers/kafka-io.js';
import { scorerEnv } from '../helpers/scorer-env.js';
import { kafkaBrokers, randomName, redisUrl } from '../helpers/stack.js';

const decisionAvro = decisionType();
const decode = (v: Buffer | null) => decisionAvro.fromBuffer(v!.subarray(5)) as Decision;
const DAY = 86_400_000;

/** A digest of every key under a prefix: names, types and contents. */
async function snapshot(redis: Redis, prefix: string): Promise<{ keys: number; digest: string }> {
  const keys = (await redis.keys(featureKeys(prefix).pattern)).sort();
  const h = createHash('sha256');
  for (const k of keys) {
    const dump = await redis.dump(k);
    h.update(k).update(dump ?? Buffer.alloc(0));
  }
  return { keys: keys.length, digest: h.digest('hex') };
}

describe('fraudscore rescore', () => {
  const stack = useStackClients();

  it('re-scores a range beside the live scorer, leaving the live offsets and feature keys untouched', async () => {
    const t = await createTestTopics(stack.admin, 'rescore', 1);
    const out = `${t.transactions}.rescored`;
    await stack.admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: out, numPartitions: 2, replicationFactor: 1 }],
    });
    const livePrefix = `${randomName('live')}:`;
    stack.cleanups.push(
      () => deleteTestTopics(stack.admin, t),
      () => stack.admin.deleteTopics({ topics: [out] }).catch(() => {}),
      async () => {
        const keys = await stack.redis.keys(featureKeys(livePrefix).pattern);
        if (keys.length > 0) await stack.redis.del(...keys);
      },
    );
    // ~60 days of traffic, so the range's windows need the warm-up.
    const txs = [...quickStream({ count: 3000, seed: 31, customers: 100, terminals: 60, meanGapMs: 28 * 60_000 })];
    const live = await Pipeline.start(
      parseRunConfig(
        ['--no-http', '--progress', 'off'],
        scorerEnv(t, {
          FRAUDSCORE_CLIENT_ID: randomName('live'),
          FRAUDSCORE_REDIS_PREFIX: livePrefix,
          FRAUDSCORE_MODEL_DIR: fromRoot('models/placeholder'),
        }),
      ),
    );
    const running = live.runToEnd();
    await produceTransactions(stack.kafka, t.transactions, txs);
    const liveDecisions = (await readTopic(stack.kafka, t.decisions, txs.length, { quietMs: 500 })).map((m) =>
      decode(m.value),
    );
    await live.stop();
    await running;
    expect(liveDecisions).toHaveLength(txs.length);

    const offsetsBefore = JSON.stringify(
      await stack.admin.fetchOffsets({ groupId: t.groupId, topics: [t.transactions] }),
    );
    const keysBefore = await snapshot(stack.redis, livePrefix);
    expect(keysBefore.keys).toBeGreaterThan(100);

    const since = txs[2000].event_time;
    const until = txs[2600].event_time;
    const r = await rescore({
      since,
      until,
      modelDir: fromRoot('models/placeholder'),
      outTopic: out,
      topic: t.transactions,
      labelsTopic: t.labels,
      dlqTopic: t.dlq,
      brokers: kafkaBrokers(),
      redisUrl: redisUrl(),
      runId: randomName('run'),
    });
    expect(r.summary.decisions).toBe(600);
    expect(r.warmed).toBeGreaterThan(1000);
    const rescored = (await readTopic(stack.kafka, out, 600, { quietMs: 500 })).map((m) => decode(m.value));
    expect(rescored).toHaveLength(600);
    const inRange = new Set(txs.slice(2000, 2600).map((tx) => tx.transaction_id));
    for (const d of rescored) expect(inRange.has(d.transaction_id)).toBe(true);

    // Warmed from the preceding window, the re-scored features equal the live ones.
    const liveById = new Map(liveDecisions.map((d) => [d.transaction_id, d]));
    for (const d of rescored) expect(d.features).toEqual(liveById.get(d.transaction_id)!.features);

    // The live group's offsets and the live feature keys are untouched; the run's namespace is gone.
    expect(JSON.stringify(await stack.admin.fetchOffsets({ groupId: t.groupId, topics: [t.transactions] }))).toBe(
      offsetsBefore,
    );
    expect(await snapshot(stack.redis, livePrefix)).toEqual(keysBefore);
    expect((await snapshot(stack.redis, `rescore:${r.runId}:`)).keys).toBe(0);
    console.log(
      `[rescore] ${r.warmed} warm-up + ${r.summary.decisions} re-scored records (${((until - since) / DAY).toFixed(1)} days); live offsets and ${keysBefore.keys} live keys unchanged`,
    );
  }, 120_000);
});
