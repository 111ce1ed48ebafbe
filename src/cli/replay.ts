import { registerProducerSchemas } from '../avro/registry-setup.js';
import { KAFKA_SECURITY_FLAGS } from '../config/kafka-security-options.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { kafkaClient } from '../kafka/client.js';
import { kafkaSecurityOf } from '../kafka/security.js';
import { type Pacing, Replayer, type ReplaySummary } from '../replay/replayer.js';
import { CSV_COLUMNS } from '../replay/row-source.js';
import { existingFile, type FlagSpec, flagsHelp, parseFlags, required } from './args.js';
import { Progress } from './progress.js';

const FLAGS: readonly FlagSpec[] = [
  {
    flag: '--from',
    kind: 'string',
    help: 'Transactions file: Avro container (.avro), NDJSON (.ndjson/.jsonl) or CSV (.csv)',
  },
  { flag: '--topic', kind: 'string', default: 'fraudscore.transactions', help: 'Topic to produce the transactions to' },
  { flag: '--labels', kind: 'string', help: 'Labels file (same formats); each label is produced at its reported_time' },
  { flag: '--labels-topic', kind: 'string', default: 'fraudscore.labels', help: 'Topic for the labels' },
  { flag: '--brokers', kind: 'string', help: 'Kafka bootstrap servers (default: KAFKA_BROKERS or 127.0.0.1:9092)' },
  {
    flag: '--rate',
    kind: 'number',
    positive: true,
    help: 'Fixed rate, transactions per second (default: as fast as possible)',
  },
  {
    flag: '--speedup',
    kind: 'number',
    positive: true,
    help: 'Original pacing scaled: 3600 = one hour of history per second',
  },
  { flag: '--since', kind: 'string', help: 'Skip transactions before this event time (ISO 8601 or epoch ms)' },
  { flag: '--resume', kind: 'bool', default: false, help: 'Continue after the last committed chunk of an earlier run' },
  { flag: '--replay-id', kind: 'string', help: 'Name of this replay (its checkpoint); default: from file and topic' },
  {
    flag: '--chunk',
    kind: 'int',
    default: 1000,
    min: 1,
    max: 100_000,
    help: 'Records per Kafka transaction (and checkpoint)',
  },
  {
    flag: '--timestamps',
    kind: 'string',
    default: 'now',
    choices: ['now', 'event'],
    help: "Kafka message timestamps: 'now' or 'event' (event time; mind the topic's retention)",
  },
  { flag: '--plain', kind: 'bool', default: false, help: 'Write plain Avro binary instead of Confluent framing' },
  {
    flag: '--schema-registry',
    kind: 'string',
    help: 'Register the transaction (and label) schema under <topic>-value in this Confluent-compatible registry and frame records with its ids (default: SCHEMA_REGISTRY_URL; credentials and CA from SCHEMA_REGISTRY_USER, SCHEMA_REGISTRY_PASSWORD(_FILE), SCHEMA_REGISTRY_CA)',
  },
  {
    flag: '--progress',
    kind: 'string',
    default: 'auto',
    choices: ['auto', 'on', 'off'],
    help: 'Progress bar on stderr: auto, on or off',
  },
  ...KAFKA_SECURITY_FLAGS,
];

const SUMMARY = `Produces historical transactions to Kafka, keyed by customer id (one customer stays in order on
one partition), with labels at their reported time on the same clock. Each chunk is a Kafka transaction
that also commits the replay's position, so --resume continues exactly where an interrupted replay
stopped. Bad rows are reported with their record/line number, skipped and counted.

CSV needs a header line. Transaction columns: ${CSV_COLUMNS.transaction}.
Label columns: ${CSV_COLUMNS.label}. NDJSON uses the same names as keys.`;

export async function replayCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(flagsHelp('fraudscore replay --from <file> [--topic <topic>] [options]', SUMMARY, FLAGS));
    return 0;
  }
  const f = parseFlags('replay', argv, FLAGS);
  // Files are checked before the producer connects: a typo must not leave a connected client behind.
  const from = existingFile('--from', required('replay', f, '--from'));
  if (typeof f.labels === 'string') existingFile('--labels', f.labels);
  if (f.rate !== undefined && f.speedup !== undefined) {
    throw new FraudError(ErrorCodes.INVALID_CONFIG, 'give either --rate or --speedup, not both');
  }
  let pacing: Pacing = { kind: 'max' };
  if (typeof f.rate === 'number') pacing = { kind: 'rate', perSecond: f.rate };
  else if (typeof f.speedup === 'number') pacing = { kind: 'speedup', factor: f.speedup };
  let since: number | undefined;
  if (typeof f.since === 'string') {
    since = /^\d+$/.test(f.since) ? Number(f.since) : Date.parse(f.since);
    if (Number.isNaN(since))
      throw new FraudError(ErrorCodes.INVALID_CONFIG, `--since ${f.since}: not a time (ISO 8601 or epoch ms)`);
  }
  const brokers = String(f.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const registryUrl = (f.schemaRegistry as string | undefined) ?? process.env.SCHEMA_REGISTRY_URL;
  const env = (name: string) => (process.env[name] === '' ? undefined : process.env[name]);
  const schemaIds =
    registryUrl === undefined || registryUrl === '' || f.plain === true
      ? undefined
      : await registerProducerSchemas(
          {
            url: registryUrl,
            username: env('SCHEMA_REGISTRY_USER'),
            password: env('SCHEMA_REGISTRY_PASSWORD'),
            passwordFile: env('SCHEMA_REGISTRY_PASSWORD_FILE'),
            caFile: env('SCHEMA_REGISTRY_CA'),
            unavailableMs: Number(env('SCHEMA_REGISTRY_UNAVAILABLE_MS') ?? 30_000),
          },
          { transactions: String(f.topic), labels: f.labels ? String(f.labelsTopic) : undefined },
        );
  const progress = new Progress('replay', (f.progress as 'auto' | 'on' | 'off') ?? 'auto');
  const replayer = new Replayer(kafkaClient(brokers, 'fraudscore-replay', await kafkaSecurityOf(f)), {
    transactionsPath: from,
    labelsPath: f.labels as string | undefined,
    topic: String(f.topic),
    labelsTopic: f.labels ? String(f.labelsTopic) : undefined,
    pacing,
    since,
    resume: f.resume === true,
    replayId: f.replayId as string | undefined,
    chunk: Number(f.chunk),
    timestamps: f.timestamps as 'now' | 'event',
    plainAvro: f.plain === true,
    schemaIds,
    onProgress: (fraction, records) => progress.updateFraction(fraction, records, 'transactions'),
  });
  const onSignal = () => replayer.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let s: ReplaySummary;
  try {
    s = await replayer.run();
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    progress.done();
  }
  console.log(`replay ${s.replayId}${s.interrupted ? ' (interrupted: continue with --resume)' : ''}`);
  console.log(`  transactions produced  ${s.transactions.toLocaleString('en-US')} to ${f.topic}`);
  if (f.labels) console.log(`  labels produced        ${s.labels.toLocaleString('en-US')} to ${f.labelsTopic}`);
  if (s.resumedAfter.transactions > 0)
    console.log(`  resumed after          ${s.resumedAfter.transactions.toLocaleString('en-US')} rows`);
  if (s.skippedBeforeSince > 0)
    console.log(`  before --since         ${s.skippedBeforeSince.toLocaleString('en-US')} skipped`);
  console.log(`  bad rows skipped       ${s.badRows.toLocaleString('en-US')}`);
  for (const b of s.firstBadRows) console.log(`    ${b.file}:${b.n}: ${b.error}`);
  console.log(
    `  elapsed                ${s.seconds.toFixed(2)} s (${Math.round(s.transactionsPerSecond).toLocaleString('en-US')} tx/s)`,
  );
  return 0;
}
