// The across-draws evaluation report: its JSON shape, the summary over draws, and every text generated
// from it (reports/evaluation.md, README's model table, docs/model.md's results). The texts are pure
// functions of the JSON, so they say only what the report shows; a test checks the committed copies.

import { type Interval, METRICS, type MetricName, type MetricValues, percentileInterval } from './bootstrap.js';

export const BASELINE_NAMES = ['logistic_regression', 'random_forest'] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];
export const MODEL_NAMES = ['champion', ...BASELINE_NAMES] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface DrawResult {
  seed: number;
  transactions: number;
  frauds: number;
  test_transactions: number;
  test_frauds: number;
  test_cards: number;
  champion: {
    params: Record<string, number>;
    validation: MetricValues;
    onnx_sha256: string;
  };
  metrics: Record<ModelName, MetricValues>;
  /** champion − baseline, with the card-level bootstrap interval. */
  difference: Record<BaselineName, Record<MetricName, Interval>>;
  seconds: Record<string, number>;
  reused: string[];
}

export interface DifferenceSummary {
  mean: number;
  min: number;
  max: number;
  sd: number;
  /** Draws where the champion is ahead (difference > 0). */
  ahead: number;
  /** Draws whose bootstrap interval lies above 0, and below 0. */
  above_zero: number;
  below_zero: number;
  /** Percentile interval of the mean difference over the per-draw card resamples (sampling of the test week's cards). */
  resampled_low: number;
  resampled_high: number;
  /** Student-t interval of the mean over draws (draw-to-draw variation: simulation and training). */
  t_low: number;
  t_high: number;
}

export interface Summary {
  draws: number;
  mean: Record<ModelName, MetricValues>;
  min: Record<ModelName, MetricValues>;
  max: Record<ModelName, MetricValues>;
  difference: Record<BaselineName, Record<MetricName, DifferenceSummary>>;
  /** The issue's bar: mean AP ahead of RF by ≥ 0.03 with the interval above 0 on ≥ 4 draws, and ahead on AUC and CP@100 on average. */
  target: { text: string; met: boolean };
}

export interface EvaluationReport {
  description: string;
  protocol: Record<string, string>;
  recipes: Record<ModelName, string>;
  bootstrap: { unit: string; resamples: number; level: number; seed: string; interval: string };
  run: {
    git_commit: string;
    git_dirty: boolean;
    started: string;
    seconds: number;
    machine: string;
    versions: Record<string, string>;
    command: string;
  };
  /** Whether the champion trained on the seed-2018 draw is byte-identical to models/champion/model.onnx. */
  committed_champion: { seed: number; onnx_sha256: string; reproduced: boolean | null };
  draws: DrawResult[];
  summary: Summary;
  /** The handbook's own published numbers, on its own draw of the simulator: context, not a comparison. */
  published: Record<string, MetricValues>;
}

// Two-sided 97.5 % Student-t quantiles for 1..30 degrees of freedom.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

function t975(df: number): number {
  return df < 1 ? Number.NaN : df <= T975.length ? T975[df - 1] : 1.96;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function sd(xs: number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

function perModel(draws: DrawResult[], f: (xs: number[]) => number): Record<ModelName, MetricValues> {
  return Object.fromEntries(
    MODEL_NAMES.map((m) => [m, Object.fromEntries(METRICS.map((x) => [x, f(draws.map((d) => d.metrics[m][x]))]))]),
  ) as Record<ModelName, MetricValues>;
}

/**
 * Summary over draws. `resampled[draw][baseline][metric]` are the draw's bootstrap differences; resample b
 * of every draw is averaged into one resample of the mean (the draws' resamples are independent).
 */
export function summarize(
  draws: DrawResult[],
  resampled: Record<BaselineName, Record<MetricName, ArrayLike<number>>>[],
  level = 0.95,
): Summary {
  const difference = {} as Summary['difference'];
  for (const b of BASELINE_NAMES) {
    difference[b] = {} as Record<MetricName, DifferenceSummary>;
    for (const x of METRICS) {
      const values = draws.map((d) => d.difference[b][x].value);
      const n = Math.min(...resampled.map((r) => r[b][x].length));
      const means = new Float64Array(n);
      for (let i = 0; i < n; i++) means[i] = mean(resampled.map((r) => r[b][x][i]));
      const m = mean(values);
      const half = (t975(values.length - 1) * sd(values)) / Math.sqrt(values.length);
      const ci = percentileInterval(means, level);
      difference[b][x] = {
        mean: m,
        min: Math.min(...values),
        max: Math.max(...values),
        sd: sd(values),
        ahead: values.filter((v) => v > 0).length,
        above_zero: draws.filter((d) => d.difference[b][x].low > 0).length,
        below_zero: draws.filter((d) => d.difference[b][x].high < 0).length,
        resampled_low: ci.low,
        resampled_high: ci.high,
        t_low: m - half,
        t_high: m + half,
      };
    }
  }
  const rf = difference.random_forest;
  const met =
    rf.average_precision.mean >= 0.03 &&
    rf.average_precision.above_zero >= Math.min(4, draws.length) &&
    rf.auc_roc.mean > 0 &&
    rf.card_precision_at_100.mean > 0;
  return {
    draws: draws.length,
    mean: perModel(draws, mean),
    min: perModel(draws, (xs) => Math.min(...xs)),
    max: perModel(draws, (xs) => Math.max(...xs)),
    difference,
    target: {
      text:
        'averaged over the draws, the champion’s AP ahead of the random forest by ≥ 0.03 with the interval above 0 ' +
        'on at least 4 draws, and ahead on AUC-ROC and CP@100 on average',
      met,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Texts

export const LABELS: Record<ModelName, string> = {
  champion: 'champion (LightGBM → ONNX)',
  logistic_regression: 'handbook logistic regression',
  random_forest: 'handbook random forest',
};
const SHORT: Record<BaselineName, string> = { logistic_regression: 'LR', random_forest: 'RF' };
const METRIC_LABELS: Record<MetricName, string> = {
  auc_roc: 'AUC-ROC',
  average_precision: 'average precision',
  card_precision_at_100: 'card precision@100',
};

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const signed = (x: number) => {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x).toFixed(3);
  return a === '0.000' ? '±0.000' : `${x > 0 ? '+' : '−'}${a}`;
};
const interval = (i: { low: number; high: number }) => `[${signed(i.low)}, ${signed(i.high)}]`;
const int = (x: number) => x.toLocaleString('en-US');

/** Markdown table with aligned columns (what `biome`/prettier-style tables look like). */
export function table(head: string[], rows: string[][], right: boolean[]): string {
  const width = head.map((h, c) => Math.max(h.length, 3, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((s, c) => (right[c] ? s.padStart(width[c]) : s.padEnd(width[c]))).join(' | ')} |`;
  const rule = `| ${width.map((w, c) => (right[c] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** Mean (min–max) of every model over the draws: the README's table. */
export function summaryTable(r: EvaluationReport): string {
  const s = r.summary;
  const rows = MODEL_NAMES.map((m) => [
    LABELS[m],
    ...METRICS.map((x) => `${f3(s.mean[m][x])} (${f3(s.min[m][x])}–${f3(s.max[m][x])})`),
  ]);
  return table([`mean over ${s.draws} draws (min–max)`, 'AUC-ROC', 'average precision', 'card precision@100'], rows, [
    false,
    true,
    true,
    true,
  ]);
}

/** Champion − each baseline over the draws. */
export function differenceTable(r: EvaluationReport): string {
  const s = r.summary;
  const rows: string[][] = [];
  for (const b of BASELINE_NAMES) {
    for (const x of METRICS) {
      const d = s.difference[b][x];
      rows.push([
        `champion − ${SHORT[b]}`,
        METRIC_LABELS[x],
        signed(d.mean),
        `${signed(d.min)} … ${signed(d.max)}`,
        `${d.ahead} of ${s.draws}`,
        `${d.above_zero} / ${d.below_zero}`,
        interval({ low: d.t_low, high: d.t_high }),
      ]);
    }
  }
  return table(
    [
      'difference',
      'metric',
      'mean',
      'per draw',
      'champion ahead',
      'interval above / below 0',
      '95 % interval of the mean (draws)',
    ],
    rows,
    [false, false, true, true, true, true, true],
  );
}

/** One table per metric: each draw's three models and the champion's differences with their intervals. */
export function perDrawTables(r: EvaluationReport): string {
  const out: string[] = [];
  for (const x of METRICS) {
    const rows = r.draws.map((d) => [
      String(d.seed),
      f3(d.metrics.champion[x]),
      f3(d.metrics.logistic_regression[x]),
      f3(d.metrics.random_forest[x]),
      `${signed(d.difference.logistic_regression[x].value)} ${interval(d.difference.logistic_regression[x])}`,
      `${signed(d.difference.random_forest[x].value)} ${interval(d.difference.random_forest[x])}`,
    ]);
    const s = r.summary;
    rows.push([
      '**mean**',
      f3(s.mean.champion[x]),
      f3(s.mean.logistic_regression[x]),
      f3(s.mean.random_forest[x]),
      `${signed(s.difference.logistic_regression[x].mean)} ${interval({ low: s.difference.logistic_regression[x].resampled_low, high: s.difference.logistic_regression[x].resampled_high })}`,
      `${signed(s.difference.random_forest[x].mean)} ${interval({ low: s.difference.random_forest[x].resampled_low, high: s.difference.random_forest[x].resampled_high })}`,
    ]);
    out.push(
      `**${METRIC_LABELS[x]}**`,
      '',
      table(['seed', 'champion', 'LR', 'RF', 'champion − LR [95 % CI]', 'champion − RF [95 % CI]'], rows, [
        false,
        true,
        true,
        true,
        true,
        true,
      ]),
      '',
    );
  }
  return out.join('\n').trimEnd();
}

/** Plain sentences of where the champion stands, each one read off the summary. */
export function standing(r: EvaluationReport): string[] {
  const s = r.summary;
  const n = s.draws;
  const lines: string[] = [];
  for (const b of BASELINE_NAMES) {
    const parts = METRICS.map((x) => {
      const d = s.difference[b][x];
      return `${METRIC_LABELS[x]} ${signed(d.mean)} on average (ahead on ${d.ahead} of ${n} draws; interval above 0 on ${d.above_zero}, below 0 on ${d.below_zero})`;
    });
    lines.push(`- Against the ${LABELS[b].replace('handbook ', 'handbook’s ')}: ${parts.join('; ')}.`);
  }
  const ap = MODEL_NAMES.map(
    (m) =>
      `${SHORT[m as BaselineName] ?? 'champion'} ${f3(s.min[m].average_precision)}–${f3(s.max[m].average_precision)}`,
  );
  lines.push(`- Average precision per draw (lowest–highest): ${ap.join(', ')}.`);
  lines.push(`- The issue’s bar (${s.target.text}) is ${s.target.met ? 'met' : 'not met'}.`);
  return lines;
}

function seconds(r: EvaluationReport): string {
  const steps = Object.keys(r.draws[0]?.seconds ?? {});
  // A step reused from an earlier run (--reuse) took no time in this one: average over the draws that ran it.
  const avg = steps.map((k) => {
    const ran = r.draws.filter((d) => !d.reused.includes(k)).map((d) => d.seconds[k] ?? 0);
    return `${k} ${ran.length > 0 ? mean(ran).toFixed(0) : '–'} s`;
  });
  const reused = r.draws.filter((d) => d.reused.length > 0).map((d) => `seed ${d.seed}: ${d.reused.join(', ')}`);
  return (
    `${(r.run.seconds / 60).toFixed(1)} min for ${r.draws.length} draws (mean per draw: ${avg.join(', ')}` +
    `${reused.length > 0 ? `; reused from an interrupted run: ${reused.join('; ')}` : ''})`
  );
}

export function renderMarkdown(r: EvaluationReport): string {
  const published = table(
    ['handbook’s published result (its own draw)', 'AUC-ROC', 'average precision', 'card precision@100'],
    Object.entries(r.published).map(([name, v]) => [name.replace(/_/g, ' '), ...METRICS.map((x) => f3(v[x]))]),
    [false, true, true, true],
  );
  const c = r.committed_champion;
  return [
    '# Evaluation across simulator draws',
    '',
    '<!-- Generated by `fraudscore evaluate --draws` from evaluation.json; do not edit. -->',
    '',
    r.description,
    '',
    `Protocol: ${Object.entries(r.protocol)
      .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v}`)
      .join('; ')}.`,
    '',
    'Recipes:',
    '',
    ...MODEL_NAMES.map((m) => `- **${LABELS[m]}**: ${r.recipes[m]}`),
    '',
    `Intervals: ${r.bootstrap.interval}`,
    '',
    `Run: commit ${r.run.git_commit.slice(0, 12)}${r.run.git_dirty ? ' (dirty tree)' : ''}, ${r.run.started}, ${seconds(r)}, on ${r.run.machine}. Versions: ${Object.entries(
      r.run.versions,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}. Command: \`${r.run.command}\`.`,
    '',
    '## Where the champion stands',
    '',
    ...standing(r),
    '',
    summaryTable(r),
    '',
    differenceTable(r),
    '',
    '“Interval above / below 0” counts the draws whose card-level bootstrap 95 % interval of the difference ' +
      'excludes 0. The last column is a Student-t interval over the draws, so it includes draw-to-draw ' +
      'variation (simulation, training and test week).',
    '',
    '## Per draw',
    '',
    perDrawTables(r),
    '',
    'The **mean** rows’ intervals come from averaging the draws’ card resamples, so they cover the sampling of ' +
      'the test weeks’ cards only, not the variation between draws.',
    '',
    table(
      [
        'seed',
        'transactions',
        'frauds',
        'test transactions',
        'test frauds',
        'test cards',
        'chosen configuration',
        'validation AP',
      ],
      r.draws.map((d) => [
        String(d.seed),
        int(d.transactions),
        int(d.frauds),
        int(d.test_transactions),
        int(d.test_frauds),
        int(d.test_cards),
        Object.entries(d.champion.params)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
        f3(d.champion.validation.average_precision),
      ]),
      [false, true, true, true, true, true, false, true],
    ),
    '',
    `The champion trained on the seed-${c.seed} draw ${
      c.reproduced === null
        ? 'was not part of this run'
        : c.reproduced
          ? 'is byte-identical to the committed models/champion/model.onnx'
          : 'differs from the committed models/champion/model.onnx'
    } (sha256 ${c.onnx_sha256.slice(0, 16)}…).`,
    '',
    '## For context only: the handbook’s published numbers',
    '',
    'These come from the handbook’s own draw of the simulator (its chapter 3.4), so they are not comparable ' +
      'with any single row above; the rows above rerun its recipes on our draws instead.',
    '',
    published,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Generated blocks in README.md and docs/model.md

export const BLOCK_BEGIN = '<!-- generated: evaluation begin (npm run docs:model; do not edit) -->';
export const BLOCK_END = '<!-- generated: evaluation end -->';

export function readmeBlock(r: EvaluationReport): string {
  const s = r.summary;
  const rf = s.difference.random_forest;
  const lr = s.difference.logistic_regression;
  return [
    summaryTable(r),
    '',
    `Each draw is a fresh simulation (seeds ${r.draws.map((d) => d.seed).join(', ')}) on the handbook protocol ` +
      '(train 2018-07-25..31, 7-day delay, test 2018-08-08..14, known-compromised cards removed), with the ' +
      'champion retrained by its recipe and the handbook’s logistic-regression and random-forest recipes rerun on ' +
      `the same rows. Against the random forest the champion’s average precision is ${signed(rf.average_precision.mean)} ` +
      `on average (ahead on ${rf.average_precision.ahead} of ${s.draws} draws), AUC-ROC ${signed(rf.auc_roc.mean)} ` +
      `and CP@100 ${signed(rf.card_precision_at_100.mean)}; against logistic regression its average precision is ` +
      `${signed(lr.average_precision.mean)} (ahead on ${lr.average_precision.ahead} of ${s.draws}). ` +
      '`reports/evaluation.md` has every draw with card-level bootstrap intervals.',
  ].join('\n');
}

export function docsBlock(r: EvaluationReport): string {
  return [
    `Generated from \`reports/evaluation.json\` (commit ${r.run.git_commit.slice(0, 12)}, ${r.draws.length} draws, ` +
      `${r.bootstrap.resamples} card-level bootstrap resamples per draw).`,
    '',
    ...standing(r),
    '',
    summaryTable(r),
    '',
    differenceTable(r),
    '',
    perDrawTables(r),
  ].join('\n');
}

/** `text` with the generated block between the markers replaced by `block`; an error when the markers are missing. */
export function replaceBlock(text: string, block: string, file: string): string {
  const a = text.indexOf(BLOCK_BEGIN);
  const b = text.indexOf(BLOCK_END);
  if (a < 0 || b < a) throw new Error(`${file}: no generated evaluation block (${BLOCK_BEGIN} … ${BLOCK_END})`);
  return `${text.slice(0, a + BLOCK_BEGIN.length)}\n${block}\n${text.slice(b)}`;
}
