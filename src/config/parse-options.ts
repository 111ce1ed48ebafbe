// Command line + environment → a command's typed config, every problem collected and reported at once.
//
// node:util parseArgs splits the arguments (`--a b`, `--a=b`, `--`, short flags) and says where each
// one came from. It runs in non-strict mode, because strict mode throws at the first problem (we report
// them all), cannot give a boolean an explicit `=false`, and calls `--days -3` ambiguous instead of out of
// range. What strict mode would add, this file does: unknown flags, stray arguments, and a value-taking
// flag that would swallow the next flag (`--count --no-http`: that is a missing value, and `--no-http`
// still counts as given).

import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config-error.js';
import { conforms, type OptionSpec, type OptionsOf, type ParsedValue } from './option-spec.js';

export interface Parsed<T extends readonly OptionSpec[]> {
  values: OptionsOf<T>;
  /** Keys given by a flag or an environment variable (not defaulted). */
  given: ReadonlySet<string>;
  /** How the user named an option's value in a message: `--max-batch` or `FRAUDSCORE_MAX_BATCH`. */
  nameOf(key: string): string;
}

/** Adds a problem; cross-option checks use it so that they are reported with the rest. */
export type Problem = (message: string) => void;

/**
 * Flags win over environment variables (empty ones count as unset), which win over defaults. Throws a
 * ConfigError listing every problem, those of `check` (cross-option rules) included.
 */
export function parseOptions<const T extends readonly OptionSpec[]>(
  command: string,
  specs: T,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  check?: (parsed: Parsed<T>, problem: Problem) => void,
): Parsed<T> {
  const problems: string[] = [];
  const byFlag = new Map(specs.map((s) => [s.flag.replace(/^--/, ''), s]));
  const given = new Map<string, { value: string; from: string }>();
  for (const s of specs) {
    const v = env[s.env];
    if (v !== undefined && v !== '') given.set(s.key, { value: v, from: s.env });
  }
  for (const [flag, value] of readFlags(command, argv, byFlag, problems)) {
    const s = byFlag.get(flag);
    if (s !== undefined) given.set(s.key, { value, from: s.flag });
  }

  const values: Record<string, ParsedValue> = {};
  for (const s of specs) {
    const g = given.get(s.key);
    if ((g === undefined && s.default === undefined) || (s.required === true && g?.value === '')) {
      if (s.required === true)
        problems.push(`${s.flag} is required (or set ${s.env}); see fraudscore ${command} --help`);
      values[s.key] = placeholder(s);
      continue;
    }
    const raw = g?.value ?? s.default ?? '';
    const where = g === undefined ? `${s.flag} default ` : g.from.startsWith('--') ? `${g.from} ` : `${g.from}=`;
    values[s.key] = parseValue(s, raw, where, problems);
  }
  if (!conforms(values, specs)) throw new Error(`bug: ${command}'s options do not match their table`);
  const parsed: Parsed<T> = {
    values,
    given: new Set(given.keys()),
    nameOf: (key) => {
      const s = specs.find((o) => o.key === key);
      return given.get(key)?.from ?? s?.flag ?? key;
    },
  };
  check?.(parsed, (m) => problems.push(m));
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed;
}

/** [flag without dashes, value] pairs in command-line order; booleans get 'true' unless `--flag=value`. */
function readFlags(
  command: string,
  argv: readonly string[],
  byFlag: ReadonlyMap<string, OptionSpec>,
  problems: string[],
): [string, string][] {
  const options = Object.fromEntries(
    [...byFlag].map(([name, s]) => [name, { type: s.kind === 'bool' ? ('boolean' as const) : ('string' as const) }]),
  );
  const out: [string, string][] = [];
  let start = 0;
  scan: while (start < argv.length) {
    const { tokens } = parseArgs({
      args: argv.slice(start),
      options,
      strict: false,
      allowPositionals: true,
      tokens: true,
    });
    let afterUnknown = false;
    for (const t of tokens) {
      if (t.kind === 'option-terminator') continue;
      if (t.kind === 'positional') {
        // The value of an unknown option is not a second problem.
        if (!afterUnknown)
          problems.push(`unexpected argument ${JSON.stringify(t.value)}; see fraudscore ${command} --help`);
        afterUnknown = false;
        continue;
      }
      afterUnknown = false;
      const s = byFlag.get(t.name);
      if (s === undefined || !t.rawName.startsWith('--')) {
        problems.push(`unknown option ${JSON.stringify(t.rawName)}; see fraudscore ${command} --help`);
        afterUnknown = t.value === undefined;
        continue;
      }
      if (s.kind === 'bool') {
        out.push([t.name, t.value ?? 'true']);
        continue;
      }
      if (t.value === undefined) {
        problems.push(`${t.rawName} needs a value; see fraudscore ${command} --help`);
        continue;
      }
      if (!t.inlineValue && looksLikeFlag(t.value)) {
        // parseArgs took the next flag as this one's value: report it and read on from that flag.
        problems.push(`${t.rawName} needs a value, got the option ${t.value}`);
        start += t.index + 1;
        continue scan;
      }
      out.push([t.name, t.value]);
    }
    break;
  }
  return out;
}

/** `-3` and `-0.5` are values; `--x`, `-h` are flags. */
function looksLikeFlag(v: string): boolean {
  return v.startsWith('-') && v.length > 1 && !/^-(\d|\.\d)/.test(v);
}

/** Absent: undefined; a missing required option holds a placeholder while the other problems are collected. */
function placeholder(s: OptionSpec): ParsedValue {
  if (s.required !== true) return undefined;
  switch (s.kind) {
    case 'int':
    case 'number':
    case 'time':
      return Number.NaN;
    case 'bool':
      return false;
    case 'list':
      return [];
    case 'enum':
      return s.choices?.[0] ?? '';
    default:
      return '';
  }
}

/** One value from a flag, a variable or a default; a problem names where it came from. */
function parseValue(s: OptionSpec, value: string, where: string, problems: string[]): ParsedValue {
  // Paths as written (they name a file the user can look for); other text quoted, so a space shows.
  const shown = s.kind === 'file' || /^-?\d+(\.\d+)?$/.test(value) ? value : JSON.stringify(value);
  const bad = (why: string) => problems.push(`${where}${shown}: ${why}`);
  switch (s.kind) {
    case 'string':
      return value;
    case 'list': {
      const items = value
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
      if (items.length === 0) bad('is empty');
      return items;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      bad('must be true or false');
      return false;
    case 'enum': {
      const choices = s.choices ?? [];
      if (choices.includes(value)) return value;
      bad(`must be one of ${choices.join(', ')}`);
      return s.default !== undefined && choices.includes(s.default) ? s.default : (choices[0] ?? '');
    }
    case 'file':
      try {
        if (!statSync(value).isFile()) bad('not a file');
      } catch {
        bad('no such file');
      }
      return value;
    case 'date':
      if (Number.isNaN(Date.parse(value))) bad('not a date (use YYYY-MM-DD)');
      return value;
    case 'time': {
      const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
      if (Number.isNaN(t)) bad('not a time (ISO 8601 or epoch ms)');
      return t;
    }
    case 'int':
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || (s.kind === 'int' && !Number.isInteger(n))) {
        bad(s.kind === 'int' ? 'must be a whole number' : 'must be a number');
        return Number.NaN;
      }
      const range = rangeText(s);
      if (
        (s.min !== undefined && n < s.min) ||
        (s.max !== undefined && n > s.max) ||
        (s.above !== undefined && !(n > s.above))
      ) {
        bad(`must be ${range}`);
      }
      return n;
    }
  }
}

/** '1 to 3660', 'at least 1', 'above 0', or '' when any value goes. */
export function rangeText(s: Pick<OptionSpec, 'min' | 'max' | 'above'>): string {
  if (s.above !== undefined) return s.max === undefined ? `above ${s.above}` : `above ${s.above} and at most ${s.max}`;
  if (s.min !== undefined && s.max !== undefined) return `between ${s.min} and ${s.max}`;
  if (s.min !== undefined) return `at least ${s.min}`;
  if (s.max !== undefined) return `at most ${s.max}`;
  return '';
}
