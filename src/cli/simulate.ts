// `fraudscore simulate`: the handbook's transaction simulator to Avro container files.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { labelType, transactionType } from '../avro/schemas.js';
import { DAY_MS } from '../features/feature-names.js';
import { writeContainer } from '../io/avro-file.js';
import {
  countSimulation,
  HANDBOOK_DEFAULTS,
  labelAt,
  type Simulation,
  type SimulationCounts,
  simulate,
  syncMarker,
  transactionAt,
} from '../simulate/handbook.js';
import { dateFlag, type FlagSpec, flagsHelp, parseFlags } from './args.js';
import { Progress } from './progress.js';

const SPECS: readonly FlagSpec[] = [
  {
    flag: '--seed',
    kind: 'int',
    default: 2018,
    min: 0,
    max: 2 ** 32 - 1,
    help: 'PRNG seed: the same seed gives byte-identical files',
  },
  {
    flag: '--customers',
    kind: 'int',
    default: HANDBOOK_DEFAULTS.customers,
    min: 1,
    max: 10_000_000,
    help: 'number of customers (cards)',
  },
  {
    flag: '--terminals',
    kind: 'int',
    default: HANDBOOK_DEFAULTS.terminals,
    min: 1,
    max: 10_000_000,
    help: 'number of terminals',
  },
  { flag: '--days', kind: 'int', default: HANDBOOK_DEFAULTS.days, min: 1, max: 3660, help: 'days simulated' },
  { flag: '--start-date', kind: 'string', default: HANDBOOK_DEFAULTS.startDate, help: 'first day (UTC)' },
  {
    flag: '--label-delay-days',
    kind: 'number',
    default: 7,
    min: 0,
    max: 365,
    help: 'reported_time = event time + this delay',
  },
  {
    flag: '--out',
    kind: 'string',
    default: 'data/sim',
    help: 'output folder: transactions.avro, labels.avro, simulation.json',
  },
  {
    flag: '--codec',
    kind: 'string',
    default: 'deflate',
    choices: ['deflate', 'null'],
    help: 'Avro block codec: deflate or null',
  },
  {
    flag: '--progress',
    kind: 'string',
    default: 'auto',
    choices: ['auto', 'on', 'off'],
    help: 'progress bar on stderr: auto (TTY), on, off',
  },
];

export interface SimulateFiles {
  transactions: string;
  labels: string;
  summary: string;
}

export interface SimulateResult {
  sim: Simulation;
  counts: SimulationCounts;
  files: SimulateFiles;
}

export interface SimulateOptions {
  seed: number;
  customers?: number;
  terminals?: number;
  days?: number;
  startDate?: string;
  labelDelayDays?: number;
  outDir: string;
  codec?: 'deflate' | 'null';
  progress?: 'auto' | 'on' | 'off';
}

/** Runs the simulator and writes its files; the same options give the same bytes. */
export async function runSimulation(o: SimulateOptions): Promise<SimulateResult> {
  await mkdir(o.outDir, { recursive: true });
  const mode = o.progress ?? 'off';
  const gen = new Progress('simulate: customers', mode);
  const sim = simulate({
    seed: o.seed,
    customers: o.customers,
    terminals: o.terminals,
    days: o.days,
    startDate: o.startDate,
    onProgress: (d, t) => gen.update(d, t),
  });
  gen.done();
  const delayMs = Math.round((o.labelDelayDays ?? 7) * DAY_MS);
  const files: SimulateFiles = {
    transactions: path.join(o.outDir, 'transactions.avro'),
    labels: path.join(o.outDir, 'labels.avro'),
    summary: path.join(o.outDir, 'simulation.json'),
  };
  const codec = o.codec ?? 'deflate';
  const txBar = new Progress('simulate: transactions.avro', mode);
  await writeContainer(files.transactions, transactionType(), sim.n, (i) => transactionAt(sim, i), {
    syncMarker: syncMarker(o.seed, 'transactions'),
    codec,
    onProgress: (d, t) => txBar.update(d, t),
  });
  txBar.done();
  // Labels in reported-time order: with one fixed delay that is the transactions' order.
  const lbBar = new Progress('simulate: labels.avro', mode);
  await writeContainer(files.labels, labelType(), sim.n, (i) => labelAt(sim, i, delayMs), {
    syncMarker: syncMarker(o.seed, 'labels'),
    codec,
    onProgress: (d, t) => lbBar.update(d, t),
  });
  lbBar.done();
  const counts = countSimulation(sim);
  const summary = {
    simulator: 'Fraud Detection Handbook ch. 3.2 (fraudscore src/simulate/handbook.ts)',
    seed: o.seed,
    start_date: o.startDate ?? HANDBOOK_DEFAULTS.startDate,
    label_delay_days: o.labelDelayDays ?? 7,
    codec,
    ...counts,
  };
  await writeFile(files.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return { sim, counts, files };
}

export async function simulateCommand(argv: string[]): Promise<number> {
  const usage = 'fraudscore simulate [options]';
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      flagsHelp(
        usage,
        'Simulates card transactions and fraud as the Fraud Detection Handbook does (defaults: 5000 customers,\n' +
          '10000 terminals, 183 days from 2018-04-01) and writes Avro object container files with the\n' +
          'transaction and label schemas (schemas/*.avsc). To put them on the Kafka topics, run\n' +
          '`fraudscore replay --from <out>/transactions.avro --labels <out>/labels.avro`.',
        SPECS,
      ),
    );
    return 0;
  }
  const f = parseFlags('simulate', argv, SPECS);
  const codec = f['codec'] as 'deflate' | 'null';
  const progress = f['progress'] as 'auto' | 'on' | 'off';
  dateFlag('--start-date', f['startDate'] as string);
  const t0 = performance.now();
  const { counts, files } = await runSimulation({
    seed: f['seed'] as number,
    customers: f['customers'] as number,
    terminals: f['terminals'] as number,
    days: f['days'] as number,
    startDate: f['startDate'] as string,
    labelDelayDays: f['labelDelayDays'] as number,
    outDir: f['out'] as string,
    codec,
    progress,
  });
  const secs = (performance.now() - t0) / 1000;
  const pct = (x: number) => `${(100 * x).toFixed(3)} %`;
  console.log(`fraudscore simulate — seed ${f['seed']}, ${secs.toFixed(1)} s`);
  console.log(`  transactions      ${counts.transactions.toLocaleString('en-US')}`);
  console.log(`  frauds            ${counts.frauds.toLocaleString('en-US')} (${pct(counts.fraud_share)})`);
  console.log(`    amount > 220    ${counts.by_scenario.amount_over_220.toLocaleString('en-US')}`);
  console.log(`    terminal        ${counts.by_scenario.compromised_terminal.toLocaleString('en-US')}`);
  console.log(`    customer        ${counts.by_scenario.compromised_customer.toLocaleString('en-US')}`);
  console.log(`  customers         ${counts.customers} (${counts.customers_without_terminals} without a terminal)`);
  console.log(`  terminals         ${counts.terminals}`);
  console.log(`  events            ${counts.first_event} … ${counts.last_event}`);
  console.log(`  files             ${files.transactions}, ${files.labels}, ${files.summary}`);
  return 0;
}
