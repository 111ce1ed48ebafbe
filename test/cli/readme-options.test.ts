// The README documents every option of every command, as the tables say (npm run docs:options).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS } from '../../src/cli/commands.js';
import { optionsReference } from '../../src/cli/options-reference.js';
import { fromRoot } from '../../src/package-root.js';

/** Table rows as biome formats them (padded cells) and as generated compare equal. */
const unpadded = (s: string) => s.replace(/ {2,}/g, ' ').replace(/-{3,}/g, '---');

describe('README options reference', () => {
  const readme = readFileSync(fromRoot('README.md'), 'utf8');

  it('is the one generated from the option tables (run npm run docs:options)', () => {
    expect(unpadded(readme)).toContain(unpadded(optionsReference()));
  });

  it('lists every flag and environment variable of every command', () => {
    for (const [name, c] of Object.entries(COMMAND_SPECS)) {
      for (const o of c.options) {
        expect(readme, `${name} ${o.flag}`).toContain(`\`${o.flag}`);
        expect(readme, `${name} ${o.env}`).toContain(`\`${o.env}\``);
      }
    }
  });
});
