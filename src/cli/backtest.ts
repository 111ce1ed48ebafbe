import { existsSync } from 'node:fs';
import { unframe } from '../avro/framing.js';
import { decisionType, labelType } from '../avro/schemas.js';
import { BACKTEST_OPTIONS } from '../config/command-options.js';
import { brokerProblems } from '../config/config.js';
import { parseOptions } from '../config/parse-options.js';
import { writeBacktest } from '../evaluation/backtest.js';
import { kafkaClient } from '../kafka/client.js';
import { kafkaSecurityOf, kafkaSecurityProblems } from '../kafka/security.js';
import { fromRoot } from '../package-root.js';
import { openRows } from '../replay/row-source.js';
import { readTopicToEnd } from '../replay/topic-reader.js';
import { loadManifest } from '../scoring/manifest.js';
import type { Decision, Label } from '../types.js';

export async function backtestCommand(argv: string[]): Promise<number> {
  // Checked before Kafka is asked anything: a mistyped path or folder must fail at once, in one line.
  const modelDirs: string[] = [];
  const { values: f } = parseOptions(
    'backtest',
    BACKTEST_OPTIONS,
    argv,
    process.env,
    ({ values: v, nameOf }, problem) => {
      if (/\.(avro|csv|ndjson|jsonl)$/i.test(v.labels) && !existsSync(v.labels)) {
        problem(`${nameOf('labels')} ${v.labels}: no such file`);
      }
      for (const dir of v.model) {
        const found = [dir, fromRoot(dir)].find((d) => existsSync(d));
        if (found === undefined) problem(`${nameOf('model')} ${dir}: no such folder`);
        else modelDirs.push(found);
      }
      for (const p of brokerProblems(v.brokers)) problem(p);
      for (const p of kafkaSecurityProblems(v)) problem(p);
    },
  );
  const topics = f.decisions;
  const labelsArg = f.labels;
  const kafka = kafkaClient(f.brokers, 'fraudscore-backtest', await kafkaSecurityOf(f));

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
  const report = await writeBacktest(f.out, runs, isFraud);
  for (const r of report.runs) {
    console.log(
      `${r.name}: ${r.decisions} decisions, AUC-ROC ${r.metrics.auc_roc.toFixed(3)}, AP ${r.metrics.average_precision.toFixed(3)}, CP@100 ${r.metrics.card_precision_at_100.toFixed(3)}`,
    );
  }
  console.log(`wrote ${f.out}/backtest.md, backtest.json, pr-curve.svg, score-distribution.svg`);
  return 0;
}
