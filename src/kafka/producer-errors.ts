// The producer errors every transactional sink raises (confluent and platformatic): the source and
// the composition root tell them apart by class, whatever the client.
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
