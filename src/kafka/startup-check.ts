// What `fraudscore run` checks on Kafka before consuming: the brokers answer, the topics exist, and
// how big a dead letter may be. Bounded by --connect-timeout-ms so that a closed port, an unknown host
// or a broker that never answers ends the process with one line instead of retrying forever.

import type { RunConfig } from '../config/config.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { logger } from '../log/logger.js';
import { DEFAULT_MAX_RECORD_BYTES } from './dead-letter.js';
import kafkajs from './kafkajs.js';
import {
  aclFailure,
  checkKafkaTls,
  type KafkaSecurity,
  kafkajsSecurity,
  PLAINTEXT,
  principalOf,
  securityFailure,
} from './security.js';

const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;
const log = logger('kafka');

export interface KafkaFacts {
  /** The DLQ topic's max.message.bytes: bigger dead letters are written as truncated copies. */
  dlqMaxBytes: number;
  /** How many partitions the transactions topic has (the feature store's watermark waits for each). */
  transactionsPartitions: number;
}

export async function checkKafka(
  cfg: Pick<
    RunConfig,
    'brokers' | 'connectTimeoutMs' | 'transactionsTopic' | 'decisionsTopic' | 'dlqTopic' | 'labelsTopic' | 'groupId'
  >,
  security: KafkaSecurity = PLAINTEXT,
): Promise<KafkaFacts> {
  const brokers = cfg.brokers!.join(',');
  // Its own client, silent: what goes wrong here ends the run with one line, which names the broker's
  // last refusal (kafkajs hides it, e.g. GROUP_AUTHORIZATION_FAILED behind "Failed to find group
  // coordinator").
  let refusal: string | undefined;
  const kafka = new Kafka({
    clientId: 'fraudscore-check',
    brokers: cfg.brokers!,
    ...kafkajsSecurity(security),
    connectionTimeout: 5000,
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      const error = entry.log.error;
      if (typeof error === 'string' && /authoriz/i.test(error)) refusal = error;
    },
  });
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
    // A certificate the CA does not vouch for is a configuration error, not a broker that is down.
    await checkKafkaTls(cfg.brokers!, security, cfg.connectTimeoutMs);
    try {
      await admin.connect();
    } catch (err) {
      throw (
        securityFailure(err, security, cfg.brokers!) ??
        new FraudError(
          ErrorCodes.STACK_UNAVAILABLE,
          `cannot reach Kafka at ${brokers} (${(err as Error).message}); check KAFKA_BROKERS, or start the local stack with \`npm run stack:up\``,
        )
      );
    }
    try {
      return await checkTopicsAndGroups();
    } catch (err) {
      throw aclFailure(err, security) ?? securityFailure(err, security, cfg.brokers!) ?? err;
    }
  }

  async function checkTopicsAndGroups(): Promise<KafkaFacts> {
    const existing = new Set(await admin.listTopics());
    const wanted = [cfg.transactionsTopic, cfg.decisionsTopic, cfg.dlqTopic, cfg.labelsTopic].filter((t) => t !== '');
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      // With ACLs on, a topic the principal may not describe is left out of the metadata like a missing one.
      const acl =
        security.sasl !== undefined || security.tls?.cert !== undefined
          ? ` or ${principalOf(security)} may not see them (missing ACL: Read on the input topics, Write on the output topics; README "Security")`
          : '';
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `topic(s) ${missing.join(', ')} do not exist on ${brokers}${acl}; fraudscore does not auto-create topics: create them (node scripts/create-topics.mjs for the defaults) or point the --*-topic options at yours`,
      );
    }
    // The consumer groups, when the brokers can tell who we are (ACLs possible): a missing group ACL
    // would otherwise show only as a consumer that never joins.
    const authenticated = security.sasl !== undefined || security.tls?.cert !== undefined;
    const groups = !authenticated ? [] : [cfg.groupId, ...(cfg.labelsTopic === '' ? [] : [`${cfg.groupId}.labels`])];
    for (const g of groups) {
      try {
        await admin.describeGroups([g]);
      } catch (err) {
        if (refusal === undefined) throw err;
        throw new FraudError(
          ErrorCodes.INVALID_CONFIG,
          `Kafka refused ${principalOf(security)} the consumer group ${g} (${refusal}); grant it Read on the group (prefix), see README "Security" for the exact ACLs`,
        );
      }
    }
    const meta = await admin.fetchTopicMetadata({ topics: [cfg.transactionsTopic] });
    return { dlqMaxBytes: await dlqMaxBytes(), transactionsPartitions: meta.topics[0]?.partitions.length ?? 0 };
  }

  async function dlqMaxBytes(): Promise<number> {
    let described: Awaited<ReturnType<typeof admin.describeConfigs>>;
    try {
      described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: cfg.dlqTopic, configNames: ['max.message.bytes'] }],
      });
    } catch (err) {
      // Least privilege need not include DescribeConfigs: fall back to the broker default.
      if (aclFailure(err, security) === undefined) throw err;
      log.warn(
        `${principalOf(security)} may not describe the configuration of ${cfg.dlqTopic}; dead letters above ${DEFAULT_MAX_RECORD_BYTES} bytes are truncated (grant DescribeConfigs on the topic to use its max.message.bytes)`,
      );
      return DEFAULT_MAX_RECORD_BYTES;
    }
    const entry = described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes');
    const value = Number(entry?.configValue);
    return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_RECORD_BYTES;
  }
}
