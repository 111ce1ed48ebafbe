#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// V8 moves the allocation sites whose objects often survive a young-generation GC to the old
// generation. A scorer's in-flight records and decisions live a few tens of milliseconds, just long
// enough to be caught, so sites were moved, and every young-generation GC then had to scan those
// old objects' references to young ones: at 12,500 tx/s its pauses took 13–15 ms at the median with
// this on, 7–8 ms with it off, and the at-least-once p99 went from 65–90 to 39–51 ms (README,
// Benchmarks). Set before anything is compiled; NODE_OPTIONS naming it wins.
if (!/pretenuring/.test(process.env.NODE_OPTIONS ?? '')) setFlagsFromString('--no-allocation-site-pretenuring');

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('fraudscore is not built yet: run `npm ci` (or `npm run build`) in the project folder first.');
  process.exit(2);
}
// kafkajs 2.2.4 arms a timer with a negative delay on every connection (tulios/kafkajs#1751, open);
// Node 23+ reports it as TimeoutNegativeWarning and clamps the delay to 1 ms, which is what kafkajs
// meant. That one warning says nothing to a user: drop it, keep every other.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'TimeoutNegativeWarning' || warning?.name === 'TimeoutNegativeWarning') return;
  return emitWarning.call(process, warning, ...rest);
};
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// The command is over: exit once the event loop drains, and at the latest a second later, so that a
// client left connected by a failure can never keep the process alive.
setTimeout(() => process.exit(code), 1000).unref();
