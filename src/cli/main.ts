import { readFileSync } from 'node:fs';
import { ErrorCodes, FraudError } from '../errors.js';
import { checkLogLevel, logger } from '../log/logger.js';
import { fromRoot } from '../package-root.js';
import { backfillCommand } from './backfill.js';
import { backtestCommand } from './backtest.js';
import { baselinesCommand } from './baselines.js';
import { evaluateCommand } from './evaluate.js';
import { replayCommand } from './replay.js';
import { rescoreCommand } from './rescore.js';
import { runCommand } from './run.js';
import { simulateCommand } from './simulate.js';
import { trainChallengerCommand } from './train-challenger.js';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  backtest: {
    summary: 'report a replayed or re-scored range: evaluate metrics, outcomes, latency, plots, comparison',
    run: backtestCommand,
  },
  rescore: {
    summary: 're-score a time range of the transactions topic with a model, beside the live scorer',
    run: rescoreCommand,
  },
  replay: {
    summary: 'produce historical transactions (and labels) from a file to Kafka, paced and resumable',
    run: replayCommand,
  },
  run: { summary: 'score transactions (embedded by default; Kafka + Redis when configured)', run: runCommand },
  backfill: {
    summary: 'replay transactions + labels through the FeatureStore into a training-set CSV',
    run: backfillCommand,
  },
  baselines: {
    summary: "rewrite a model manifest's drift baselines from backfilled rows (model unchanged)",
    run: baselinesCommand,
  },
  evaluate: {
    summary: 'champion and challenger on the handbook test week, next to its baselines',
    run: evaluateCommand,
  },
  'train-challenger': { summary: 'train the TF.js MLP challenger from backfilled rows', run: trainChallengerCommand },
  simulate: {
    summary: 'simulate transactions and fraud labels (Fraud Detection Handbook) to Avro files',
    run: simulateCommand,
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'fraudscore: real-time fraud scoring of card transactions from Kafka.',
    '',
    'Usage: fraudscore <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `fraudscore <command> --help` for the options of a command.',
    'Every option can also be set by an environment variable (shown in the command help).',
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
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    console.error(`fraudscore: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  try {
    checkLogLevel();
    return await cmd.run(rest);
  } catch (err) {
    console.error(`fraudscore ${name}: ${oneLine(err)}`);
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
