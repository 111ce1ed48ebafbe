// `fraudscore evaluate --draws N`: the champion recipe against the handbook's baseline recipes on N
// independent simulator draws, with card-level bootstrap intervals; writes reports/evaluation.{json,md}.

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EVALUATE_OPTIONS } from '../config/command-options.js';
import type { OptionsOf } from '../config/option-spec.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { METRICS, type MetricName, pairedBootstrap } from '../evaluation/bootstrap.js';
import {
  BASELINE_NAMES,
  type BaselineName,
  type DrawResult,
  type EvaluationReport,
  renderMarkdown,
  summarize,
} from '../evaluation/draws.js';
import { BASELINES, loadTestWeek, scoreWith } from '../evaluation/evaluate.js';
import { fromRoot } from '../package-root.js';
import { runBackfill } from './backfill.js';
import { runSimulation } from './simulate.js';

const TRAIN_START = '2018-07-25';
const COMMITTED_SEED = 2018;

class StepError extends Error {}

function git(args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd: fromRoot(), encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Runs a Python step with its output in `log`; a failure is a StepError naming the log's last lines. */
async function python(exe: string, args: string[], log: string): Promise<void> {
  const out = createWriteStream(log);
  const code = await new Promise<number>((resolve, reject) => {
    // LightGBM's OpenMP threads spin between parallel regions by default; on a loaded shared machine a
    // draw's train.py took 959 s so and 345 s with passive waiting, which grows the same trees.
    const env = { ...process.env, OMP_WAIT_POLICY: process.env['OMP_WAIT_POLICY'] ?? 'PASSIVE' };
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  await new Promise<void>((resolve) => out.end(resolve));
  if (code !== 0) {
    const tail = (await readFile(log, 'utf8')).trim().split('\n').slice(-3).join(' | ');
    throw new StepError(`${path.basename(args[0])} exited ${code} (${log}): ${tail}`);
  }
}

function parseBaselineScores(text: string): Map<string, number[]> {
  const lines = text.trim().split('\n');
  const header = lines[0].split(',');
  const cols = BASELINE_NAMES.map((b) => header.indexOf(b));
  if (header[0] !== 'transaction_id' || cols.some((c) => c < 0)) {
    throw new StepError(`baseline scores: unexpected header ${lines[0]}`);
  }
  const out = new Map<string, number[]>();
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split(',');
    out.set(
      f[0],
      cols.map((c) => Number(f[c])),
    );
  }
  return out;
}

interface DrawOptions {
  seed: number;
  dir: string;
  python: string;
  resamples: number;
  allowDirty: boolean;
  reuse: boolean;
  customers: number;
  terminals: number;
  days: number;
  log: (step: string, seconds: number, detail: string) => void;
}

async function runDraw(o: DrawOptions) {
  const seconds: Record<string, number> = {};
  const reused: string[] = [];
  const timed = async <T>(step: string, run: () => Promise<T>, detail: (r: T) => string, done?: string) => {
    if (o.reuse && done !== undefined && existsSync(done)) {
      reused.push(step);
      seconds[step] = 0;
      o.log(step, 0, `reused ${done}`);
      return undefined;
    }
    const t0 = performance.now();
    const r = await run();
    seconds[step] = (performance.now() - t0) / 1000;
    o.log(step, seconds[step], detail(r));
    return r;
  };
  await mkdir(o.dir, { recursive: true });
  const f = (name: string) => path.join(o.dir, name);

  await timed(
    'simulate',
    () =>
      runSimulation({
        seed: o.seed,
        customers: o.customers,
        terminals: o.terminals,
        days: o.days,
        outDir: o.dir,
      }),
    (r) =>
      `${r.counts.transactions.toLocaleString('en-US')} transactions, ${r.counts.frauds.toLocaleString('en-US')} frauds`,
    f('simulation.json'),
  );
  const sim = JSON.parse(await readFile(f('simulation.json'), 'utf8'));
  if (sim.seed !== o.seed) throw new StepError(`${f('simulation.json')} is for seed ${sim.seed}, not ${o.seed}`);
  await timed(
    'backfill',
    () => runBackfill({ transactions: f('transactions.avro'), labels: f('labels.avro'), out: f('rows.csv') }),
    (r) => `${r.rows.toLocaleString('en-US')} rows`,
    f('rows.csv'),
  );
  const trainArgs = [
    fromRoot('training/train.py'),
    '--rows',
    f('rows.csv'),
    '--sim',
    o.dir,
    '--out',
    f('champion'),
    '--report',
    f('training.json'),
  ];
  if (o.allowDirty) trainArgs.push('--allow-dirty');
  await timed(
    'train',
    () => python(o.python, trainArgs, f('train.log')),
    () => 'champion recipe (grid on the validation split, then the training week)',
    f('champion/manifest.json'),
  );
  await timed(
    'baselines',
    () =>
      python(
        o.python,
        [fromRoot('training/baselines.py'), '--rows', f('rows.csv'), '--out', f('baseline-scores.csv')],
        f('baselines.log'),
      ),
    () => 'handbook logistic regression and random forest',
    f('baseline-scores.csv'),
  );

  const t0 = performance.now();
  const week = await loadTestWeek(f('rows.csv'), TRAIN_START);
  const { scores: champion, manifest } = await scoreWith(f('champion'), week.input);
  const base = parseBaselineScores(await readFile(f('baseline-scores.csv'), 'utf8'));
  const ids = week.test.map((i) => week.rows.transactionId[i]);
  if (base.size !== ids.length || ids.some((id) => !base.has(id))) {
    throw new StepError(
      `the baseline scores (${base.size} rows) are not the test week fraudscore evaluate reads (${ids.length} rows)`,
    );
  }
  const scores: Record<string, ArrayLike<number>> = { champion };
  BASELINE_NAMES.forEach((b, j) => {
    scores[b] = Float64Array.from(ids, (id) => base.get(id)![j]);
  });
  seconds['score'] = (performance.now() - t0) / 1000;
  o.log('score', seconds['score'], `${ids.length.toLocaleString('en-US')} test rows through the ONNX scorer`);

  const t1 = performance.now();
  const boot = pairedBootstrap(week, scores, { resamples: o.resamples, seed: o.seed });
  seconds['bootstrap'] = (performance.now() - t1) / 1000;
  const ap = (m: string) => boot.metrics[m].average_precision.toFixed(3);
  o.log(
    'bootstrap',
    seconds['bootstrap'],
    `${o.resamples} card resamples; AP champion ${ap('champion')}, LR ${ap('logistic_regression')}, RF ${ap('random_forest')}`,
  );

  const training = JSON.parse(await readFile(f('training.json'), 'utf8'));
  const trainedOn = (manifest as unknown as { trained_on: { onnx_canonical_sha256?: string } }).trained_on;
  const draw: DrawResult = {
    seed: o.seed,
    transactions: sim.transactions,
    frauds: sim.frauds,
    test_transactions: ids.length,
    test_frauds: week.y.reduce((a, b) => a + b, 0),
    test_cards: new Set(week.card).size,
    champion: {
      params: training.chosen,
      validation: Object.fromEntries(
        METRICS.map((x) => [
          x,
          training.validation.find(
            (v: { params: unknown }) => JSON.stringify(v.params) === JSON.stringify(training.chosen),
          )[x],
        ]),
      ) as Record<MetricName, number>,
      onnx_sha256: trainedOn?.onnx_canonical_sha256 ?? '',
    },
    metrics: boot.metrics as DrawResult['metrics'],
    difference: boot.difference as DrawResult['difference'],
    seconds,
    reused,
  };
  return { draw, resampled: boot.resampled as Record<BaselineName, Record<MetricName, Float64Array>> };
}

export type EvaluateOptions = OptionsOf<typeof EVALUATE_OPTIONS>;

/** `fraudscore evaluate --draws N` / `--seeds a,b`, on evaluate's parsed options. */
export async function evaluateDrawsCommand(f: EvaluateOptions, argv: readonly string[]): Promise<number> {
  const seeds =
    f.seeds !== undefined ? f.seeds.map(Number) : Array.from({ length: f.draws ?? 5 }, (_, i) => f.firstSeed + i);
  const resamples = f.resamples;
  const exe = f.python;
  if (!existsSync(exe)) {
    throw new FraudError(
      ErrorCodes.INVALID_CONFIG,
      `no Python at ${exe}: python3.11 -m venv training/.venv && training/.venv/bin/pip install -r training/requirements.txt (or pass --python)`,
    );
  }
  const allowDirty = f.allowDirty;
  const commit = git(['rev-parse', 'HEAD']) ?? 'unknown';
  const status = git(['status', '--porcelain']);
  const dirty = status === undefined || status !== '';
  if (dirty && !allowDirty) {
    throw new FraudError(
      ErrorCodes.INVALID_CONFIG,
      'the git tree has uncommitted changes: commit them first (the report and every model record the commit), or pass --allow-dirty',
    );
  }

  const started = new Date();
  const t0 = performance.now();
  const work = f.work;
  const draws: DrawResult[] = [];
  const resampled: Record<BaselineName, Record<MetricName, Float64Array>>[] = [];
  console.log(
    `fraudscore evaluate — ${seeds.length} draws (seeds ${seeds.join(', ')}), ${resamples} card resamples each, work in ${work}`,
  );
  for (const [i, seed] of seeds.entries()) {
    const head = `draw ${i + 1}/${seeds.length} (seed ${seed})`;
    try {
      const r = await runDraw({
        seed,
        dir: path.join(work, String(seed)),
        python: exe,
        resamples,
        allowDirty,
        reuse: f.reuse,
        customers: f.customers,
        terminals: f.terminals,
        days: f.days,
        log: (step, secs, detail) =>
          console.log(`  ${head} ${step.padEnd(9)} ${secs.toFixed(1).padStart(6)} s  ${detail}`),
      });
      draws.push(r.draw);
      resampled.push(r.resampled);
    } catch (err) {
      if (err instanceof StepError) {
        console.error(`fraudscore evaluate: ${head}: ${err.message}`);
        return 1;
      }
      throw err;
    }
  }

  const committedManifest = JSON.parse(await readFile(fromRoot('models/champion/manifest.json'), 'utf8'));
  const committedHash: string = committedManifest.trained_on?.onnx_canonical_sha256 ?? '';
  const drawOfCommitted = draws.find((d) => d.seed === COMMITTED_SEED);
  const pyVersions = JSON.parse(
    spawnSync(
      exe,
      [
        '-c',
        'import json,sklearn,lightgbm,sys;print(json.dumps([sys.version.split()[0],sklearn.__version__,lightgbm.__version__]))',
      ],
      { encoding: 'utf8' },
    ).stdout || '["?","?","?"]',
  );
  const report: EvaluationReport = {
    description:
      `The champion recipe and the Fraud Detection Handbook’s logistic-regression and random-forest recipes, each ` +
      `trained and tested on the same ${draws.length} independent draws of the simulator (${f.customers} customers, ` +
      `${f.terminals} terminals, ${f.days} days from 2018-04-01).`,
    protocol: {
      training_week: '2018-07-25..31',
      delay: '7 days',
      test_week:
        '2018-08-08..14, cards known to be compromised removed (fraud in the training week, or on a delay day reported by that test day)',
      champion_selection:
        'validation split only (train 2018-07-11..17, validate 2018-07-25..31); the test week is read after selection',
    },
    recipes: {
      champion:
        'LightGBM, grid of 24 configurations (num_leaves 7/15/31, learning_rate 0.05/0.1, n_estimators 100/300, ' +
        'min_child_samples 20/100) ranked by validation average precision (4 decimals), ties by validation CP@100; ' +
        'the chosen configuration retrained on the training week (training/train.py), scored through the ONNX scorer',
      logistic_regression:
        'sklearn LogisticRegression(random_state=0) on StandardScaler-ed features (the handbook’s ch. 3.4 recipe, training/baselines.py)',
      random_forest:
        'sklearn RandomForestClassifier(random_state=0), 100 trees, on StandardScaler-ed features (the handbook’s ch. 3.4 recipe, training/baselines.py)',
    },
    bootstrap: {
      unit: 'card',
      resamples,
      level: 0.95,
      seed: 'the draw’s seed',
      interval:
        `card-level paired bootstrap: each of ${resamples} resamples draws the test week’s cards with replacement ` +
        '(a card drawn m times counts m times with all its transactions); all models are scored on the same resamples; ' +
        '95 % percentile interval of champion − baseline.',
    },
    run: {
      git_commit: commit,
      git_dirty: dirty,
      started: started.toISOString().replace(/\.\d+Z$/, 'Z'),
      seconds: (performance.now() - t0) / 1000,
      machine: '2 shared cores (other engineers’ jobs running), steps under nice -n 10',
      versions: {
        node: process.versions.node,
        python: pyVersions[0],
        'scikit-learn': pyVersions[1],
        lightgbm: pyVersions[2],
      },
      command: `fraudscore evaluate ${argv.join(' ')}`.trim(),
    },
    committed_champion: {
      seed: COMMITTED_SEED,
      onnx_sha256: committedHash,
      reproduced:
        drawOfCommitted === undefined || committedHash === ''
          ? null
          : drawOfCommitted.champion.onnx_sha256 === committedHash,
    },
    draws,
    summary: summarize(draws, resampled),
    published: BASELINES as unknown as EvaluationReport['published'],
  };
  const out = f.out;
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'evaluation.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(out, 'evaluation.md'), renderMarkdown(report));
  console.log(`fraudscore evaluate — ${draws.length} draws in ${(report.run.seconds / 60).toFixed(1)} min`);
  for (const b of BASELINE_NAMES) {
    const d = report.summary.difference[b];
    console.log(
      `  champion − ${b}: ${METRICS.map((x) => `${x} ${d[x].mean >= 0 ? '+' : ''}${d[x].mean.toFixed(3)} (ahead ${d[x].ahead}/${draws.length}, CI > 0 on ${d[x].above_zero})`).join('; ')}`,
    );
  }
  console.log(`  target (${report.summary.target.text}): ${report.summary.target.met ? 'met' : 'not met'}`);
  console.log(`  wrote ${out}/evaluation.json, ${out}/evaluation.md (then: npm run docs:model)`);
  return 0;
}
