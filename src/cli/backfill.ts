// `fraudscore backfill`: the training set, from the live path's FeatureStore code.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MemoryFeatureStore } from '../features/memory-store.js';
import { readContainer } from '../io/avro-file.js';
import { RowWriter, replay } from '../simulate/backfill.js';
import type { Label, Transaction } from '../types.js';
import { existingFile, type FlagSpec, flagsHelp, parseFlags, required } from './args.js';
import { Progress } from './progress.js';

const SPECS: readonly FlagSpec[] = [
  { flag: '--transactions', kind: 'string', help: 'transactions Avro container file (fraudscore simulate)' },
  { flag: '--labels', kind: 'string', help: 'labels Avro container file (reported_time decides when each applies)' },
  { flag: '--out', kind: 'string', help: 'training-set CSV to write' },
  { flag: '--batch-size', kind: 'int', default: 256, min: 1, max: 65_536, help: 'transactions per enrich() call' },
  {
    flag: '--progress',
    kind: 'string',
    default: 'auto',
    choices: ['auto', 'on', 'off'],
    help: 'progress bar on stderr: auto (TTY), on, off',
  },
];

export interface BackfillResult {
  rows: number;
  frauds: number;
  seconds: number;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function runBackfill(o: {
  transactions: string;
  labels: string;
  out: string;
  batchSize?: number;
  progress?: 'auto' | 'on' | 'off';
}): Promise<BackfillResult> {
  const t0 = performance.now();
  const mode = o.progress ?? 'off';
  const readBar = new Progress('backfill: reading', mode);
  const txs = await readContainer<Transaction>(o.transactions, (n) => readBar.update(n, undefined));
  const labels = await readContainer<Label>(o.labels, (n) => readBar.update(txs.length + n, undefined));
  readBar.done();
  const labelOf = new Map<string, boolean>();
  let frauds = 0;
  for (const l of labels) {
    labelOf.set(l.transaction_id, l.is_fraud);
    if (l.is_fraud) frauds++;
  }
  await mkdir(path.dirname(path.resolve(o.out)), { recursive: true });
  const writer = new RowWriter(o.out, (id) => labelOf.get(id));
  const store = new MemoryFeatureStore();
  const bar = new Progress('backfill: features', mode);
  await replay(store, txs, labels, {
    batchSize: o.batchSize,
    onBatch: (b, n, features) => writer.write(b, n, features),
    onProgress: (d, t) => bar.update(d, t),
  });
  bar.done();
  await writer.end();
  await store.close();
  return { rows: writer.rows, frauds, seconds: (performance.now() - t0) / 1000 };
}

export async function backfillCommand(argv: string[]): Promise<number> {
  const usage = 'fraudscore backfill --transactions F --labels F --out F [options]';
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      flagsHelp(
        usage,
        'Replays transactions in event-time order through the in-memory FeatureStore (the live path’s code),\n' +
          'applying each label at its reported_time, and writes one CSV row per transaction: the 15 features\n' +
          '(exact Float32 values), is_fraud, transaction_id, customer_id, terminal_id, event_time (epoch ms),\n' +
          'amount_minor.',
        SPECS,
      ),
    );
    return 0;
  }
  const f = parseFlags('backfill', argv, SPECS);
  const r = await runBackfill({
    transactions: existingFile('--transactions', required('backfill', f, '--transactions')),
    labels: existingFile('--labels', required('backfill', f, '--labels')),
    out: required('backfill', f, '--out'),
    batchSize: f['batchSize'] as number,
    progress: f['progress'] as 'auto' | 'on' | 'off',
  });
  console.log(
    `fraudscore backfill — ${r.rows.toLocaleString('en-US')} rows (${r.frauds.toLocaleString('en-US')} labelled fraud) in ${r.seconds.toFixed(1)} s → ${f['out']}`,
  );
  return 0;
}
