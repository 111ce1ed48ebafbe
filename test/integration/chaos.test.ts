// Issue 10, item 7, short: the chaos runner (bench/chaos.ts) with small counts and one repetition on
// its own private stack (never the shared one). The full version is `npm run chaos`.
import { expect, it } from 'vitest';
import { CASES, formatTable, rowFailures, runChaos } from '../../bench/chaos.js';

it('every fault case, both delivery modes: 0 lost, 0 exactly-once duplicates, recovered', async () => {
  const rows = await runChaos({
    cases: CASES,
    reps: 1,
    rate: 200,
    streamS: 4,
    faultAtS: 2,
    brokerDownS: 1,
    redisDownS: 2,
    pauseS: 7,
    postFaultS: 5,
    drainTimeoutS: 60,
    client: process.env.FRAUDSCORE_KAFKA_CLIENT ?? 'confluent',
  });
  console.log(formatTable(rows));
  expect(rows).toHaveLength(CASES.length * 2);
  expect(rows.flatMap((r) => rowFailures(r).map((f) => `${r.case} ${r.mode}: ${f} (${r.note})`))).toEqual([]);
}, 300_000);
