// Errors at the boundary: every command answers a missing file or a bad value with one line naming
// the flag, the code FRAUD_INVALID_CONFIG and exit code 2, before it opens any connection or file;
// several problems give one line each, all at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_SPECS } from '../../src/cli/commands.js';
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
  vi.unstubAllEnvs();
});

/** Runs the CLI in-process; expects exit 2 and one stderr line per pattern, in order. */
async function rejectsAll(argv: string[], lines: RegExp[]): Promise<void> {
  stderr = [];
  const started = Date.now();
  const code = await main(argv);
  const out = stderr.join('\n').split('\n');
  expect(out, out.join('\n')).toHaveLength(lines.length);
  for (const [i, line] of lines.entries()) {
    expect(out[i]).toMatch(line);
    expect(out[i]).toMatch(new RegExp(`^fraudscore ${argv[0]}: .*\\[FRAUD_INVALID_CONFIG\\]$`));
  }
  expect(out.join('\n')).not.toMatch(/\n\s+at /);
  expect(code).toBe(2);
  expect(Date.now() - started).toBeLessThan(2000);
}

const rejects = (argv: string[], line: RegExp) => rejectsAll(argv, [line]);

// Unreachable: a command that got as far as connecting would fail differently (and slowly).
const NO_BROKER = ['--brokers', '127.0.0.1:1'];

describe('fraudscore run', () => {
  it('a missing model folder', () =>
    rejects(['run', '--model', 'models/nope'], /--model \/ FRAUDSCORE_MODEL_DIR: no manifest\.json in/));
  it('bad values', () =>
    rejects(['run', '--max-batch', '0'], /^fraudscore run: --max-batch 0: must be between 1 and 8192/));
  it('a value-taking flag never takes the next flag: --count --no-http', () =>
    rejects(['run', '--count', '--no-http'], /--count needs a value, got the option --no-http/));
  it('a bad environment variable names the variable', async () => {
    vi.stubEnv('FRAUDSCORE_MAX_WAIT_MS', 'soon');
    await rejects(['run'], /FRAUDSCORE_MAX_WAIT_MS="soon": must be a number/);
  });
});

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
  it('--from is required', () =>
    rejects(['replay', ...NO_BROKER], /--from is required \(or set FRAUDSCORE_REPLAY_FROM\)/));
  it('bad values', () =>
    rejects(['replay', '--from', 'package.json', '--chunk', '0'], /--chunk 0: must be between 1 and 100000/));
  it('a flag where a value belongs', () =>
    rejectsAll(
      ['replay', '--from', 'package.json', '--chunk', '--plain', '--brokers', 'nohost'],
      [/--chunk needs a value, got the option --plain/, /--brokers entries must be host:port, got "nohost"/],
    ));
  it('negative rate', () =>
    rejects(['replay', '--from', 'package.json', '--rate', '-5'], /--rate -5: must be above 0/));
  it('a bad --since', () =>
    rejects(['replay', '--from', 'package.json', '--since', 'yesterday'], /--since "yesterday": not a time/));
});

describe('fraudscore evaluate', () => {
  it('missing --rows file', () => rejects(['evaluate', '--rows', 'missing.csv'], /--rows missing\.csv: no such file/));
  it('a folder as --rows', () => rejects(['evaluate', '--rows', 'models'], /--rows models: not a file/));
  it('bad --train-start', () =>
    rejects(['evaluate', '--rows', 'package.json', '--train-start', 'soon'], /--train-start "soon": not a date/));
  it('--rows is required for one draw; draws options are not silently ignored', () =>
    rejectsAll(
      ['evaluate', '--customers', '10'],
      [/--customers does not apply to evaluate one draw/, /--rows is required/],
    ));
  it('--draws 0 and a missing report', async () => {
    await rejects(['evaluate', '--draws', '0'], /--draws 0: must be between 1 and 1000/);
    await rejects(['evaluate', '--update-docs', '--report', 'nope.json'], /--report nope\.json: no such file/);
  });
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
  it('every problem at once, one line each', () =>
    rejectsAll(
      ['backfill', '--batch-size', 'lots'],
      [
        /--transactions is required/,
        /--labels is required/,
        /--out is required/,
        /--batch-size "lots": must be a whole number/,
      ],
    ));
});

describe('fraudscore simulate', () => {
  it('--days -3', () =>
    rejects(['simulate', '--days', '-3'], /^fraudscore simulate: --days -3: must be between 1 and 3660/));
  it('--customers 0 and an unknown codec', () =>
    rejectsAll(
      ['simulate', '--customers', '0', '--codec', 'zip'],
      [/--customers 0: must be between 1/, /--codec "zip": must be one of deflate, null/],
    ));
  it('a bad environment variable', async () => {
    vi.stubEnv('FRAUDSCORE_SIMULATE_DAYS', '-3');
    await rejects(['simulate'], /FRAUDSCORE_SIMULATE_DAYS=-3: must be between 1 and 3660/);
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

describe('fraudscore baselines', () => {
  it('missing --rows file', () => rejects(['baselines', '--rows', 'missing.csv'], /--rows missing\.csv: no such file/));
  it('bad --train-start', () =>
    rejects(['baselines', '--rows', 'package.json', '--train-start', 'x'], /--train-start "x": not a date/));
});

describe('fraudscore rescore', () => {
  const args = ['--since', '2018-09-01', '--until', '2018-09-02', '--model', 'models/champion', '--out-topic', 't'];
  it('a missing model folder', () =>
    rejects(
      ['rescore', ...args, '--model', 'models/nope', ...NO_BROKER],
      /--model \/ FRAUDSCORE_RESCORE_MODEL: no manifest\.json/,
    ));
  it('bad values', () =>
    rejectsAll(
      [
        'rescore',
        '--since',
        'soon',
        '--until',
        '2018-09-02',
        '--model',
        'models/champion',
        '--max-batch',
        '0',
        ...NO_BROKER,
      ],
      [/--since "soon": not a time/, /--out-topic is required/, /--max-batch 0: must be between 1 and 8192/],
    ));
  it('--since after --until', () =>
    rejects(['rescore', ...args, '--until', '2018-08-01', ...NO_BROKER], /--since must be before --until/));
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
  it('rejects an unknown option (its value is not a second problem)', () =>
    rejects(['simulate', '--dayz', '3'], /unknown option "--dayz"; see fraudscore simulate --help/));
  it('rejects a stray argument', () => rejects(['simulate', 'now'], /unexpected argument "now"/));
  it('rejects an invalid FRAUDSCORE_LOG_LEVEL at start', async () => {
    vi.stubEnv('FRAUDSCORE_LOG_LEVEL', 'verbose');
    await rejects(
      ['simulate', '--days', '1'],
      /FRAUDSCORE_LOG_LEVEL="verbose" is not a log level: use one of trace, debug/,
    );
  });
  it('an unknown command is a usage error', async () => {
    expect(await main(['simulat'])).toBe(2);
    expect(stderr[0]).toMatch(/^fraudscore: unknown command "simulat"/);
  });

  it('has one help format: usage, description, then every flag with its variable', async () => {
    for (const [name, spec] of Object.entries(COMMAND_SPECS)) {
      stdout = [];
      expect(await main([name, '--help'])).toBe(0);
      const help = stdout.join('\n');
      expect(help.startsWith(`Usage: fraudscore ${name}`), name).toBe(true);
      expect(help).toContain('Options (flag, environment variable, default):');
      for (const o of spec.options) {
        expect(help).toMatch(new RegExp(`^  ${o.flag}\\b`, 'm'));
        expect(help).toContain(`env ${o.env}`);
      }
    }
  });

  it('every option of a command has its own flag, key and environment variable', () => {
    for (const [name, spec] of Object.entries(COMMAND_SPECS)) {
      for (const field of ['flag', 'key', 'env'] as const) {
        const seen = spec.options.map((o) => o[field]);
        expect(new Set(seen).size, `${name}: a repeated ${field}`).toBe(seen.length);
      }
    }
  });
});
