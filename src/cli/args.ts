// A small flag parser for the commands that are not `run` (simulate, backfill, train-challenger, evaluate, …).

import { ErrorCodes, FraudError } from '../errors.js';

export interface FlagSpec {
  /** e.g. '--seed' */
  flag: string;
  kind: 'string' | 'int' | 'number' | 'bool';
  default?: string | number | boolean;
  help: string;
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
      if (i + 1 >= argv.length) throw new FraudError(ErrorCodes.INVALID_CONFIG, `${name} needs a value`);
      raw = argv[++i];
    }
    if (spec.kind === 'string') out[key(spec.flag)] = raw;
    else {
      const v = Number(raw);
      if (!Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) {
        throw new FraudError(
          ErrorCodes.INVALID_CONFIG,
          `${name} ${JSON.stringify(raw)} is not ${spec.kind === 'int' ? 'an integer' : 'a number'}`,
        );
      }
      out[key(spec.flag)] = v;
    }
  }
  return out;
}

export function flagsHelp(usage: string, summary: string, specs: readonly FlagSpec[]): string {
  const width = Math.max(...specs.map((s) => s.flag.length + (s.kind === 'bool' ? 0 : 4)));
  return [
    `Usage: ${usage}`,
    '',
    summary,
    '',
    'Options:',
    ...specs.map((s) => {
      const left = s.kind === 'bool' ? s.flag : `${s.flag} <${s.kind === 'string' ? 's' : 'n'}>`;
      const def = s.default === undefined ? '' : ` (default ${JSON.stringify(s.default)})`;
      return `  ${left.padEnd(width + 2)}  ${s.help}${def}`;
    }),
  ].join('\n');
}

/** A required string flag. */
export function required(command: string, flags: Flags, flag: string): string {
  const v = flags[key(flag)];
  if (typeof v !== 'string' || v === '') {
    throw new FraudError(ErrorCodes.INVALID_CONFIG, `${command}: ${flag} is required`);
  }
  return v;
}
