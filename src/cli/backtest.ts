import { existsSync } from 'node:fs';
import { unframe } from '../avro/framing.js';
import { decisionType, labelType } from '../avro/schemas.js';
import { KAFKA_SECURITY_FLAGS } from '../config/kafka-security-options.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { writeBacktest } from '../evaluation/backtest.js';
import { kafkaClient } from '../kafka/client.js';
import { kafkaSecurityOf } from '../kafka/security.js';
import { fromRoot } from '../package-root.js';
import { openRows } from '../replay/row-source.js';
import { readTopicToEnd } from '../replay/topic-reader.js';
import { loadManifest } from '../scoring/manifest.js';
import type { Decision, Label } from '../types.js';
import { existingFile, type FlagSpec, flagsHelp, parseFlags, required } from './args.js';

const FLAGS: readonly FlagSpec[] = [
  {
    flag: '--decisions',
    kind: 'string',
    help: 'Decisions topic(s), comma-separated: one run each (e.g. live and a rescore)',
  },
  { flag: '--labels', kind: 'string', help: 'Labels: an Avro/NDJSON/CSV file, or a labels topic' },
  {
    flag: '--model',
    kind: 'string',
    default: 'models/champion',
    help: 'Model folder(s) whose thresholds apply, one per run or one for all',
  },
  {
    flag: '--out',
    kind: 'string',
    default: 'reports/backtest',
    help: 'Folder for backtest.json, backtest.md and the plots',
  },
  { flag: '--brokers', kind: 'string', help: 'Kafka bootstrap servers (default: KAFKA_BROKERS or 127.0.0.1:9092)' },
  ...KAFKA_SECURITY_FLAGS,
];

export async function backtestCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      flagsHelp(
        'fraudscore backtest --decisions <topic>[,<topic>] --labels <file|topic> [--out reports/backtest]',
        'Reports a replayed or re-scored range: the metrics of `fraudscore evaluate`, decisions by outcome,\nlatency and throughput of the run, precision-recall and score-distribution plots, and a comparison\nwhen two runs are given.',
        FLAGS,
      ),
    );
    return 0;
  }
  const f = parseFlags('backtest', argv, FLAGS);
  const topics = required('backtest', f, '--decisions').split(',');
  const labelsArg = required('backtest', f, '--labels');
  // Checked before Kafka is asked anything: a mistyped path must fail at once, in one line.
  if (/\.(avro|csv|ndjson|jsonl)$/i.test(labelsArg)) existingFile('--labels', labelsArg);
  const modelDirs = String(f.model)
    .split(',')
    .map((dir) => {
      const found = [dir, fromRoot(dir)].find((d) => existsSync(d));
      if (found === undefined) throw new FraudError(ErrorCodes.INVALID_CONFIG, `--model ${dir}: no such folder`);
      return found;
    });
  const kafka = kafkaClient(
    String(f.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    'fraudscore-backtest',
    await kafkaSecurityOf(f),
  );

  const isFraud = new Map<string, boolean>();
  if (existsSync(labelsArg)) {
    for await (const row of openRows<Label>(labelsArg, 'label').rows) {
      if (row.value) isFraud.set(row.value.transaction_id, row.value.is_fraud);
    }
  } else {
    const type = labelType();
    for (const l of await readTopicToEnd(kafka, labelsArg, (v) => type.fromBuffer(unframe(v)) as Label)) {
      isFraud.set(l.transaction_id, l.is_fraud);
    }
  }
  const type = decisionType();
  const runs = [];
  for (const [k, topic] of topics.entries()) {
    const manifest = await loadManifest(modelDirs[Math.min(k, modelDirs.length - 1)]!);
    const decisions = await readTopicToEnd(kafka, topic, (v) => type.fromBuffer(unframe(v)) as Decision);
    runs.push({ name: topic, decisions, thresholds: manifest.thresholds });
  }
  const report = await writeBacktest(String(f.out), runs, isFraud);
  for (const r of report.runs) {
    console.log(
      `${r.name}: ${r.decisions} decisions, AUC-ROC ${r.metrics.auc_roc.toFixed(3)}, AP ${r.metrics.average_precision.toFixed(3)}, CP@100 ${r.metrics.card_precision_at_100.toFixed(3)}`,
    );
  }
  console.log(`wrote ${f.out}/backtest.md, backtest.json, pr-curve.svg, score-distribution.svg`);
  return 0;
}
