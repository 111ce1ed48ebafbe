// `fraudscore train-challenger`: the TF.js MLP challenger from the backfill's rows.

import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { trainChallenger } from '../training/challenger.js';
import { dateFlag, existingFile, type FlagSpec, flagsHelp, parseFlags, required } from './args.js';

const SPECS: readonly FlagSpec[] = [
  { flag: '--rows', kind: 'string', help: 'training-set CSV from `fraudscore backfill`' },
  { flag: '--out', kind: 'string', default: 'models/challenger', help: 'model folder to write' },
  { flag: '--epochs', kind: 'int', default: 20, min: 1, max: 10_000, help: 'training epochs' },
  {
    flag: '--seed',
    kind: 'int',
    default: 0,
    min: 0,
    max: 2 ** 32 - 1,
    help: 'weight initialisation and shuffling seed',
  },
  { flag: '--train-start', kind: 'string', default: '2018-07-25', help: 'first day of the training week' },
];

export async function trainChallengerCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      flagsHelp(
        'fraudscore train-challenger --rows F [options]',
        'Trains the MLP challenger with TF.js (tfjs-node when installed, else wasm) on the handbook protocol\n' +
          'and writes model.json, weights.bin and manifest.json (format tfjs).',
        SPECS,
      ),
    );
    return 0;
  }
  const f = parseFlags('train-challenger', argv, SPECS);
  const rows = existingFile('--rows', required('train-challenger', f, '--rows'));
  dateFlag('--train-start', f['trainStart'] as string);
  const out = f['out'] as string;
  const r = await trainChallenger({
    rows,
    out,
    epochs: f['epochs'] as number,
    seed: f['seed'] as number,
    trainStart: f['trainStart'] as string,
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
