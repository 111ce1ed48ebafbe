// Every option of `fraudscore run`, once: flag, environment variable, default, check and help text.
// --help is generated from this table, so an option cannot exist undocumented.

export type OptionKind = 'string' | 'int' | 'number' | 'list' | 'enum' | 'bool';

export interface OptionSpec {
  key: string;
  flag: string;
  env: string;
  kind: OptionKind;
  default: string | undefined;
  help: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

export const RUN_OPTIONS: readonly OptionSpec[] = [
  { key: 'brokers', flag: '--brokers', env: 'KAFKA_BROKERS', kind: 'list', default: undefined, help: 'Kafka bootstrap servers, comma-separated (host:port). Unset: run embedded on a generated stream.' },
  { key: 'redisUrl', flag: '--redis', env: 'REDIS_URL', kind: 'string', default: undefined, help: 'Redis feature store, e.g. redis://127.0.0.1:6379. Unset: in-memory feature store.' },
  { key: 'transactionsTopic', flag: '--transactions-topic', env: 'FRAUDSCORE_TRANSACTIONS_TOPIC', kind: 'string', default: 'fraudscore.transactions', help: 'Topic of Avro transactions to score.' },
  { key: 'decisionsTopic', flag: '--decisions-topic', env: 'FRAUDSCORE_DECISIONS_TOPIC', kind: 'string', default: 'fraudscore.decisions', help: 'Topic the Avro decisions go to.' },
  { key: 'dlqTopic', flag: '--dlq-topic', env: 'FRAUDSCORE_DLQ_TOPIC', kind: 'string', default: 'fraudscore.dlq', help: 'Dead-letter topic: original bytes plus error headers.' },
  { key: 'labelsTopic', flag: '--labels-topic', env: 'FRAUDSCORE_LABELS_TOPIC', kind: 'string', default: 'fraudscore.labels', help: 'Topic of fraud reports that update the terminal risk windows ("" to disable).' },
  { key: 'groupId', flag: '--group-id', env: 'FRAUDSCORE_GROUP_ID', kind: 'string', default: 'fraudscore', help: 'Consumer group of the scorer.' },
  { key: 'clientId', flag: '--client-id', env: 'FRAUDSCORE_CLIENT_ID', kind: 'string', default: 'fraudscore', help: 'Kafka client id (also the transactional id prefix).' },
  { key: 'sessionTimeoutMs', flag: '--session-timeout-ms', env: 'FRAUDSCORE_SESSION_TIMEOUT_MS', kind: 'int', min: 6000, default: '30000', help: 'Consumer group session timeout: how soon a crashed scorer\'s partitions move to another member.' },
  { key: 'partitionsConcurrently', flag: '--partitions-concurrently', env: 'FRAUDSCORE_PARTITIONS_CONCURRENTLY', kind: 'int', min: 1, max: 64, default: '4', help: 'Partitions whose records are processed at once (they share micro-batches).' },
  { key: 'delivery', flag: '--delivery', env: 'FRAUDSCORE_DELIVERY', kind: 'enum', choices: ['exactly-once', 'at-least-once'], default: 'exactly-once', help: 'exactly-once: decisions and offsets in one Kafka transaction; at-least-once: offsets committed after the decisions are acknowledged.' },
  { key: 'wireFormat', flag: '--wire-format', env: 'FRAUDSCORE_WIRE_FORMAT', kind: 'enum', choices: ['auto', 'confluent', 'plain'], default: 'auto', help: 'Input framing: confluent (magic byte + schema id), plain Avro binary, or auto (framed when the first byte is 0).' },
  { key: 'modelDir', flag: '--model', env: 'FRAUDSCORE_MODEL_DIR', kind: 'string', default: 'models/placeholder', help: 'Champion model folder (manifest.json + model file); reloaded when it changes.' },
  { key: 'challengerDir', flag: '--challenger', env: 'FRAUDSCORE_CHALLENGER_DIR', kind: 'string', default: undefined, help: 'Optional challenger model folder, scored in shadow (never decides).' },
  { key: 'modelPollMs', flag: '--model-poll-ms', env: 'FRAUDSCORE_MODEL_POLL_MS', kind: 'int', min: 100, default: '2000', help: 'How often the model folder is checked for a new model, in ms.' },
  { key: 'maxBatch', flag: '--max-batch', env: 'FRAUDSCORE_MAX_BATCH', kind: 'int', min: 1, max: 8192, default: '256', help: 'Largest micro-batch: records per feature round trip and per model run.' },
  { key: 'maxWaitMs', flag: '--max-wait-ms', env: 'FRAUDSCORE_MAX_WAIT_MS', kind: 'number', min: 0, max: 1000, default: '5', help: 'Longest a record waits for its micro-batch to fill, in ms.' },
  { key: 'maxInFlight', flag: '--max-in-flight', env: 'FRAUDSCORE_MAX_IN_FLIGHT', kind: 'int', min: 1, default: '8192', help: 'Records accepted but not yet decided before partitions are paused.' },
  { key: 'inferenceBudgetMs', flag: '--inference-budget-ms', env: 'FRAUDSCORE_INFERENCE_BUDGET_MS', kind: 'number', min: 0, default: '1', help: 'Inference time per micro-batch above which the batch is counted as over budget.' },
  { key: 'inferenceDeadlineMs', flag: '--inference-deadline-ms', env: 'FRAUDSCORE_INFERENCE_DEADLINE_MS', kind: 'number', min: 1, default: '50', help: 'Inference time after which the batch is decided by the rule-based fallback, marked degraded.' },
  { key: 'reviewThreshold', flag: '--review-threshold', env: 'FRAUDSCORE_REVIEW_THRESHOLD', kind: 'number', min: 0, max: 1, default: undefined, help: "Score from which a transaction is sent to REVIEW (default: the model manifest's)." },
  { key: 'declineThreshold', flag: '--decline-threshold', env: 'FRAUDSCORE_DECLINE_THRESHOLD', kind: 'number', min: 0, max: 1, default: undefined, help: "Score from which a transaction is DECLINEd (default: the model manifest's)." },
  { key: 'redisPrefix', flag: '--redis-prefix', env: 'FRAUDSCORE_REDIS_PREFIX', kind: 'string', default: 'fs:', help: 'Prefix of every feature-store key (one namespace per deployment or backtest).' },
  { key: 'redisTimeoutMs', flag: '--redis-timeout-ms', env: 'FRAUDSCORE_REDIS_TIMEOUT_MS', kind: 'int', min: 1, default: '50', help: 'Feature round trip timeout; past it the batch is scored with default features, marked degraded.' },
  { key: 'httpHost', flag: '--http-host', env: 'FRAUDSCORE_HTTP_HOST', kind: 'string', default: '127.0.0.1', help: 'Address of the /metrics, /healthz and /readyz server.' },
  { key: 'httpPort', flag: '--http-port', env: 'FRAUDSCORE_HTTP_PORT', kind: 'int', min: 0, max: 65535, default: '9464', help: 'Port of the HTTP server (0: any free port; -1 is not accepted: use --no-http).' },
  { key: 'noHttp', flag: '--no-http', env: 'FRAUDSCORE_NO_HTTP', kind: 'bool', default: 'false', help: 'Do not serve HTTP.' },
  { key: 'count', flag: '--count', env: 'FRAUDSCORE_EMBEDDED_COUNT', kind: 'int', min: 1, default: '20000', help: 'Embedded mode: how many generated transactions to score.' },
  { key: 'seed', flag: '--seed', env: 'FRAUDSCORE_SEED', kind: 'int', default: '42', help: 'Embedded mode: generator seed (same seed, same stream).' },
  { key: 'decisionsOut', flag: '--decisions-out', env: 'FRAUDSCORE_DECISIONS_OUT', kind: 'string', default: undefined, help: 'Embedded mode: also write the decisions as NDJSON to this file.' },
  { key: 'progress', flag: '--progress', env: 'FRAUDSCORE_PROGRESS', kind: 'enum', choices: ['auto', 'on', 'off'], default: 'auto', help: 'Progress line on stderr: auto shows it on a terminal only.' },
];
