// `fraudscore evaluate`: champion and challenger on one draw's test week (`--rows`); across simulator
// draws against the handbook's recipes (`--draws`, evaluate-draws.ts); or the README and docs/model.md
// tables regenerated from the across-draws report (`--update-docs`).

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EVALUATE_OPTIONS } from '../config/command-options.js';
import { parseOptions } from '../config/parse-options.js';
import { docsBlock, type EvaluationReport, readmeBlock, renderMarkdown, replaceBlock } from '../evaluation/draws.js';
import { BASELINES, evaluateModel, loadTestWeek, type ModelEvaluation } from '../evaluation/evaluate.js';
import { prCurveSvg } from '../evaluation/report.js';
import { fromRoot } from '../package-root.js';
import { evaluateDrawsCommand } from './evaluate-draws.js';

/**
 * Regenerates reports/evaluation.md, README.md's model table and docs/model.md's results from the
 * across-draws report, so that they say what it shows and nothing else.
 */
export async function updateDocs(reportFile: string, root = fromRoot()): Promise<string[]> {
  const report = JSON.parse(await readFile(reportFile, 'utf8')) as EvaluationReport;
  const written = [path.join(path.dirname(reportFile), 'evaluation.md')];
  await writeFile(written[0], renderMarkdown(report));
  for (const [file, block] of [
    ['README.md', readmeBlock(report)],
    ['docs/model.md', docsBlock(report)],
  ] as const) {
    const p = path.join(root, file);
    await writeFile(p, replaceBlock(await readFile(p, 'utf8'), block, file));
    written.push(p);
  }
  return written;
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');

// Options that belong to one mode only: given in another mode they are a mistake, not ignored.
const DRAWS_ONLY = [
  'firstSeed',
  'work',
  'python',
  'resamples',
  'allowDirty',
  'reuse',
  'customers',
  'terminals',
  'days',
];
const ONE_DRAW_ONLY = ['rows', 'champion', 'challenger', 'trainStart'];

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values: f } = parseOptions('evaluate', EVALUATE_OPTIONS, argv, process.env, (p, problem) => {
    const v = p.values;
    const mode = v.updateDocs ? '--update-docs' : v.draws !== undefined || v.seeds !== undefined ? 'draws' : 'one';
    if (v.draws !== undefined && v.seeds !== undefined) problem('give either --draws or --seeds, not both');
    for (const s of v.seeds ?? []) {
      if (!/^\d+$/.test(s)) problem(`${p.nameOf('seeds')} ${JSON.stringify(s)}: seeds are whole numbers`);
    }
    const wrong =
      mode === 'one'
        ? [...DRAWS_ONLY, 'report']
        : mode === 'draws'
          ? [...ONE_DRAW_ONLY, 'report']
          : [...ONE_DRAW_ONLY, ...DRAWS_ONLY];
    for (const key of wrong) {
      if (p.given.has(key)) {
        const modeName = mode === 'one' ? 'one draw (--rows)' : mode === 'draws' ? '--draws / --seeds' : mode;
        problem(`${p.nameOf(key)} does not apply to evaluate ${modeName}; see fraudscore evaluate --help`);
      }
    }
    if (mode === 'one' && v.rows === undefined) {
      problem('--rows is required (or set FRAUDSCORE_EVALUATE_ROWS, or give --draws); see fraudscore evaluate --help');
    }
    if (mode === '--update-docs' && !existsSync(v.report)) problem(`${p.nameOf('report')} ${v.report}: no such file`);
  });
  if (f.updateDocs) {
    for (const file of await updateDocs(f.report)) console.log(`wrote ${path.relative('.', file)}`);
    return 0;
  }
  if (f.draws !== undefined || f.seeds !== undefined) return evaluateDrawsCommand(f, argv);
  const rowsFile = f.rows ?? '';
  const trainStart = f.trainStart;
  const outDir = f.out;
  const t0 = performance.now();
  const week = await loadTestWeek(rowsFile, trainStart);
  const frauds = week.y.reduce((a, b) => a + b, 0);
  const models: [string, string][] = [['champion', f.champion]];
  if (f.challenger !== '') models.push(['challenger', f.challenger]);
  const results: Record<string, ModelEvaluation> = {};
  const curves: { name: string; color: string; points: { recall: number; precision: number }[] }[] = [];
  const colors = ['#1f77b4', '#d62728'];
  for (const [role, dir] of models) {
    const { evaluation, curve } = await evaluateModel(dir, week);
    results[role] = evaluation;
    curves.push({
      name: `${role} ${evaluation.model} (AP ${f3(evaluation.average_precision)})`,
      color: colors[curves.length],
      points: curve,
    });
  }
  const testDays = [...new Set(week.day)].sort((a, b) => a - b);
  const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
  const report = {
    protocol: {
      train: trainStart,
      test_days: [iso(testDays[0]), iso(testDays[testDays.length - 1])],
      test_transactions: week.y.length,
      test_frauds: frauds,
      rows: path.resolve(rowsFile),
    },
    ...results,
    // The handbook's own published results, on its own draw of the simulator: context, not a comparison
    // (fraudscore evaluate --draws reruns its recipes on our draws).
    handbook_published_own_draw: BASELINES,
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'test-week.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(
    path.join(outDir, 'pr-curve.svg'),
    prCurveSvg(curves, `Precision–recall, test week ${report.protocol.test_days.join(' .. ')}`),
  );

  const head = '| model | AUC-ROC | AP | CP@100 | recall @1 % FPR | recall @5 % FPR | fraud amount caught at DECLINE |';
  const lines = [head, '|---|---|---|---|---|---|---|'];
  for (const [role, e] of Object.entries(results)) {
    lines.push(
      `| ${role} (${e.model}, ${e.format}) | ${f3(e.auc_roc)} | ${f3(e.average_precision)} | ${f3(e.card_precision_at_100)} | ${f3(e.recall_at_1pct_fpr)} | ${f3(e.recall_at_5pct_fpr)} | ${f3(e.fraud_amount_share_at_decline)} (threshold ${e.decline_threshold.toPrecision(3)}) |`,
    );
  }
  for (const [name, b] of Object.entries(BASELINES)) {
    lines.push(
      `| handbook ${name.replace('_', ' ')} (published, its own draw) | ${f3(b.auc_roc)} | ${f3(b.average_precision)} | ${f3(b.card_precision_at_100)} | | | |`,
    );
  }
  const md = [
    '# One draw’s test week on the handbook protocol',
    '',
    `Training week from ${trainStart} (7 days), 7-day label delay, test week ${report.protocol.test_days.join(' .. ')}: ` +
      `${week.y.length.toLocaleString('en-US')} transactions, ${frauds} frauds, after removing cards known to be compromised ` +
      '(fraud in the training week or reported during the delay). Scores come from the real scorers ' +
      '(OnnxScorer / TfjsScorer). The handbook rows are its published numbers on its own draw of the simulator, ' +
      'not on these rows, so they are no comparison: `fraudscore evaluate --draws 5` reruns its recipes on the same ' +
      'draws (reports/evaluation.md).',
    '',
    ...lines,
    '',
    'CP@100 = card precision@100 (per day, cards ranked by their highest score, cards already caught on earlier ' +
      'test days left out, mean over the days). The DECLINE threshold is the one in the model’s manifest, chosen ' +
      'on the validation split (0.1 % false-positive rate there).',
    '',
    '![precision–recall](pr-curve.svg)',
    '',
  ].join('\n');
  await writeFile(path.join(outDir, 'test-week.md'), md);
  console.log(`fraudscore evaluate — ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`  ${md.split('\n')[2]}\n`);
  for (const l of lines) console.log(`  ${l}`);
  console.log(`\n  wrote ${outDir}/test-week.json, test-week.md, pr-curve.svg`);
  return 0;
}
