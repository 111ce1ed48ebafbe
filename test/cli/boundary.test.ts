// Errors at the boundary: every command answers a missing file or a bad value with one line naming
// the flag, the code FRAUD_INVALID_CONFIG and exit code 2, before it opens any connection or file.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

let stderr: string[];
let stdout: string[];

beforeEach(() => {
  stderr = [];
  stdout = [];
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void stderr.push(a.join(' ')));
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void stdout.push(a.join(' ')));
});

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.FRAUDSCORE_LOG_LEVEL;
});

/** Runs the CLI in-process; expects exit 2 and exactly one stderr line matching `line`. */
async function rejects(argv: string[], line: RegExp): Promise<void> {
  const started = Date.now();
  const code = await main(argv);
  expect(stderr.join('\n').split('\n')).toHaveLength(1);
  expect(stderr[0]).toMatch(line);
  expect(stderr[0]).toMatch(/\[FRAUD_INVALID_CONFIG\]$/);
  expect(stderr[0]).not.toMatch(/\n\s+at /);
  expect(code).toBe(2);
  expect(Date.now() - started).toBeLessThan(2000);
}

// Unreachable: a command that got as far as connecting would fail differently (and slowly).
const NO_BROKER = ['--brokers', '127.0.0.1:1'];

describe('fraudscore replay', () => {
  it('missing --from file', () =>
    rejects(
      ['replay', '--from', 'missing.avro', ...NO_BROKER],
      /^fraudscore replay: --from missing\.avro: no such file/,
    ));
  it('missing --labels file', () =>
    rejects(
      ['replay', '--from', 'package.json', '--labels', 'nope.csv', ...NO_BROKER],
      /--labels nope\.csv: no such file/,
    ));
  it('bad values', async () => {
    await rejects(['replay', '--from', 'package.json', '--chunk', '0'], /--chunk 0: must be between 1 and 100000/);
  });
  it('a flag where a value belongs', () => rejects(['replay', '--chunk', '--plain'], /--chunk needs a value/));
  it('negative rate', () =>
    rejects(['replay', '--from', 'package.json', '--rate', '-5'], /--rate -5: must be above 0/));
});

describe('fraudscore evaluate', () => {
  it('missing --rows file', () => rejects(['evaluate', '--rows', 'missing.csv'], /--rows missing\.csv: no such file/));
  it('a folder as --rows', () => rejects(['evaluate', '--rows', 'models'], /--rows models: not a file/));
  it('bad --train-start', () =>
    rejects(['evaluate', '--rows', 'package.json', '--train-start', 'soon'], /--train-start "soon": not a date/));
});

describe('fraudscore backfill', () => {
  it('missing --transactions file', () =>
    rejects(
      ['backfill', '--transactions', 'missing.avro', '--labels', 'package.json', '--out', 'x.csv'],
      /--transactions missing\.avro: no such file/,
    ));
  it('--batch-size 0', () =>
    rejects(
      ['backfill', '--transactions', 'package.json', '--labels', 'package.json', '--out', 'x.csv', '--batch-size', '0'],
      /--batch-size 0: must be between 1 and 65536/,
    ));
  it('--batch-size that is not a number', () =>
    rejects(['backfill', '--batch-size', 'lots'], /"lots" is not an integer/));
});

describe('fraudscore simulate', () => {
  it('--days -3', () =>
    rejects(['simulate', '--days', '-3'], /^fraudscore simulate: --days -3: must be between 1 and 3660/));
  it('--customers 0 and an unknown codec', async () => {
    await rejects(['simulate', '--customers', '0'], /--customers 0: must be between 1/);
    stderr = [];
    await rejects(['simulate', '--codec', 'zip'], /--codec "zip": expected deflate, null/);
  });
  it('an output folder under a file', () =>
    rejects(
      ['simulate', '--days', '1', '--customers', '1', '--terminals', '1', '--out', 'package.json/sim'],
      /package\.json\/sim: a part of the path is not a folder/,
    ));
});

describe('fraudscore train-challenger', () => {
  it('missing --rows file', () =>
    rejects(['train-challenger', '--rows', 'missing.csv'], /--rows missing\.csv: no such file/));
  it('--epochs 0', () =>
    rejects(['train-challenger', '--rows', 'package.json', '--epochs', '0'], /--epochs 0: must be between 1/));
});

describe('fraudscore backtest', () => {
  it('missing --labels file', () =>
    rejects(
      ['backtest', '--decisions', 't', '--labels', 'missing.avro', ...NO_BROKER],
      /--labels missing\.avro: no such file/,
    ));
  it('missing --model folder', () =>
    rejects(
      ['backtest', '--decisions', 't', '--labels', 't', '--model', 'models/nope', ...NO_BROKER],
      /--model models\/nope: no such folder/,
    ));
  it('missing --decisions', () => rejects(['backtest', '--labels', 't'], /--decisions is required/));
});

describe('every command', () => {
  it('rejects an unknown option', () => rejects(['simulate', '--dayz', '3'], /unknown option "--dayz"/));
  it('rejects an invalid FRAUDSCORE_LOG_LEVEL at start', async () => {
    process.env.FRAUDSCORE_LOG_LEVEL = 'verbose';
    await rejects(
      ['simulate', '--days', '1'],
      /FRAUDSCORE_LOG_LEVEL="verbose" is not a log level: use one of trace, debug/,
    );
  });
  it('an unknown command is a usage error', async () => {
    expect(await main(['simulat'])).toBe(2);
    expect(stderr[0]).toMatch(/^fraudscore: unknown command "simulat"/);
  });
});
