// What `fraudscore run` checks on Kafka before consuming: the brokers answer, the topics exist, and
// how big a dead letter may be. Bounded by --connect-timeout-ms so that a closed port, an unknown host
// or a broker that never answers ends the process with one line instead of retrying forever.
import kafkajs, { type Kafka } from 'kafkajs';
import type { RunConfig } from '../config/config.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { DEFAULT_MAX_RECORD_BYTES } from './dead-letter.js';

const { ConfigResourceTypes } = kafkajs;

export interface KafkaFacts {
  /** The DLQ topic's max.message.bytes: bigger dead letters are written as truncated copies. */
  dlqMaxBytes: number;
  /** How many partitions the transactions topic has (the feature store's watermark waits for each). */
  transactionsPartitions: number;
}

export async function checkKafka(
  kafka: Kafka,
  cfg: Pick<
    RunConfig,
    'brokers' | 'connectTimeoutMs' | 'transactionsTopic' | 'decisionsTopic' | 'dlqTopic' | 'labelsTopic'
  >,
): Promise<KafkaFacts> {
  const brokers = cfg.brokers!.join(',');
  const admin = kafka.admin({ retry: { retries: 100, initialRetryTime: 100, maxRetryTime: 1000 } });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new FraudError(
            ErrorCodes.STACK_UNAVAILABLE,
            `Kafka at ${brokers} did not answer within ${cfg.connectTimeoutMs} ms (port closed, host unknown or broker not responding); check KAFKA_BROKERS, or start the local stack with \`npm run stack:up\``,
          ),
        ),
      cfg.connectTimeoutMs,
    );
  });
  try {
    return await Promise.race([check(), timeout]);
  } finally {
    clearTimeout(timer);
    void admin.disconnect().catch(() => {});
  }

  async function check(): Promise<KafkaFacts> {
    try {
      await admin.connect();
    } catch (err) {
      throw new FraudError(
        ErrorCodes.STACK_UNAVAILABLE,
        `cannot reach Kafka at ${brokers} (${(err as Error).message}); check KAFKA_BROKERS, or start the local stack with \`npm run stack:up\``,
      );
    }
    const existing = new Set(await admin.listTopics());
    const wanted = [cfg.transactionsTopic, cfg.decisionsTopic, cfg.dlqTopic, cfg.labelsTopic].filter((t) => t !== '');
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `topic(s) ${missing.join(', ')} do not exist on ${brokers}; fraudscore does not auto-create topics: create them (node scripts/create-topics.mjs for the defaults) or point the --*-topic options at yours`,
      );
    }
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: cfg.dlqTopic, configNames: ['max.message.bytes'] }],
    });
    const entry = described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes');
    const value = Number(entry?.configValue);
    const meta = await admin.fetchTopicMetadata({ topics: [cfg.transactionsTopic] });
    return {
      dlqMaxBytes: Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_RECORD_BYTES,
      transactionsPartitions: meta.topics[0]?.partitions.length ?? 0,
    };
  }
}
