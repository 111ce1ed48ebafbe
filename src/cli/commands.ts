// Every command's name, one-line summary, usage, description and option table: the data `fraudscore
// --help`, `fraudscore <command> --help` and the README check are made of (no command code here).

import {
  BACKFILL_OPTIONS,
  BACKTEST_OPTIONS,
  BASELINES_OPTIONS,
  EVALUATE_OPTIONS,
  REPLAY_OPTIONS,
  RESCORE_OPTIONS,
  SIMULATE_OPTIONS,
  TRAIN_CHALLENGER_OPTIONS,
} from '../config/command-options.js';
import type { CommandHelp } from '../config/help.js';
import { RUN_OPTIONS } from '../config/options.js';
import { CSV_COLUMNS } from '../replay/row-source.js';

/** The features' longest look-back (30-day windows ending 7 days before the transaction) plus a day. */
export const WARM_UP_MS = 38 * 86_400_000;

export interface CommandSpec extends CommandHelp {
  summary: string;
}

export const COMMAND_SPECS = {
  run: {
    summary: 'score transactions (embedded by default; Kafka + Redis when configured)',
    usage: 'fraudscore run [options]',
    description: `Scores transactions. With no Kafka configured it runs embedded: a generated stream through the
in-memory feature store and the bundled model, then prints a summary. With KAFKA_BROKERS (and
REDIS_URL) it consumes the transactions topic until SIGTERM/SIGINT.`,
    options: RUN_OPTIONS,
  },
  simulate: {
    summary: 'simulate transactions and fraud labels (Fraud Detection Handbook) to Avro files',
    usage: 'fraudscore simulate [options]',
    description: `Simulates card transactions and fraud as the Fraud Detection Handbook does (defaults: 5000 customers,
10000 terminals, 183 days from 2018-04-01) and writes Avro object container files with the
transaction and label schemas (schemas/*.avsc). To put them on the Kafka topics, run
\`fraudscore replay --from <out>/transactions.avro --labels <out>/labels.avro\`.`,
    options: SIMULATE_OPTIONS,
  },
  replay: {
    summary: 'produce historical transactions (and labels) from a file to Kafka, paced and resumable',
    usage: 'fraudscore replay --from <file> [--topic <topic>] [options]',
    description: `Produces historical transactions to Kafka, keyed by customer id (one customer stays in order on
one partition), with labels at their reported time on the same clock. Each chunk is a Kafka transaction
that also commits the replay's position, so --resume continues exactly where an interrupted replay
stopped. Bad rows are reported with their record/line number, skipped and counted.

CSV needs a header line. Transaction columns: ${CSV_COLUMNS.transaction}.
Label columns: ${CSV_COLUMNS.label}. NDJSON uses the same names as keys.`,
    options: REPLAY_OPTIONS,
  },
  backfill: {
    summary: 'replay transactions + labels through the FeatureStore into a training-set CSV',
    usage: 'fraudscore backfill --transactions <file> --labels <file> --out <file> [options]',
    description: `Replays transactions in event-time order through the in-memory FeatureStore (the live path’s code),
applying each label at its reported_time, and writes one CSV row per transaction: the 15 features
(exact Float32 values), is_fraud, transaction_id, customer_id, terminal_id, event_time (epoch ms),
amount_minor.`,
    options: BACKFILL_OPTIONS,
  },
  'train-challenger': {
    summary: 'train the TF.js MLP challenger from backfilled rows',
    usage: 'fraudscore train-challenger --rows <file> [options]',
    description: `Trains the MLP challenger with TF.js (tfjs-node when installed, else wasm) on the handbook protocol
and writes model.json, weights.bin and manifest.json (format tfjs).`,
    options: TRAIN_CHALLENGER_OPTIONS,
  },
  baselines: {
    summary: "rewrite a model manifest's drift baselines from backfilled rows (model unchanged)",
    usage: 'fraudscore baselines --rows <file> [--model <dir>[,<dir>]]',
    description: `Rewrites manifest.baseline of each model: every feature over its training week and the score over
the delay week, with the histogram definition the live drift windows use. The model is unchanged.`,
    options: BASELINES_OPTIONS,
  },
  evaluate: {
    summary: 'champion and challenger on the handbook test week, next to its baselines',
    usage: `fraudscore evaluate --rows <file> [options]      one draw's test week
       fraudscore evaluate --draws <n> [options]       across simulator draws
       fraudscore evaluate --update-docs [--report <file>]`,
    description: `One draw (--rows): scores the test week of the handbook protocol (train week, 7-day delay, test week;
known-compromised cards removed) through the real ONNX / TF.js scorers and reports AUC-ROC, average
precision, card precision@100, recall at 1 % and 5 % FPR and the fraud amount caught at the DECLINE
threshold.
Across draws (--draws or --seeds): for each draw, simulate → backfill → train the champion recipe
(training/train.py) → rerun the Fraud Detection Handbook’s logistic-regression and random-forest recipes
(training/baselines.py) → score the test week → card-level bootstrap intervals of the champion’s
difference to each baseline; writes <out>/evaluation.json and evaluation.md. Run it under \`nice -n 10\`
on a shared machine: about 3 minutes per draw on 2 cores.
--update-docs regenerates reports/evaluation.md and the README / docs/model.md tables from the
across-draws report (npm run docs:model).`,
    options: EVALUATE_OPTIONS,
  },
  rescore: {
    summary: 're-score a time range of the transactions topic with a model, beside the live scorer',
    usage: 'fraudscore rescore --since <time> --until <time> --model models/<name> --out-topic <topic> [options]',
    description: `Re-scores a time range of the transactions topic with a given model, beside the live scorer: its
own consumer group, its own feature namespace (warmed from the ${WARM_UP_MS / 86_400_000} days before --since) and its own output
topic. The live group's offsets and the live feature keys are never touched.`,
    options: RESCORE_OPTIONS,
  },
  backtest: {
    summary: 'report a replayed or re-scored range: evaluate metrics, outcomes, latency, plots, comparison',
    usage: 'fraudscore backtest --decisions <topic>[,<topic>] --labels <file|topic> [--out reports/backtest]',
    description: `Reports a replayed or re-scored range: the metrics of \`fraudscore evaluate\`, decisions by outcome,
latency and throughput of the run, precision-recall and score-distribution plots, and a comparison
when two runs are given.`,
    options: BACKTEST_OPTIONS,
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMAND_SPECS;
