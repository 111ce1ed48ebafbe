// `fraudscore baselines`: rewrites the drift baselines of model manifests from the backfill's rows.

import { readFile } from 'node:fs/promises';
import { parseRows } from '../simulate/backfill.js';
import { writeBaselines } from '../training/baselines.js';
import { type FlagSpec, flagsHelp, parseFlags, required } from './args.js';

const SPECS: readonly FlagSpec[] = [
  { flag: '--rows', kind: 'string', help: 'training-set CSV from `fraudscore backfill`' },
  { flag: '--model', kind: 'string', default: 'models/champion', help: 'model folder(s), comma-separated' },
  {
    flag: '--train-start',
    kind: 'string',
    default: '',
    help: "first day of the training week (default: the manifest's trained_on.protocol.train)",
  },
];

export async function baselinesCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      flagsHelp(
        'fraudscore baselines --rows F [--model DIR[,DIR]]',
        'Rewrites manifest.baseline of each model: every feature over its training week and the score over\n' +
          'the delay week, with the histogram definition the live drift windows use. The model is unchanged.',
        SPECS,
      ),
    );
    return 0;
  }
  const f = parseFlags('baselines', argv, SPECS);
  const rows = parseRows(await readFile(required('baselines', f, '--rows'), 'utf8'));
  for (const dir of String(f['model']).split(',').filter(Boolean)) {
    const r = await writeBaselines(rows, dir, (f['trainStart'] as string) || undefined);
    const bins = Object.entries(r.baselines.features).map(([k, h]) => `${k} ${h.proportions.length}`);
    console.log(`${dir}: baselines from ${r.train} training-week rows, score from ${r.delay} delay-week rows`);
    console.log(`  bins: ${bins.join(', ')}, score ${r.baselines.score.proportions.length}`);
  }
  return 0;
}
