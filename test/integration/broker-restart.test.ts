// Issue 10, item 3: the broker is SIGKILLed mid-stream and restarted; the scorer resumes by itself,
// with 0 lost and, exactly-once, 0 duplicated. It runs its own one-broker Kafka (scripts/stack.sh with
// a private state folder and ports, never the shared stack) and stops it afterwards.
// BROKER_RESTART_REPS=3 repeats each mode (npm run test:broker-restart) and adds a case where the
// broker is paused (SIGSTOP) three times under exactly-once load; npm test runs each mode once.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { decisionType } from '../../src/avro/schemas.js';
import { dropNamespace } from '../../src/features/namespace.js';
import { Kafka, logLevel } from '../../src/kafka/kafkajs.js';
import { fromRoot } from '../../src/package-root.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Decision } from '../../src/types.js';
import { createTestTopics, produceTransactions, readTopic, useStackClients } from '../helpers/kafka-io.js';
import { scorerEnv } from '../helpers/scorer-env.js';
import { type ScorerProcess, startScorer } from '../helpers/scorer-process.js';
import { randomName } from '../helpers/stack.js';

const PORT = Number(process.env.FRAUDSCORE_RESTART_KAFKA_PORT ?? 19092);
const STACK_DIR = fromRoot('.stack-broker-restart');
const BROKERS = [`127.0.0.1:${PORT}`];
const REPS = Number(process.env.BROKER_RESTART_REPS ?? '1');
const decisionAvro = decisionType();
const idOf = (v: Buffer | null): string => (decisionAvro.fromBuffer(v!.subarray(5)) as Decision).transaction_id;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stack(...args: string[]): void {
  const r = spawnSync('bash', [fromRoot('scripts/stack.sh'), ...args, 'kafka'], {
    env: {
      ...process.env,
      FRAUDSCORE_STACK_DIR: STACK_DIR,
      FRAUDSCORE_KAFKA_PORT: String(PORT),
      FRAUDSCORE_KAFKA_CONTROLLER_PORT: String(PORT + 1),
    },
    stdio: 'ignore',
  });
  if (r.status !== 0) throw new Error(`scripts/stack.sh ${args.join(' ')} kafka failed on port ${PORT}`);
}

describe('broker SIGKILL and restart mid-stream (a private broker)', () => {
  const shared = useStackClients(); // the shared Redis (never restarted here)
  const kafka = new Kafka({ clientId: 'fraudscore-test', brokers: BROKERS, logLevel: logLevel.NOTHING });
  let admin: Admin;
  // Each test stops its scorer when it ends, so later runs do not share the 2 cores with idle scorers
  // that reconnect at every broker restart. The afterAll is a backstop: vitest runs afterAll hooks last
  // registered first, so this file's (the broker down) runs before useStackClients' cleanups, and a
  // scorer left there would be stopped against a dead broker.
  const scorers: ScorerProcess[] = [];

  beforeAll(async () => {
    stack('up');
    admin = kafka.admin();
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(scorers.map((s) => s.stop(20_000)));
    await admin?.disconnect().catch(() => {});
    stack('down');
  }, 90_000);

  const cases: [string, number][] = [];
  for (const mode of ['exactly-once', 'at-least-once']) for (let r = 1; r <= REPS; r++) cases.push([mode, r]);

  it.each(cases)(
    '%s, run %i: resumes without a restart, 0 lost',
    async (delivery, rep) => {
      // A broker just started may still refuse a new topic's metadata for a moment: one retry.
      const t = await createTestTopics(admin, 'restart', 3).catch(async () => {
        await sleep(2000);
        return createTestTopics(admin, 'restart', 3);
      });
      const prefix = `${randomName('fs')}:`;
      shared.cleanups.push(() => dropNamespace(shared.redis, prefix));
      const txs = [...quickStream({ count: 6000, seed: 300 + rep, customers: 300, terminals: 200, meanGapMs: 60_000 })];
      const s = startScorer([], {
        ...scorerEnv(t, { FRAUDSCORE_REDIS_PREFIX: prefix, FRAUDSCORE_DELIVERY: delivery }),
        KAFKA_BROKERS: BROKERS.join(','),
        FRAUDSCORE_MAX_BATCH: '64',
      });
      scorers.push(s);
      onTestFinished(async () => {
        await s.stop(20_000);
      });
      await s.waitFor(/partitions assigned/, 60_000);
      await produceTransactions(kafka, t.transactions, txs.slice(0, 3000));
      await sleep(500);
      const pid = Number(readFileSync(join(STACK_DIR, 'kafka.pid'), 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      const killedAt = Date.now();
      await sleep(5000);
      stack('up');
      const restartedAt = Date.now();
      await produceTransactions(kafka, t.transactions, txs.slice(3000));
      const out = await readTopic(kafka, t.decisions, txs.length, {
        readCommitted: delivery === 'exactly-once',
        timeoutMs: 120_000,
        quietMs: 3000,
      });
      const ids = out.map((m) => idOf(m.value));
      const unique = new Set(ids);
      const lost = txs.filter((tx) => !unique.has(tx.transaction_id)).length;
      console.log(
        `[broker-restart ${delivery} ${rep}/${REPS}] down ${((restartedAt - killedAt) / 1000).toFixed(1)} s; ${ids.length} decisions, ${lost} lost, ${ids.length - unique.size} duplicated; scorer ${s.child.exitCode === null ? 'still running' : `exited ${s.child.exitCode}`}`,
      );
      if (lost > 0) console.log(s.output().slice(-8000));
      expect(s.child.exitCode, s.output().slice(-3000)).toBeNull();
      expect(lost).toBe(0);
      if (delivery === 'exactly-once') expect(ids.length - unique.size).toBe(0);
    },
    240_000,
  );

  // A broker stopped past the session timeout revokes every member; when librdkafka then lost every
  // broker (a metadata answer listing none while the broker was fenced), the member never rejoined and,
  // holding no records, idled alive (chaos broker-paused); platformatic and kafkajs members kept
  // retrying their heartbeats, alive 60 s into the stop. Nothing in hand here either, and the broker stays stopped
  // past the rejoin bound (2 session timeouts, as the stall timeout is lower): the scorer must exit 1
  // for its supervisor, at the bound, not idle.
  it.each([
    ['confluent', /no partition assignment for 1\d s since partitions were revoked/],
    ['platformatic', /no heartbeat answered by the group coordinator for 1\d s since the last one/],
    ['kafkajs', /no heartbeat answered by the group coordinator for 1\d s since the last one/],
  ])(
    '%s: a member out of its group past the rejoin bound exits 1 (CONSUMER_STALLED)',
    async (client, message) => {
      const t = await createTestTopics(admin, 'rejoin', 3).catch(async () => {
        await sleep(2000);
        return createTestTopics(admin, 'rejoin', 3);
      });
      const s = startScorer([], {
        ...scorerEnv(t, { FRAUDSCORE_DELIVERY: 'at-least-once' }),
        KAFKA_BROKERS: BROKERS.join(','),
        FRAUDSCORE_KAFKA_CLIENT: client,
        FRAUDSCORE_STALL_TIMEOUT_MS: '5000', // the bound is then 2 × the 6 s session timeout: 12 s
      });
      scorers.push(s);
      onTestFinished(async () => {
        await s.stop(20_000);
      });
      await s.waitFor(/partitions assigned/, 60_000);
      const pid = Number(readFileSync(join(STACK_DIR, 'kafka.pid'), 'utf8').trim());
      const stoppedAt = Date.now();
      process.kill(pid, 'SIGSTOP');
      let how: { code: number | null; signal: NodeJS.Signals | null } | 'alive';
      try {
        how = await Promise.race([s.exited, sleep(60_000).then(() => 'alive' as const)]);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const secs = (Date.now() - stoppedAt) / 1000;
      console.log(
        `[rejoin bound ${client}] broker stopped; scorer ${how === 'alive' ? 'still alive' : `exited ${how.code ?? how.signal}`} after ${secs.toFixed(1)} s`,
      );
      expect(how, s.output().slice(-3000)).toEqual({ code: 1, signal: null });
      expect(s.output()).toMatch(message);
      expect(s.output()).toMatch(/FRAUD_CONSUMER_STALLED/);
    },
    120_000,
  );

  // A broker that stops answering (SIGSTOP: a long GC pause, a frozen VM) while a transaction commits:
  // librdkafka gives up waiting after 5 s but the commit goes on, and may complete once the broker
  // answers again. Aborting then (or replaying from this member's own offsets) decided those records
  // twice; the sink resumes the commit, and a commit still in doubt rewinds to the group's offsets.
  // Where the pause lands is chance, so npm test leaves it to test/integration/commit-doubt.test.ts,
  // which loses a commit's answer on purpose; npm run test:broker-restart runs this one too.
  it.runIf(REPS > 1)(
    'exactly-once, broker paused past the commit wait 3 times under a paced stream: 0 lost, 0 duplicated',
    async () => {
      const t = await createTestTopics(admin, 'pause', 3).catch(async () => {
        await sleep(2000);
        return createTestTopics(admin, 'pause', 3);
      });
      const prefix = `${randomName('fs')}:`;
      shared.cleanups.push(() => dropNamespace(shared.redis, prefix));
      const txs = [...quickStream({ count: 24000, seed: 377, customers: 300, terminals: 200, meanGapMs: 60_000 })];
      const s = startScorer([], {
        ...scorerEnv(t, { FRAUDSCORE_REDIS_PREFIX: prefix, FRAUDSCORE_DELIVERY: 'exactly-once' }),
        KAFKA_BROKERS: BROKERS.join(','),
        // Small transactions, back to back: a commit is under way most of the time.
        FRAUDSCORE_MAX_BATCH: '16',
        // Sessions and the transaction timeout outlast the pause: only the commit's own wait runs out.
        FRAUDSCORE_SESSION_TIMEOUT_MS: '20000',
      });
      scorers.push(s);
      onTestFinished(async () => {
        await s.stop(20_000);
      });
      await s.waitFor(/partitions assigned/, 60_000);
      const pid = Number(readFileSync(join(STACK_DIR, 'kafka.pid'), 'utf8').trim());
      // 1,000 records every 500 ms, faster than the scorer drains 16-record transactions: it is never idle.
      const paced = (async () => {
        for (let i = 0; i < txs.length; i += 1000) {
          await produceTransactions(kafka, t.transactions, txs.slice(i, i + 1000));
          await sleep(500);
        }
      })();
      try {
        for (let k = 0; k < 3; k++) {
          await sleep(3000);
          process.kill(pid, 'SIGSTOP');
          await sleep(7500);
          process.kill(pid, 'SIGCONT');
        }
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await paced;
      const out = await readTopic(kafka, t.decisions, txs.length, {
        readCommitted: true,
        timeoutMs: 120_000,
        quietMs: 3000,
      });
      const ids = out.map((m) => idOf(m.value));
      const unique = new Set(ids);
      const lost = txs.filter((tx) => !unique.has(tx.transaction_id)).length;
      const resumed = (s.output().match(/transaction commit not confirmed yet/g) ?? []).length;
      const doubt = (s.output().match(/commit in doubt/g) ?? []).length;
      console.log(
        `[broker-pause exactly-once] ${ids.length} decisions, ${lost} lost, ${ids.length - unique.size} duplicated; commits resumed ${resumed}, in doubt ${doubt}; scorer ${s.child.exitCode === null ? 'still running' : `exited ${s.child.exitCode}`}`,
      );
      if (lost > 0) console.log(s.output().slice(-12000));
      expect(s.child.exitCode, s.output().slice(-3000)).toBeNull();
      expect(lost).toBe(0);
      expect(ids.length - unique.size, s.output().slice(-3000)).toBe(0);
    },
    240_000,
  );
});
