// One error type with a stable code: the same code names a cause in a dead-letter header,
// a log line and a metric label, so operators can join them.

export const ErrorCodes = {
  // Input that can never be scored: goes to the dead-letter topic.
  BAD_MAGIC_BYTE: 'FRAUD_BAD_MAGIC_BYTE',
  UNKNOWN_SCHEMA_ID: 'FRAUD_UNKNOWN_SCHEMA_ID',
  TRUNCATED_RECORD: 'FRAUD_TRUNCATED_RECORD',
  UNDECODABLE_RECORD: 'FRAUD_UNDECODABLE_RECORD',
  EMPTY_RECORD: 'FRAUD_EMPTY_RECORD',
  INVALID_FIELD: 'FRAUD_INVALID_FIELD',
  EVENT_TIME_OUT_OF_RANGE: 'FRAUD_EVENT_TIME_OUT_OF_RANGE',
  // Degradations: the record is still decided, marked degraded with this cause.
  FEATURES_UNAVAILABLE: 'FRAUD_FEATURES_UNAVAILABLE',
  // The feature store lost state (Redis restarted empty): windows reaching back before the loss are partial.
  FEATURES_INCOMPLETE: 'FRAUD_FEATURES_INCOMPLETE',
  MODEL_DEADLINE_EXCEEDED: 'FRAUD_MODEL_DEADLINE_EXCEEDED',
  MODEL_FAILED: 'FRAUD_MODEL_FAILED',
  // Kafka group changes: the batch is retried by whoever owns the partition now.
  PARTITIONS_REVOKED: 'FRAUD_PARTITIONS_REVOKED',
  // A transaction commit whose outcome the client could not learn: the batch is retried from the
  // group's committed offsets once the broker has settled the transaction.
  KAFKA_COMMIT_UNCERTAIN: 'FRAUD_KAFKA_COMMIT_UNCERTAIN',
  // The consumer cannot go on: the process exits non-zero for its supervisor to restart it.
  KAFKA_FATAL: 'FRAUD_KAFKA_FATAL',
  CONSUMER_STALLED: 'FRAUD_CONSUMER_STALLED',
  // Operator errors.
  INVALID_CONFIG: 'FRAUD_INVALID_CONFIG',
  INVALID_MODEL: 'FRAUD_INVALID_MODEL',
  STACK_UNAVAILABLE: 'FRAUD_STACK_UNAVAILABLE',
  // Schema registry: unreachable past the bound (records are not dead-lettered, the run stops), or a
  // schema of ours that the registry refuses (incompatible with the subject's history, or invalid).
  REGISTRY_UNAVAILABLE: 'FRAUD_REGISTRY_UNAVAILABLE',
  SCHEMA_INCOMPATIBLE: 'FRAUD_SCHEMA_INCOMPATIBLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class FraudError extends Error {
  readonly code: ErrorCode;
  readonly canRetry: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; canRetry?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FraudError';
    this.code = code;
    this.canRetry = options?.canRetry ?? false;
  }
}

export function errorCodeOf(err: unknown, fallback: ErrorCode): ErrorCode {
  return err instanceof FraudError ? err.code : fallback;
}
