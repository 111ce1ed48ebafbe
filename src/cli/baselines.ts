// `fraudscore baselines`: rewrites the drift baselines of model manifests from the backfill's rows.

import { readFile } from 'node:fs/promises';
import { BASELINES_OPTIONS } from '../config/command-options.js';
import { parseOptions } from '../config/parse-options.js';
import { parseRows } from '../simulate/backfill.js';
import { writeBaselines } from '../training/baselines.js';

export async function baselinesCommand(argv: string[]): Promise<number> {
  const f = parseOptions('baselines', BASELINES_OPTIONS, argv).values;
  const rows = parseRows(await readFile(f.rows, 'utf8'));
  for (const dir of f.model) {
    const r = await writeBaselines(rows, dir, f.trainStart);
    const bins = Object.entries(r.baselines.features).map(([k, h]) => `${k} ${h.proportions.length}`);
    console.log(`${dir}: baselines from ${r.train} training-week rows, score from ${r.delay} delay-week rows`);
    console.log(`  bins: ${bins.join(', ')}, score ${r.baselines.score.proportions.length}`);
  }
  return 0;
}
