// The across-draws summary, and the texts generated from reports/evaluation.json: README's model table,
// docs/model.md's results and reports/evaluation.md must be exactly what the committed report renders to.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateDocs } from '../../src/cli/evaluate.js';
import { METRICS, type MetricName } from '../../src/evaluation/bootstrap.js';
import {
  BLOCK_BEGIN,
  BLOCK_END,
  type DrawResult,
  docsBlock,
  type EvaluationReport,
  readmeBlock,
  renderMarkdown,
  replaceBlock,
  summarize,
} from '../../src/evaluation/draws.js';
import { REPO } from '../scoring/helpers.js';

const values = (auc: number, ap: number, cp: number) => ({
  auc_roc: auc,
  average_precision: ap,
  card_precision_at_100: cp,
});

function draw(seed: number, apChampion: number, apRf: number, low: number, high: number): DrawResult {
  const iv = (value: number) => ({ value, low: value - 0.01, high: value + 0.01 });
  return {
    seed,
    transactions: 1000,
    frauds: 10,
    test_transactions: 300,
    test_frauds: 3,
    test_cards: 50,
    champion: { params: { num_leaves: 31 }, validation: values(0.86, 0.65, 0.3), onnx_sha256: 'ab' },
    metrics: {
      champion: values(0.9, apChampion, 0.3),
      logistic_regression: values(0.88, 0.6, 0.29),
      random_forest: values(0.89, apRf, 0.31),
    },
    difference: {
      logistic_regression: {
        auc_roc: iv(0.02),
        average_precision: iv(apChampion - 0.6),
        card_precision_at_100: iv(0.01),
      },
      random_forest: {
        auc_roc: iv(0.01),
        average_precision: { value: apChampion - apRf, low, high },
        card_precision_at_100: iv(-0.01),
      },
    },
    seconds: { simulate: 1, train: 2 },
    reused: [],
  };
}

const resample = (d: DrawResult) =>
  Object.fromEntries(
    (['logistic_regression', 'random_forest'] as const).map((b) => [
      b,
      Object.fromEntries(
        METRICS.map((x) => [x, Float64Array.from([-0.01, 0, 0.01], (e) => d.difference[b][x].value + e)]),
      ) as Record<MetricName, Float64Array>,
    ]),
  ) as unknown as Parameters<typeof summarize>[1][number];

describe('summarize', () => {
  it('counts the draws ahead and the intervals above and below 0, and checks the target', () => {
    const draws = [
      draw(1, 0.7, 0.72, -0.05, 0.01),
      draw(2, 0.72, 0.7, 0.005, 0.04),
      draw(3, 0.69, 0.69, -0.02, 0.02),
      draw(4, 0.65, 0.7, -0.08, -0.02),
    ];
    const s = summarize(draws, draws.map(resample));
    const ap = s.difference.random_forest.average_precision;
    expect(ap.mean).toBeCloseTo((-0.02 + 0.02 + 0 - 0.05) / 4, 12);
    expect(ap.ahead).toBe(1);
    expect(ap.above_zero).toBe(1);
    expect(ap.below_zero).toBe(1);
    expect(ap.min).toBeCloseTo(-0.05, 12);
    expect(ap.t_low).toBeLessThan(ap.mean);
    expect(ap.t_high).toBeGreaterThan(ap.mean);
    // Resample-wise means of the draws: mean ± 0.01.
    expect(ap.resampled_low).toBeCloseTo(ap.mean - 0.01 + 0.0005, 12);
    expect(s.mean.champion.average_precision).toBeCloseTo(0.69, 12);
    expect(s.target.met).toBe(false);

    const good = [1, 2, 3, 4, 5].map((i) => draw(i, 0.75, 0.7, 0.01, 0.09));
    for (const d of good) d.difference.random_forest.card_precision_at_100 = { value: 0.01, low: 0, high: 0.02 };
    expect(summarize(good, good.map(resample)).target.met).toBe(true);
  });
});

describe('generated texts', () => {
  it('README.md, docs/model.md and reports/evaluation.md are what reports/evaluation.json renders to', async () => {
    const report = JSON.parse(await readFile(path.join(REPO, 'reports/evaluation.json'), 'utf8')) as EvaluationReport;
    expect(report.draws.length).toBeGreaterThanOrEqual(5);
    const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
    const docs = await readFile(path.join(REPO, 'docs/model.md'), 'utf8');
    // Regenerate with `npm run docs:model` when this fails.
    expect(replaceBlock(readme, readmeBlock(report), 'README.md')).toBe(readme);
    expect(replaceBlock(docs, docsBlock(report), 'docs/model.md')).toBe(docs);
    expect(await readFile(path.join(REPO, 'reports/evaluation.md'), 'utf8')).toBe(renderMarkdown(report));
  });

  it('updateDocs rewrites only the marked blocks; a file without markers is an error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fraudscore-docs-'));
    try {
      const draws = [1, 2, 3, 4, 5].map((i) => draw(i, 0.7, 0.71, -0.03, 0.01));
      const report = {
        ...JSON.parse(await readFile(path.join(REPO, 'reports/evaluation.json'), 'utf8')),
        draws,
        summary: summarize(draws, draws.map(resample)),
      } as EvaluationReport;
      await mkdir(path.join(dir, 'reports'));
      await mkdir(path.join(dir, 'docs'));
      const reportFile = path.join(dir, 'reports/evaluation.json');
      await writeFile(reportFile, JSON.stringify(report));
      await writeFile(path.join(dir, 'README.md'), `# x\n\nbefore\n${BLOCK_BEGIN}\nold\n${BLOCK_END}\nafter\n`);
      await writeFile(path.join(dir, 'docs/model.md'), `${BLOCK_BEGIN}\n${BLOCK_END}\n`);
      await updateDocs(reportFile, dir);
      const readme = await readFile(path.join(dir, 'README.md'), 'utf8');
      expect(readme.startsWith(`# x\n\nbefore\n${BLOCK_BEGIN}\n| mean over 5 draws`)).toBe(true);
      expect(readme.endsWith(`${BLOCK_END}\nafter\n`)).toBe(true);
      expect(readme).toContain('average precision is −0.010 on average (ahead on 0 of 5 draws)');
      expect(await readFile(path.join(dir, 'reports/evaluation.md'), 'utf8')).toContain('is not met');
      await writeFile(path.join(dir, 'docs/model.md'), 'no markers\n');
      await expect(updateDocs(reportFile, dir)).rejects.toThrow(/docs\/model.md: no generated evaluation block/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
