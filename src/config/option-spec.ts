// What one option is, once: flag, environment variable, kind, default, checks and help. Every command's
// options are a table of these (src/config/options.ts, src/config/command-options.ts); the parser, the
// help text and the README check are generated from the tables, and so is each command's config type.

/**
 * string, list (comma-separated), enum (one of `choices`), bool, int, number; file (a file that must
 * exist, checked before any work starts), date (YYYY-MM-DD or ISO 8601, kept as given), time (ISO 8601
 * or epoch ms, as epoch ms).
 */
export type OptionKind = 'string' | 'int' | 'number' | 'list' | 'enum' | 'bool' | 'file' | 'date' | 'time';

export interface OptionSpec {
  /** Property of the parsed config. */
  key: string;
  /** e.g. '--max-batch'. */
  flag: string;
  /** e.g. 'FRAUDSCORE_MAX_BATCH'; a flag wins over its variable, which wins over the default. */
  env: string;
  kind: OptionKind;
  /** As it would be written on the command line; parsed and checked like a given value. */
  default?: string | undefined;
  help: string;
  /** The values an 'enum' accepts. */
  choices?: readonly string[];
  /** Inclusive bounds of an 'int' or 'number'. */
  min?: number;
  max?: number;
  /** Exclusive lower bound (rates, factors: `above: 0`). */
  above?: number;
  /** Neither a flag, nor its variable, nor a default: a problem. */
  required?: boolean;
}

/**
 * Declares a table with its literal keys and kinds kept, so `OptionsOf<typeof TABLE>` is the exact
 * config type (a table typed `readonly OptionSpec[]` loses them). Spread groups into a table:
 * `defineOptions([...KAFKA_OPTIONS, { key: … }])`.
 */
export function defineOptions<const T extends readonly OptionSpec[]>(specs: T): T {
  return specs;
}

export type OptionValue<S extends OptionSpec> = S['kind'] extends 'int' | 'number' | 'time'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? string[]
      : S extends { kind: 'enum'; choices: readonly (infer C extends string)[] }
        ? C
        : string;

/** An option with neither a default nor `required` may be absent. */
type Absent<S extends OptionSpec> = S extends { default: string } | { required: true } ? never : undefined;

/** The parsed config of a table: one property per option, typed by its kind. */
export type OptionsOf<T extends readonly OptionSpec[]> = {
  -readonly [S in T[number] as S['key']]: OptionValue<S> | Absent<S>;
};

export type ParsedValue = string | number | boolean | string[] | undefined;

/**
 * The one place where the parsed values meet the derived type: every key is present with its kind's
 * JavaScript type (or absent where allowed). Holds by construction in parseOptions; a failure is a bug.
 */
export function conforms<const T extends readonly OptionSpec[]>(
  values: Record<string, ParsedValue>,
  specs: T,
): values is Record<string, ParsedValue> & OptionsOf<T> {
  return specs.every((s) => {
    const v = values[s.key];
    if (v === undefined) return s.default === undefined && s.required !== true;
    switch (s.kind) {
      case 'int':
      case 'number':
      case 'time':
        return typeof v === 'number';
      case 'bool':
        return typeof v === 'boolean';
      case 'list':
        return Array.isArray(v);
      case 'enum':
        return typeof v === 'string' && (s.choices ?? []).includes(v);
      default:
        return typeof v === 'string';
    }
  });
}
