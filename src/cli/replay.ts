import { registerProducerSchemas } from '../avro/registry-setup.js';
import { REPLAY_OPTIONS } from '../config/command-options.js';
import { brokerProblems, schemaRegistryProblems } from '../config/config.js';
import { parseOptions } from '../config/parse-options.js';
import { kafkaClient } from '../kafka/client.js';
import { kafkaSecurityOf, kafkaSecurityProblems } from '../kafka/security.js';
import { type Pacing, Replayer, type ReplaySummary } from '../replay/replayer.js';
import { Progress } from './progress.js';

export async function replayCommand(argv: string[]): Promise<number> {
  // Files are checked (kind 'file') before the producer connects: a typo must not leave a connected client behind.
  const { values: f } = parseOptions('replay', REPLAY_OPTIONS, argv, process.env, ({ values: v }, problem) => {
    if (v.rate !== undefined && v.speedup !== undefined) problem('give either --rate or --speedup, not both');
    for (const p of brokerProblems(v.brokers)) problem(p);
    for (const p of kafkaSecurityProblems(v)) problem(p);
    for (const p of schemaRegistryProblems(v)) problem(p);
  });
  let pacing: Pacing = { kind: 'max' };
  if (f.rate !== undefined) pacing = { kind: 'rate', perSecond: f.rate };
  else if (f.speedup !== undefined) pacing = { kind: 'speedup', factor: f.speedup };
  const labelsTopic = f.labels !== undefined ? f.labelsTopic : undefined;
  const schemaIds =
    f.schemaRegistryUrl === undefined || f.plain
      ? undefined
      : await registerProducerSchemas(
          {
            url: f.schemaRegistryUrl,
            username: f.schemaRegistryUser,
            password: f.schemaRegistryPassword,
            passwordFile: f.schemaRegistryPasswordFile,
            caFile: f.schemaRegistryCa,
            unavailableMs: f.schemaRegistryUnavailableMs,
          },
          { transactions: f.topic, labels: labelsTopic },
        );
  const progress = new Progress('replay', f.progress);
  const replayer = new Replayer(kafkaClient(f.brokers, 'fraudscore-replay', await kafkaSecurityOf(f)), {
    transactionsPath: f.from,
    labelsPath: f.labels,
    topic: f.topic,
    labelsTopic,
    pacing,
    since: f.since,
    resume: f.resume,
    replayId: f.replayId,
    chunk: f.chunk,
    timestamps: f.timestamps,
    plainAvro: f.plain,
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
  if (labelsTopic !== undefined)
    console.log(`  labels produced        ${s.labels.toLocaleString('en-US')} to ${f.labelsTopic}`);
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
