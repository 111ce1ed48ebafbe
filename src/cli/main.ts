import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';
import { commandHelp } from '../config/help.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { DEFAULT_LEVEL, LEVELS } from '../log/levels.js';
import { checkLogLevel, logger } from '../log/logger.js';
import { fromRoot } from '../package-root.js';
import { backfillCommand } from './backfill.js';
import { backtestCommand } from './backtest.js';
import { baselinesCommand } from './baselines.js';
import { COMMAND_SPECS, type CommandName } from './commands.js';
import { evaluateCommand } from './evaluate.js';
import { replayCommand } from './replay.js';
import { rescoreCommand } from './rescore.js';
import { runCommand } from './run.js';
import { simulateCommand } from './simulate.js';
import { trainChallengerCommand } from './train-challenger.js';

const RUNNERS: Record<CommandName, (argv: string[]) => Promise<number>> = {
  run: runCommand,
  simulate: simulateCommand,
  replay: replayCommand,
  backfill: backfillCommand,
  'train-challenger': trainChallengerCommand,
  baselines: baselinesCommand,
  evaluate: evaluateCommand,
  rescore: rescoreCommand,
  backtest: backtestCommand,
};

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_SPECS, name);
}

function help(): string {
  const width = Math.max(...Object.keys(COMMAND_SPECS).map((k) => k.length));
  return [
    'fraudscore: real-time fraud scoring of card transactions from Kafka.',
    '',
    'Usage: fraudscore <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMAND_SPECS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `fraudscore <command> --help` for the options of a command.',
    'Every option is a flag and an environment variable (shown in the command help); a flag wins.',
    `FRAUDSCORE_LOG_LEVEL sets the log level: ${LEVELS.join(', ')} (default ${DEFAULT_LEVEL}).`,
  ].join('\n');
}

/** Returns the process exit code: 0 ok, 1 runtime failure, 2 usage or configuration error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')).version);
    return 0;
  }
  if (!isCommand(name)) {
    console.error(`fraudscore: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(COMMAND_SPECS[name]));
    return 0;
  }
  try {
    checkLogLevel();
    return await RUNNERS[name](rest);
  } catch (err) {
    // A configuration with several problems: one line each.
    const lines = err instanceof ConfigError ? err.problems.map((p) => `${p} [${err.code}]`) : [oneLine(err)];
    for (const line of lines) console.error(`fraudscore ${name}: ${line}`);
    if (!(err instanceof FraudError) && systemErrorCode(err) === undefined) {
      // A bug rather than a user mistake: the stack goes to the structured log, not the terminal line.
      logger('cli').debug('unexpected error', { err });
    }
    return exitCodeOf(err);
  }
}

// Node's errors for a path the user gave that cannot be used: the user's mistake, not a crash.
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
};

function systemErrorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code in FILE_ERRORS ? code : undefined;
}

/** What the user sees: one line, with the stable code when there is one; never a stack. */
function oneLine(err: unknown): string {
  if (err instanceof FraudError) return `${err.message} [${err.code}]`;
  const sys = systemErrorCode(err);
  if (sys !== undefined) {
    const path = (err as NodeJS.ErrnoException).path;
    return `${path ?? 'a file'}: ${FILE_ERRORS[sys]} [${ErrorCodes.INVALID_CONFIG}]`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return `unexpected error: ${message.split('\n')[0]} (FRAUDSCORE_LOG_LEVEL=debug logs the stack)`;
}

/** 2 for a usage or configuration mistake (bad flag, missing file), 1 for a failure at run time. */
function exitCodeOf(err: unknown): number {
  if (err instanceof FraudError) return err.code === ErrorCodes.INVALID_CONFIG ? 2 : 1;
  return systemErrorCode(err) !== undefined ? 2 : 1;
}
