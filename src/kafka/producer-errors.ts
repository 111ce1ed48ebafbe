// The producer errors the Kafka sinks raise (confluent, platformatic, kafkajs): the source and the
// composition root tell them apart by class or code, whatever the client.
import { ErrorCodes, FraudError } from '../errors.js';

/** A producer error the client cannot recover from (e.g. fenced by a newer instance): the process must exit. */
export class FatalKafkaError extends FraudError {
  readonly fatal = true;
  constructor(message: string, options: { cause: unknown }) {
    super(ErrorCodes.KAFKA_FATAL, message, options);
  }
}

/**
 * The transaction's commit was sent but its outcome is unknown: the source rewinds to the group's
 * committed offsets after settle(), not to its own record of what was written.
 */
export class CommitUncertainError extends FraudError {
  readonly commitUncertain = true;
  constructor(cause: unknown) {
    super(
      ErrorCodes.KAFKA_COMMIT_UNCERTAIN,
      `the outcome of a transaction commit is unknown (${(cause as Error)?.message ?? String(cause)}); resuming from the group's committed offsets`,
      { cause, canRetry: true },
    );
  }
}

/**
 * The batch's partitions are no longer this member's, or the process was stopped meanwhile (the
 * source's owns()): the batch is not written (exactly-once: its transaction is aborted) and is retried.
 */
export function partitionsRevoked(): FraudError {
  return new FraudError(
    ErrorCodes.PARTITIONS_REVOKED,
    'partitions were revoked while the batch was in flight: the batch is not written',
    { canRetry: true },
  );
}
