// A backlog drained through Kafka and Redis by the scorer process gives, record for record, exactly
// backfill's 15 features (labels on their own topic, read by their own consumer). The longer version
// (30 days; 2 scorers, both SIGKILLed mid-drain and a new one started) runs with `npm run test:parity`.
//
// One transactions partition: across partitions, exactness also needs the source to feed each process
// its partitions within 7 days of event time of each other and the processor to pass the topic's
// partition count (see README, feature store); until then the store marks the records it cannot vouch
// for FRAUD_FEATURES_INCOMPLETE instead.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drainParity } from '../../bench/replay-parity.js';
import { useStackClients } from '../helpers/kafka-io.js';
import { kafkaBrokers, redisUrl } from '../helpers/stack.js';

const FULL = process.env.FRAUDSCORE_PARITY_FULL === '1';

describe('backlog drain through Kafka and Redis', () => {
  const stack = useStackClients();

  const cases = FULL
    ? [
        { scorers: 1, days: 30, customers: 300, terminals: 600 },
        { scorers: 2, days: 30, customers: 300, terminals: 600, killAt: 0.3 },
      ]
    : [{ scorers: 1, days: 14, customers: 100, terminals: 200 }];

  for (const c of cases) {
    const what = `${c.scorers} scorer${c.scorers > 1 ? 's' : ''}${c.killAt ? ', all SIGKILLed mid-drain and one restarted' : ''}`;
    it(`gives backfill's features for every record (${what})`, async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'fraudscore-drain-'));
      try {
        const r = await drainParity({
          kafka: stack.kafka,
          admin: stack.admin,
          brokers: kafkaBrokers().join(','),
          redisUrl: redisUrl(),
          dir,
          partitions: Number(process.env.PARITY_PARTITIONS ?? 6),
          ...c,
          log: (m) => console.log(m),
        });
        console.log(
          `[drain] ${what}: ${r.equal}/${r.records} equal, ${r.degraded} degraded, ${r.missing} missing, ${r.silentlyWrong} silently wrong, degraded by cause ${JSON.stringify(r.causes)}`,
        );
        // Every record not marked degraded carries exactly backfill's features; a degraded one (Redis too
        // slow for a batch, e.g. while a cold process starts on a loaded machine) says so.
        expect(r.silentlyWrong).toBe(0);
        expect(r.missing).toBe(0);
        expect(r.equal + r.degraded).toBeGreaterThanOrEqual(r.records);
        expect(r.degraded).toBeLessThanOrEqual(r.records * 0.05);
        expect(r.withRisk).toBeGreaterThan(20);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 300_000);
  }
});
