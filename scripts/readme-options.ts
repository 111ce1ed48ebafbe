// npm run docs:options: rewrites README.md's options reference from the option tables.
import { readFileSync, writeFileSync } from 'node:fs';
import { withOptionsReference } from '../src/cli/options-reference.js';
import { fromRoot } from '../src/package-root.js';

const file = fromRoot('README.md');
writeFileSync(file, withOptionsReference(readFileSync(file, 'utf8')));
console.log(`wrote the options reference in ${file}`);
