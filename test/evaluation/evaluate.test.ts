// simulate → backfill → train-challenger → evaluate, end to end on a small simulation around the
// protocol's dates (the committed champion scores it; a 2-epoch challenger is trained on the fly).

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/cli/backfill.js';
import { evaluateCommand } from '../../src/cli/evaluate.js';
import { runSimulation } from '../../src/cli/simulate.js';
import { loadManifest } from '../../src/scoring/manifest.js';
import { trainChallenger } from '../../src/training/challenger.js';
import { REPO } from '../scoring/helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fraudscore-evaluate-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('evaluate', () => {
  it('scores the test week through the real scorers and writes the report', async () => {
    const sim = await runSimulation({
      seed: 11,
      customers: 300,
      terminals: 600,
      days: 45,
      startDate: '2018-07-01',
      outDir: dir,
    });
    const rows = path.join(dir, 'rows.csv');
    await runBackfill({ transactions: sim.files.transactions, labels: sim.files.labels, out: rows });
    const challengerDir = path.join(dir, 'challenger');
    await trainChallenger({ rows, out: challengerDir, epochs: 2, hidden: [8] });
    const m = await loadManifest(challengerDir);
    expect(m.format).toBe('tfjs');

    const out = path.join(dir, 'reports');
    const logs: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => logs.push(a.join(' '));
    try {
      expect(
        await evaluateCommand([
          '--rows',
          rows,
          '--champion',
          path.join(REPO, 'models/champion'),
          '--challenger',
          challengerDir,
          '--out',
          out,
        ]),
      ).toBe(0);
    } finally {
      console.log = log;
    }
    const report = JSON.parse(await readFile(path.join(out, 'test-week.json'), 'utf8'));
    expect(report.protocol.test_days).toEqual(['2018-08-08', '2018-08-14']);
    for (const role of ['champion', 'challenger']) {
      for (const k of [
        'auc_roc',
        'average_precision',
        'card_precision_at_100',
        'recall_at_1pct_fpr',
        'recall_at_5pct_fpr',
        'fraud_amount_share_at_decline',
      ]) {
        expect(report[role][k]).toBeGreaterThanOrEqual(0);
        expect(report[role][k]).toBeLessThanOrEqual(1);
      }
    }
    expect(report.champion.auc_roc).toBeGreaterThan(0.6);
    expect(report.handbook_published_own_draw.random_forest.average_precision).toBe(0.658);
    const md = await readFile(path.join(out, 'test-week.md'), 'utf8');
    expect(md).toContain('handbook xgboost');
    const svg = await readFile(path.join(out, 'pr-curve.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(logs.join('\n')).toContain('champion');
  });
});
