// `fraudscore simulate`: the handbook's transaction simulator to Avro container files.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { labelType, transactionType } from '../avro/schemas.js';
import { SIMULATE_OPTIONS } from '../config/command-options.js';
import { parseOptions } from '../config/parse-options.js';
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
import { Progress } from './progress.js';

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
  const f = parseOptions('simulate', SIMULATE_OPTIONS, argv).values;
  const t0 = performance.now();
  const { counts, files } = await runSimulation({ ...f, outDir: f.out });
  const secs = (performance.now() - t0) / 1000;
  const pct = (x: number) => `${(100 * x).toFixed(3)} %`;
  console.log(`fraudscore simulate — seed ${f.seed}, ${secs.toFixed(1)} s`);
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
