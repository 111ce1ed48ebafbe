import { logger } from '../log/logger.js';
import { Kafka, logLevel } from './kafkajs.js';
// Registers the snappy, lz4 and zstd codecs with kafkajs (side effect, once).
import './compression.js';
import { type KafkaSecurity, kafkajsSecurity, PLAINTEXT } from './security.js';

const log = logger('kafkajs');
const ROUTINE =
  /concurrent operation on the same transaction|coordinator is loading|not the correct coordinator|coordinator is not available/i;

/** A kafkajs client whose logs go through fraudscore's logger (errors and warnings only). */
export function kafkaClient(brokers: string[], clientId: string, security: KafkaSecurity = PLAINTEXT): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka({
    clientId,
    brokers,
    ...kafkajsSecurity(security),
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        // kafkajs hands over `error` as an Error or as its message (then with `stack` beside it);
        // the logger serializes either with message and stack.
        const fields = { logger: entry.logger, broker: rest.broker, error: rest.error, stack: rest.stack };
        // Retried protocol conditions (a transaction still completing, a coordinator loading) are
        // routine under load; logging them per batch would flood the log.
        const routine = ROUTINE.test(`${message} ${typeof rest.error === 'string' ? rest.error : ''}`);
        if (level <= logLevel.ERROR && !routine) log.warn(message, fields);
        else log.debug(message, fields);
      },
  });
}
