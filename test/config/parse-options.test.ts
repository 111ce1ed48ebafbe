import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { defineOptions } from '../../src/config/option-spec.js';
import { parseOptions } from '../../src/config/parse-options.js';

const TABLE = defineOptions([
  { key: 'count', flag: '--count', env: 'T_COUNT', kind: 'int', default: '10', min: 1, help: 'count' },
  { key: 'seed', flag: '--seed', env: 'T_SEED', kind: 'int', help: 'seed' },
  { key: 'quiet', flag: '--quiet', env: 'T_QUIET', kind: 'bool', default: 'false', help: 'quiet' },
  { key: 'mode', flag: '--mode', env: 'T_MODE', kind: 'enum', choices: ['a', 'b'], default: 'a', help: 'mode' },
  { key: 'name', flag: '--name', env: 'T_NAME', kind: 'string', required: true, help: 'name' },
]);

function problems(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    parseOptions('t', TABLE, argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

describe('parseOptions', () => {
  it('types the config from the table: defaults, flags over variables, =value for booleans', () => {
    const { values, given } = parseOptions('t', TABLE, ['--name', 'x', '--quiet=false', '--count=3'], {
      T_COUNT: '7',
      T_MODE: 'b',
      T_SEED: '',
    });
    const count: number = values.count;
    const seed: number | undefined = values.seed;
    const mode: 'a' | 'b' = values.mode;
    expect({ count, seed, mode, quiet: values.quiet, name: values.name }).toEqual({
      count: 3,
      seed: undefined,
      mode: 'b',
      quiet: false,
      name: 'x',
    });
    expect([...given].sort()).toEqual(['count', 'mode', 'name', 'quiet']);
  });

  it('a value-taking flag does not swallow the next flag, which still counts', () => {
    expect(problems(['--name', 'x', '--count', '--seed', '5'])).toEqual([
      '--count needs a value, got the option --seed',
    ]);
    const { values } = parseOptions('t', TABLE, ['--name', 'x', '--seed', '-5']);
    expect(values.seed).toBe(-5);
  });

  it('reports every problem at once, naming the flag or the variable', () => {
    expect(
      problems(['--count', '0', '--mode', 'c', '--bogus', 'v', 'stray', '--quiet=maybe'], { T_SEED: '1.5' }),
    ).toEqual([
      'unknown option "--bogus"; see fraudscore t --help',
      'unexpected argument "stray"; see fraudscore t --help',
      '--count 0: must be at least 1',
      'T_SEED=1.5: must be a whole number',
      '--quiet "maybe": must be true or false',
      '--mode "c": must be one of a, b',
      '--name is required (or set T_NAME); see fraudscore t --help',
    ]);
  });
});
