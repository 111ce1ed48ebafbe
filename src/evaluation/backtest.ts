// Backtest report for a replayed or re-scored range: the detection metrics of `fraudscore evaluate`
// (same function), decision counts, the run's latency and throughput, plots, and a side-by-side
// comparison when several runs (models) decided the same transactions.

import { percentile } from '../stats/percentile.js';
import type { Decision } from '../types.js';
import { type DetectionMetrics, detectionMetrics } from './evaluate.js';
import { precisionRecallCurve } from './metrics.js';
import { dayIndex } from './protocol.js';
import { type CurveSeries, prCurveSvg } from './report.js';

export interface BacktestRun {
  /** e.g. the decisions topic or the model it ran. */
  name: string;
  decisions: readonly Decision[];
  thresholds: { review: number; decline: number };
}

export interface RunReport {
  name: string;
  models: string[];
  decisions: number;
  labelled_fraud: number;
  by_outcome: Record<string, number>;
  degraded: number;
  /** Processing latency recorded in each decision (record received → decision), ms. */
  latency_p50_ms: number;
  latency_p99_ms: number;
  /** Decisions per second between the first and the last scored_at. */
  throughput_tps: number;
  metrics: DetectionMetrics;
}

export interface BacktestReport {
  generated_at: string;
  runs: RunReport[];
  /** For two runs: share of common transactions with the same outcome. */
  agreement?: { common: number; same_outcome: number };
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/**
 * The inputs of the detection metrics for one run's decisions. A transaction without a label counts as
 * genuine (fraud reports are what labels carry). Amounts are the decision's `amount` feature, so the
 * fraud-amount share is in the transaction's currency units.
 */
export function scoredSet(decisions: readonly Decision[], isFraud: ReadonlyMap<string, boolean>) {
  const n = decisions.length;
  const y = new Array<number>(n);
  const scores = new Float64Array(n);
  const day = new Array<number>(n);
  const card = new Array<string>(n);
  const amount = new Float64Array(n);
  decisions.forEach((d, i) => {
    y[i] = isFraud.get(d.transaction_id) === true ? 1 : 0;
    scores[i] = d.score;
    day[i] = dayIndex(d.event_time);
    card[i] = d.customer_id;
    amount[i] = d.features[0] ?? 0;
  });
  return { y, scores, day, card, amount };
}

export function backtest(runs: readonly BacktestRun[], isFraud: ReadonlyMap<string, boolean>): BacktestReport {
  const reports = runs.map((run): RunReport => {
    const set = scoredSet(run.decisions, isFraud);
    const byOutcome: Record<string, number> = { APPROVE: 0, REVIEW: 0, DECLINE: 0 };
    let degraded = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    const lat = new Float64Array(run.decisions.length);
    run.decisions.forEach((d, i) => {
      byOutcome[d.decision]++;
      if (d.degraded) degraded++;
      first = Math.min(first, d.scored_at);
      last = Math.max(last, d.scored_at);
      lat[i] = d.latency_us / 1000;
    });
    lat.sort();
    const span = (last - first) / 1000;
    return {
      name: run.name,
      models: [...new Set(run.decisions.map((d) => `${d.model_name}@${d.model_version}`))],
      decisions: run.decisions.length,
      labelled_fraud: set.y.reduce((a, b) => a + b, 0),
      by_outcome: byOutcome,
      degraded,
      latency_p50_ms: percentile(lat, 0.5),
      latency_p99_ms: percentile(lat, 0.99),
      throughput_tps: span > 0 ? run.decisions.length / span : Number.NaN,
      metrics: detectionMetrics(set, run.thresholds),
    };
  });
  const report: BacktestReport = { generated_at: new Date().toISOString(), runs: reports };
  if (runs.length === 2) {
    const other = new Map(runs[1].decisions.map((d) => [d.transaction_id, d.decision]));
    let common = 0;
    let same = 0;
    for (const d of runs[0].decisions) {
      const o = other.get(d.transaction_id);
      if (o === undefined) continue;
      common++;
      if (o === d.decision) same++;
    }
    report.agreement = { common, same_outcome: common > 0 ? same / common : Number.NaN };
  }
  return report;
}

/** Score histograms of fraud and genuine transactions (share of each class per bin, log scale). */
export function scoreDistributionSvg(runs: readonly BacktestRun[], isFraud: ReadonlyMap<string, boolean>): string {
  const W = 640;
  const H = 140 + 200 * runs.length;
  const L = 60;
  const bins = 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">Score distribution: fraud vs genuine (share per bin, log scale)</text>`,
  ];
  runs.forEach((run, k) => {
    const top = 50 + k * 200;
    const h = 150;
    const counts = [new Float64Array(bins), new Float64Array(bins)];
    for (const d of run.decisions) {
      const b = Math.min(bins - 1, Math.max(0, Math.floor(d.score * bins)));
      counts[isFraud.get(d.transaction_id) === true ? 1 : 0][b]++;
    }
    const totals = counts.map((c) => c.reduce((a, b) => a + b, 0) || 1);
    const yOf = (share: number) => top + h - (share <= 1e-4 ? 0 : ((Math.log10(share) + 4) / 4) * h);
    const bw = (W - L - 20) / bins;
    parts.push(`<text x="${L}" y="${top - 8}">${run.name}</text>`);
    parts.push(`<rect x="${L}" y="${top}" width="${W - L - 20}" height="${h}" fill="none" stroke="#999"/>`);
    for (const [v, label] of [
      [1, '100%'],
      [0.01, '1%'],
      [0.0001, '0.01%'],
    ] as const) {
      parts.push(`<text x="${L - 6}" y="${yOf(v) + 4}" text-anchor="end">${label}</text>`);
    }
    ['#2ca02c', '#d62728'].forEach((color, cls) => {
      for (let b = 0; b < bins; b++) {
        const share = counts[cls][b] / totals[cls];
        if (share === 0) continue;
        const x = L + b * bw + (cls === 0 ? 1 : bw / 2);
        const y = yOf(share);
        parts.push(
          `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw / 2 - 1).toFixed(1)}" height="${(top + h - y).toFixed(1)}" fill="${color}" opacity="0.8"/>`,
        );
      }
    });
    parts.push(
      `<text x="${L}" y="${top + h + 16}">0</text><text x="${W - 20}" y="${top + h + 16}" text-anchor="end">1 (score)</text>`,
    );
  });
  const ly = H - 30;
  parts.push(
    `<rect x="${L}" y="${ly - 10}" width="12" height="12" fill="#2ca02c"/><text x="${L + 18}" y="${ly}">genuine</text>`,
    `<rect x="${L + 90}" y="${ly - 10}" width="12" height="12" fill="#d62728"/><text x="${L + 108}" y="${ly}">fraud</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

export function backtestPrSvg(runs: readonly BacktestRun[], isFraud: ReadonlyMap<string, boolean>): string {
  const series: CurveSeries[] = runs.map((run, k) => {
    const set = scoredSet(run.decisions, isFraud);
    return { name: run.name, color: COLORS[k % COLORS.length], points: precisionRecallCurve(set.y, set.scores) };
  });
  return prCurveSvg(series, 'Backtest precision–recall');
}

export function backtestMarkdown(r: BacktestReport): string {
  const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const head = `| | ${r.runs.map((x) => x.name).join(' | ')} |`;
  const sep = `|---|${r.runs.map(() => '---:').join('|')}|`;
  const row = (label: string, get: (x: RunReport) => string) => `| ${label} | ${r.runs.map(get).join(' | ')} |`;
  const lines = [
    '# Backtest report',
    '',
    `Generated ${r.generated_at}. Metrics are those of \`fraudscore evaluate\` (one implementation), over every decided`,
    'transaction of the range; a transaction without a fraud report counts as genuine.',
    '',
    head,
    sep,
    row('model(s)', (x) => x.models.join(', ')),
    row('decisions', (x) => String(x.decisions)),
    row('labelled fraud', (x) => String(x.labelled_fraud)),
    row(
      'APPROVE / REVIEW / DECLINE',
      (x) => `${x.by_outcome.APPROVE} / ${x.by_outcome.REVIEW} / ${x.by_outcome.DECLINE}`,
    ),
    row('degraded', (x) => String(x.degraded)),
    row('AUC-ROC', (x) => f(x.metrics.auc_roc)),
    row('average precision', (x) => f(x.metrics.average_precision)),
    row('card precision@100', (x) => f(x.metrics.card_precision_at_100)),
    row('recall @ 1 % FPR', (x) => f(x.metrics.recall_at_1pct_fpr)),
    row('recall @ 5 % FPR', (x) => f(x.metrics.recall_at_5pct_fpr)),
    row('fraud amount caught at DECLINE', (x) => f(x.metrics.fraud_amount_share_at_decline)),
    row('latency p50 / p99 (ms)', (x) => `${f(x.latency_p50_ms, 2)} / ${f(x.latency_p99_ms, 2)}`),
    row('throughput (decisions/s)', (x) => f(x.throughput_tps, 0)),
  ];
  if (r.agreement) {
    lines.push(
      '',
      `Same outcome on ${f(r.agreement.same_outcome * 100, 2)} % of the ${r.agreement.common} transactions both runs decided.`,
    );
  }
  lines.push('', '![precision-recall](pr-curve.svg)', '', '![score distribution](score-distribution.svg)', '');
  return lines.join('\n');
}

/** Writes backtest.json, backtest.md, pr-curve.svg and score-distribution.svg into `dir`. */
export async function writeBacktest(
  dir: string,
  runs: readonly BacktestRun[],
  isFraud: ReadonlyMap<string, boolean>,
): Promise<BacktestReport> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const report = backtest(runs, isFraud);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'backtest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'backtest.md'), backtestMarkdown(report));
  await writeFile(join(dir, 'pr-curve.svg'), backtestPrSvg(runs, isFraud));
  await writeFile(join(dir, 'score-distribution.svg'), scoreDistributionSvg(runs, isFraud));
  return report;
}
