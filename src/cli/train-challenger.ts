// `fraudscore train-challenger`: the TF.js MLP challenger from the backfill's rows.

import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TRAIN_CHALLENGER_OPTIONS } from '../config/command-options.js';
import { parseOptions } from '../config/parse-options.js';
import { trainChallenger } from '../training/challenger.js';

export async function trainChallengerCommand(argv: string[]): Promise<number> {
  const f = parseOptions('train-challenger', TRAIN_CHALLENGER_OPTIONS, argv).values;
  const { rows, out } = f;
  const r = await trainChallenger({
    rows,
    out,
    epochs: f.epochs,
    seed: f.seed,
    trainStart: f.trainStart,
    log: (line) => console.error(line),
  });
  // Provenance: the rows' hash (the manifest is written before the hash so training is not delayed).
  const hash = createHash('sha256')
    .update(await readFile(rows))
    .digest('hex');
  const file = path.join(out, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  manifest.trained_on.data = { rows: { path: rows, sha256: hash } };
  await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
  const m = r.manifest.metrics;
  console.log(
    `fraudscore train-challenger — ${r.backend} backend, ${r.seconds.toFixed(1)} s → ${out}\n` +
      `  test week: AUC ${m['auc_roc']} AP ${m['average_precision']} CP@100 ${m['card_precision_at_100']}`,
  );
  return 0;
}
