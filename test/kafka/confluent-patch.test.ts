import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../src/package-root.js';

/** The installed binding's directory, or undefined when the optional client is not installed. */
function bindingDir(): string | undefined {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('@confluentinc/kafka-javascript/package.json'));
  } catch {
    return undefined;
  }
}

describe("install: the confluent binding's record conversion (scripts/patch-confluent.mjs)", () => {
  it('is patched and built when npm ci built the binding from source, and says why not otherwise', () => {
    const out = execFileSync(process.execPath, [fromRoot('scripts/patch-confluent.mjs')], { encoding: 'utf8' });
    const dir = bindingDir();
    if (dir === undefined) {
      expect(out).toMatch(/not installed: nothing to patch/);
      return;
    }
    if (/not built from source here|version .* not 1\.10\.1/.test(out)) return;
    // postinstall ran at npm ci: running it again finds the source patched and the binary newer.
    expect(out).toMatch(/already patched and built/);
    expect(readFileSync(path.join(dir, 'src', 'common.cc'), 'utf8')).toContain('fraudscore: interned property names');
  });
});
