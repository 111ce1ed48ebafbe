import { Kafka, logLevel } from 'kafkajs';
import { logger } from '../log/logger.js';

const log = logger('kafkajs');

/** A kafkajs client whose logs go through fraudscore's logger (errors and warnings only). */
export function kafkaClient(brokers: string[], clientId: string): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        const fields = { logger: entry.logger, broker: rest.broker, error: rest.error };
        if (level <= logLevel.ERROR) log.warn(message, fields);
        else log.debug(message, fields);
      },
  });
}
