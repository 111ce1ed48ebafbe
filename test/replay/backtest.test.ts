import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionType } from '../../src/avro/schemas.js';
import { runBackfill } from '../../src/cli/backfill.js';
import { Pipeline } from '../../src/cli/run.js';
import { runSimulation } from '../../src/cli/simulate.js';
import { parseRunConfig } from '../../src/config/config.js';
import { scoredSet, writeBacktest } from '../../src/evaluation/backtest.js';
import { detectionMetrics, scoreWith } from '../../src/evaluation/evaluate.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { readContainer } from '../../src/io/avro-file.js';
import { kafkaClient } from '../../src/kafka/client.js';
import { fromRoot } from '../../src/package-root.js';
import { Replayer } from '../../src/replay/replayer.js';
import { loadManifest } from '../../src/scoring/manifest.js';
import { parseRows } from '../../src/simulate/backfill.js';
import type { Decision, Label } from '../../src/types.js';
import { createTestTopics, deleteTestTopics, readTopic, testKafka } from '../helpers/kafka-io.js';
import { scorerEnv } from '../helpers/scorer-env.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

const decisionAvro = decisionType();
const decode = (v: Buffer | null) => decisionAvro.fromBuffer(v!.subarray(5)) as Decision;
const MODEL = fromRoot('models/champion');

describe('replay → scorer → backtest report', () => {
  let kafka: Kafka;
  let admin: Admin;
  let dir: string;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    dir = await mkdtemp(path.join(tmpdir(), 'fraudscore-backtest-'));
  });
  afterAll(async () => {
    await admin.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('decides every replayed transaction exactly once, and the report has the metrics of evaluate', async () => {
    const sim = await runSimulation({ seed: 7, customers: 120, terminals: 240, days: 21, outDir: dir });
    const n = sim.counts.transactions;
    const t = await createTestTopics(admin, 'backtest', 1);
    const prefix = `${randomName('fs')}:`;
    const app = await Pipeline.start(
      parseRunConfig(
        ['--no-http', '--progress', 'off'],
        scorerEnv(t, {
          FRAUDSCORE_REDIS_PREFIX: prefix,
          FRAUDSCORE_MODEL_DIR: MODEL,
        }),
      ),
    );
    const running = app.runToEnd();
    let decisions: Decision[];
    try {
      const replay = await new Replayer(kafkaClient(kafkaBrokers(), 'test-replay'), {
        transactionsPath: sim.files.transactions,
        labelsPath: sim.files.labels,
        topic: t.transactions,
        labelsTopic: t.labels,
        // 21 days in ~9 s: paced on the event-time clock, so labels reach the scorer's label consumer
        // before the transactions that should see them, as in production where reports come days later.
        pacing: { kind: 'speedup', factor: 200_000 },
        resume: false,
        replayId: randomName('bt'),
      }).run();
      expect(replay.transactions).toBe(n);
      expect(replay.badRows).toBe(0);
      expect(replay.labels).toBe(n);
      decisions = (
        await readTopic(kafka, t.decisions, n, { readCommitted: true, quietMs: 2000, timeoutMs: 90_000 })
      ).map((m) => decode(m.value));
    } finally {
      await app.stop();
      await running;
      await deleteTestTopics(admin, t);
    }
    // Exactly once.
    expect(decisions).toHaveLength(n);
    expect(new Set(decisions.map((d) => d.transaction_id)).size).toBe(n);

    const labels = await readContainer<Label>(sim.files.labels);
    const isFraud = new Map(labels.map((l) => [l.transaction_id, l.is_fraud]));
    const manifest = await loadManifest(MODEL);
    const report = await writeBacktest(
      path.join(dir, 'report'),
      [{ name: 'replay', decisions, thresholds: manifest.thresholds }],
      isFraud,
    );
    const run = report.runs[0];
    expect(run.decisions).toBe(n);
    expect(run.labelled_fraud).toBeGreaterThan(10);
    expect(run.by_outcome.APPROVE + run.by_outcome.REVIEW + run.by_outcome.DECLINE).toBe(n);
    expect((await readFile(path.join(dir, 'report', 'backtest.md'), 'utf8')).includes('card precision@100')).toBe(true);

    // `fraudscore evaluate`'s path on the same transactions: the real scorer over the same feature
    // vectors, then the same metric function; every number must be equal.
    const input = new Float32Array(n * N_FEATURES);
    for (const [i, d] of decisions.entries()) input.set(d.features, i * N_FEATURES);
    const { scores } = await scoreWith(MODEL, input);
    const set = scoredSet(decisions, isFraud);
    for (let i = 0; i < n; i++) expect(scores[i]).toBe(Math.fround(decisions[i].score));
    expect(detectionMetrics({ ...set, scores }, manifest.thresholds)).toEqual(run.metrics);

    // And the live features are the backfill's: the same FeatureStore code, fed through Kafka.
    const rowsFile = path.join(dir, 'rows.csv');
    await runBackfill({ transactions: sim.files.transactions, labels: sim.files.labels, out: rowsFile });
    const rows = parseRows(await readFile(rowsFile, 'utf8'));
    const byId = new Map(decisions.map((d) => [d.transaction_id, d]));
    let same = 0;
    for (let r = 0; r < rows.n; r++) {
      const d = byId.get(rows.transactionId[r])!;
      const want = rows.features.subarray(r * N_FEATURES, (r + 1) * N_FEATURES);
      if (d.features.every((v, k) => Object.is(v, want[k]))) same++;
    }
    console.log(
      `[backtest] ${n} replayed → ${n} decisions once each; AUC ${run.metrics.auc_roc.toFixed(3)} AP ${run.metrics.average_precision.toFixed(3)} CP@100 ${run.metrics.card_precision_at_100.toFixed(3)} = evaluate's; ${same}/${n} feature vectors identical to the backfill`,
    );
    expect(same / n).toBeGreaterThan(0.98);
  }, 180_000);
});
