// `fraudscore backfill`: the training set, from the live path's FeatureStore code.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BACKFILL_OPTIONS } from '../config/command-options.js';
import { parseOptions } from '../config/parse-options.js';
import { MemoryFeatureStore } from '../features/memory-store.js';
import { readContainer } from '../io/avro-file.js';
import { RowWriter, replay } from '../simulate/backfill.js';
import type { Label, Transaction } from '../types.js';
import { Progress } from './progress.js';

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
  const f = parseOptions('backfill', BACKFILL_OPTIONS, argv).values;
  const r = await runBackfill(f);
  console.log(
    `fraudscore backfill — ${r.rows.toLocaleString('en-US')} rows (${r.frauds.toLocaleString('en-US')} labelled fraud) in ${r.seconds.toFixed(1)} s → ${f.out}`,
  );
  return 0;
}
