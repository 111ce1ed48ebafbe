import { defineConfig } from 'vitest/config';

// Tests that need the real Kafka and Redis (the global setup starts them) or the compiled dist/
// (child-process tests). Everything else is a unit test: `npm run test:unit` runs those alone, with
// no service and no build. A test that asks test/helpers/stack.ts for a broker or a Redis URL while
// running as a unit test fails with a message pointing here.
export const SERVICE_TESTS = [
  'test/integration/**/*.test.ts',
  'test/kafka/admin.test.ts',
  'test/cli/replay-process.test.ts',
  'test/replay/**/*.test.ts',
  'test/features/parity.test.ts',
  'test/features/redis-down.test.ts',
  'test/features/redis-store.test.ts',
  'test/features/watermark.test.ts',
  'test/monitoring/drift-pipeline.test.ts',
  'test/simulate/backfill-parity.test.ts',
  'test/features/drain-parity.test.ts',
  'test/features/redis-cluster.test.ts',
  'test/features/redis-config.test.ts',
  'test/features/redis-replay.test.ts',
  'test/kafka/compression.test.ts',
  'test/monitoring/consumer-stall.test.ts',
  'test/deploy/prometheus-live.test.ts',
  'test/deploy/stack.test.ts',
];

export default defineConfig({
  test: {
    // Integration tests share one broker and one Redis on a 2-core machine: run files one at a time.
    // (`npm run test:unit` runs two unit files at a time, they share no service, and without a fresh
    // module graph per file, which halves its time; `npm test` keeps every file isolated.)
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: SERVICE_TESTS,
          env: { FRAUDSCORE_TEST_PROJECT: 'unit' },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: SERVICE_TESTS,
          // Starting a 3-node secure stack or a broker restart can take over a minute on a busy 2-core machine.
          testTimeout: 180_000,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
