#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('fraudscore is not built yet: run `npm ci` (or `npm run build`) in the project folder first.');
  process.exit(2);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// The command is over: exit once the event loop drains, and at the latest a second later, so that a
// client left connected by a failure can never keep the process alive.
setTimeout(() => process.exit(code), 1000).unref();
