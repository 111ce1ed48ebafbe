// KIP-447 at the broker: a scorer stopped (SIGSTOP) past its session timeout while another member takes
// over its partitions must not get a single stale decision committed when it comes back (SIGCONT).
// ZOMBIE_REPS=5 repeats the scenario (npm run test:zombie); CI runs it once.
import { describe, expect, it } from 'vitest';
import { decisionType } from '../../src/avro/schemas.js';
import { dropNamespace } from '../../src/features/namespace.js';
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
import { startScorer } from '../helpers/scorer-process.js';
import { randomName } from '../helpers/stack.js';

const decisionAvro = decisionType();
const idOf = (v: Buffer | null): string => (decisionAvro.fromBuffer(v!.subarray(5)) as Decision).transaction_id;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REPS = Number(process.env.ZOMBIE_REPS ?? '1');
// Past 12 s (ZOMBIE_PAUSE_MS=20000) the pause outlasts the rejoin bound (2 × the 6 s session timeout).
const PAUSE_MS = Number(process.env.ZOMBIE_PAUSE_MS ?? '10000');

describe('exactly-once fencing of a paused member (SIGSTOP past the session timeout, then SIGCONT)', () => {
  const stack = useStackClients();

  for (let rep = 1; rep <= REPS; rep++) {
    it(`run ${rep}/${REPS}: 0 decisions duplicated in read_committed`, async () => {
      const t = await createTestTopics(stack.admin, 'zombie', 4);
      const prefix = `${randomName('fs')}:`;
      stack.cleanups.push(
        () => deleteTestTopics(stack.admin, t),
        () => dropNamespace(stack.redis, prefix),
      );
      const txs = [...quickStream({ count: 9000, seed: 500 + rep, customers: 400, terminals: 200, meanGapMs: 60_000 })];
      const env = scorerEnv(t, {
        FRAUDSCORE_REDIS_PREFIX: prefix,
        FRAUDSCORE_DELIVERY: 'exactly-once',
        FRAUDSCORE_MAX_BATCH: '64',
        FRAUDSCORE_KAFKA_CLIENT: process.env.ZOMBIE_CLIENT ?? 'confluent',
      });
      const a = startScorer([], { ...env, FRAUDSCORE_CLIENT_ID: `${t.groupId}-a` });
      await a.waitFor(/partitions assigned/, 60_000);
      const b = startScorer([], { ...env, FRAUDSCORE_CLIENT_ID: `${t.groupId}-b` });
      stack.cleanups.push(async () => {
        for (const s of [a, b]) {
          s.child.kill('SIGCONT');
          s.child.kill('SIGTERM');
          await s.exited;
        }
      });
      await b.waitFor(/partitions assigned/, 60_000);
      // ~1,000 tx/s for 9 s while A is stopped for 10 s (session timeout 6 s) from the 2nd second.
      const producing = (async () => {
        for (let i = 0; i < txs.length; i += 250) {
          await produceTransactions(stack.kafka, t.transactions, txs.slice(i, i + 250));
          await sleep(200);
        }
      })();
      await sleep(2000);
      a.child.kill('SIGSTOP');
      await sleep(PAUSE_MS);
      a.child.kill('SIGCONT');
      await producing;
      const out = await readTopic(stack.kafka, t.decisions, txs.length, {
        readCommitted: true,
        timeoutMs: 120_000,
        quietMs: 4000,
      });
      const ids = out.map((m) => idOf(m.value));
      const unique = new Set(ids);
      console.log(
        `[zombie ${rep}/${REPS}] ${ids.length} committed decisions, ${unique.size} unique, for ${txs.length} transactions (${ids.length - unique.size} duplicated)`,
      );
      if (process.env.ZOMBIE_VERBOSE) console.log(a.output().slice(-6000));
      expect(ids.length - unique.size).toBe(0);
      expect(unique.size).toBe(txs.length);
      // Fenced is a designed exit for a zombie; stalled is not: a stopped process could not rejoin.
      expect(a.output()).not.toMatch(/FRAUD_CONSUMER_STALLED/);
    }, 240_000);
  }
});
