// One help format for every command, generated from its option table.

import type { OptionSpec } from './option-spec.js';
import { rangeText } from './parse-options.js';

export interface CommandHelp {
  /** e.g. 'fraudscore simulate [options]'. */
  usage: string;
  /** What the command does, a few lines. */
  description: string;
  options: readonly OptionSpec[];
}

/** `<int>`, `a|b`, or nothing for a boolean. */
export function valueHint(o: OptionSpec): string {
  if (o.kind === 'bool') return '';
  if (o.kind === 'enum') return (o.choices ?? []).join('|');
  return `<${o.kind}>`;
}

export function commandHelp(c: CommandHelp): string {
  const lines = [`Usage: ${c.usage}`, '', c.description, '', 'Options (flag, environment variable, default):'];
  for (const o of c.options) {
    const hint = valueHint(o);
    const range = rangeText(o);
    lines.push(`  ${o.flag}${hint ? ` ${hint}` : ''}${range ? `  (${range})` : ''}${o.required ? '  required' : ''}`);
    lines.push(`      ${o.help}`);
    lines.push(
      `      env ${o.env}${o.default !== undefined ? `, default ${o.default === '' ? '""' : o.default}` : ''}`,
    );
  }
  lines.push('', 'A flag wins over its environment variable; an empty variable counts as unset.');
  return lines.join('\n');
}
