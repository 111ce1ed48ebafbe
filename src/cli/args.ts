// A small flag parser for the commands that are not `run` (simulate, backfill, train-challenger, evaluate, …).
// Every user mistake it finds is a FraudError INVALID_CONFIG: one line, exit 2.

import { statSync } from 'node:fs';
import { ErrorCodes, FraudError } from '../errors.js';

export interface FlagSpec {
  /** e.g. '--seed' */
  flag: string;
  kind: 'string' | 'int' | 'number' | 'bool';
  default?: string | number | boolean;
  help: string;
  /** Inclusive bounds for 'int' and 'number' flags. */
  min?: number;
  max?: number;
  /** 'number' flags that must be above zero (rates, factors). */
  positive?: boolean;
  /** The only values a 'string' flag accepts. */
  choices?: readonly string[];
}

export type Flags = Record<string, string | number | boolean | undefined>;

function key(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Parses `--name value`, `--name=value` and boolean `--name`; unknown flags are a usage error. */
export function parseFlags(command: string, argv: string[], specs: readonly FlagSpec[]): Flags {
  const out: Flags = {};
  for (const s of specs) out[key(s.flag)] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = specs.find((s) => s.flag === name);
    if (spec === undefined) {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `unknown option ${JSON.stringify(arg)}; see \`fraudscore ${command} --help\``,
      );
    }
    let raw: string;
    if (spec.kind === 'bool') {
      out[key(spec.flag)] = eq > 0 ? arg.slice(eq + 1) !== 'false' : true;
      continue;
    }
    if (eq > 0) raw = arg.slice(eq + 1);
    else {
      // `--count --no-http`: the next flag is not this one's value (a negative number still is).
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) {
        throw new FraudError(ErrorCodes.INVALID_CONFIG, `${name} needs a value`);
      }
      raw = argv[++i];
    }
    if (spec.kind === 'string') {
      if (spec.choices !== undefined && !spec.choices.includes(raw)) {
        throw new FraudError(
          ErrorCodes.INVALID_CONFIG,
          `${name} ${JSON.stringify(raw)}: expected ${spec.choices.join(', ')}`,
        );
      }
      out[key(spec.flag)] = raw;
    } else {
      const v = Number(raw);
      if (!Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) {
        throw new FraudError(
          ErrorCodes.INVALID_CONFIG,
          `${name} ${JSON.stringify(raw)} is not ${spec.kind === 'int' ? 'an integer' : 'a number'}`,
        );
      }
      checkRange(name, v, spec);
      out[key(spec.flag)] = v;
    }
  }
  return out;
}

function checkRange(name: string, v: number, spec: FlagSpec): void {
  const bad = (why: string) => new FraudError(ErrorCodes.INVALID_CONFIG, `${name} ${v}: ${why}`);
  if (spec.positive === true && !(v > 0)) throw bad('must be above 0');
  if (spec.min !== undefined && v < spec.min) {
    throw bad(spec.max === undefined ? `must be at least ${spec.min}` : `must be between ${spec.min} and ${spec.max}`);
  }
  if (spec.max !== undefined && v > spec.max) {
    throw bad(spec.min === undefined ? `must be at most ${spec.max}` : `must be between ${spec.min} and ${spec.max}`);
  }
}

/** An input file that must exist before any work starts (and before any connection is opened). */
export function existingFile(flag: string, file: string): string {
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new FraudError(ErrorCodes.INVALID_CONFIG, `${flag} ${file}: no such file`);
  }
  if (!isFile) throw new FraudError(ErrorCodes.INVALID_CONFIG, `${flag} ${file}: not a file`);
  return file;
}

/** A date flag (YYYY-MM-DD or any ISO 8601 time). */
export function dateFlag(flag: string, value: string): string {
  if (Number.isNaN(Date.parse(value))) {
    throw new FraudError(ErrorCodes.INVALID_CONFIG, `${flag} ${JSON.stringify(value)}: not a date (use YYYY-MM-DD)`);
  }
  return value;
}

export function flagsHelp(usage: string, summary: string, specs: readonly FlagSpec[]): string {
  const width = Math.max(
    ...specs.map((s) => s.flag.length + (s.kind === 'bool' ? 0 : 4 + (s.choices?.join('|').length ?? 1) - 1)),
  );
  return [
    `Usage: ${usage}`,
    '',
    summary,
    '',
    'Options:',
    ...specs.map((s) => {
      const value = s.choices?.join('|') ?? (s.kind === 'string' ? 's' : 'n');
      const left = s.kind === 'bool' ? s.flag : `${s.flag} <${value}>`;
      const def = s.default === undefined ? '' : ` (default ${JSON.stringify(s.default)})`;
      return `  ${left.padEnd(width + 2)}  ${s.help}${def}`;
    }),
  ].join('\n');
}

/** A required string flag. */
export function required(command: string, flags: Flags, flag: string): string {
  const v = flags[key(flag)];
  if (typeof v !== 'string' || v === '') {
    throw new FraudError(ErrorCodes.INVALID_CONFIG, `${flag} is required; see \`fraudscore ${command} --help\``);
  }
  return v;
}
