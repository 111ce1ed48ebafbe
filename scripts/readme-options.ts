// npm run docs:options: rewrites README.md's options reference from the option tables.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { withOptionsReference } from '../src/cli/options-reference.js';
import { fromRoot } from '../src/package-root.js';

const file = fromRoot('README.md');
writeFileSync(file, withOptionsReference(readFileSync(file, 'utf8')));
// Pads the tables as `npm run lint` expects them.
execFileSync(fromRoot('node_modules/.bin/biome'), ['format', '--write', file], { stdio: 'ignore' });
console.log(`wrote the options reference in ${file}`);
