// Every error code is documented once, with its meaning and fix, in docs/errors.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.js';
import { fromRoot } from '../src/package-root.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(fromRoot('docs/errors.md'), 'utf8');
  const rows = doc.split('\n').filter((l) => l.startsWith('| `FRAUD_'));

  it('has one table row per code in src/errors.ts, with meaning and fix filled in', () => {
    const documented = rows.map((r) => /^\| `(FRAUD_[A-Z_]+)`/.exec(r)?.[1]);
    expect([...documented].sort()).toEqual(Object.values(ErrorCodes).sort());
    for (const r of rows) {
      const cells = r.split(' | ');
      expect(cells, r).toHaveLength(4);
      for (const c of cells) expect(c.replace(/\|/g, '').trim().length, r).toBeGreaterThan(4);
    }
  });
});
