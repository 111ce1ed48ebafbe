// Every option of `fraudscore run`, once: flag, environment variable, default, check and help text,
// in groups that other commands spread into their own tables (src/config/command-options.ts).
// --help and the README check are generated from these tables, so an option cannot exist undocumented.

import { KAFKA_SECURITY_OPTIONS } from './kafka-security-options.js';
import { defineOptions } from './option-spec.js';

export type { OptionKind, OptionSpec } from './option-spec.js';

/** Kafka I/O of the scorer: brokers, topics, group, client, delivery, timeouts. */
export const KAFKA_RUN_OPTIONS = defineOptions([
  {
    key: 'brokers',
    flag: '--brokers',
    env: 'KAFKA_BROKERS',
    kind: 'list',
    default: undefined,
    help: 'Kafka bootstrap servers, comma-separated (host:port). Unset: run embedded on a generated stream.',
  },
  {
    key: 'transactionsTopic',
    flag: '--transactions-topic',
    env: 'FRAUDSCORE_TRANSACTIONS_TOPIC',
    kind: 'string',
    default: 'fraudscore.transactions',
    help: 'Topic of Avro transactions to score.',
  },
  {
    key: 'decisionsTopic',
    flag: '--decisions-topic',
    env: 'FRAUDSCORE_DECISIONS_TOPIC',
    kind: 'string',
    default: 'fraudscore.decisions',
    help: 'Topic the Avro decisions go to.',
  },
  {
    key: 'dlqTopic',
    flag: '--dlq-topic',
    env: 'FRAUDSCORE_DLQ_TOPIC',
    kind: 'string',
    default: 'fraudscore.dlq',
    help: 'Dead-letter topic: original bytes plus error headers.',
  },
  {
    key: 'labelsTopic',
    flag: '--labels-topic',
    env: 'FRAUDSCORE_LABELS_TOPIC',
    kind: 'string',
    default: 'fraudscore.labels',
    help: 'Topic of fraud reports that update the terminal risk windows ("" to disable).',
  },
  {
    key: 'groupId',
    flag: '--group-id',
    env: 'FRAUDSCORE_GROUP_ID',
    kind: 'string',
    default: 'fraudscore',
    help: 'Consumer group of the scorer.',
  },
  {
    key: 'clientId',
    flag: '--client-id',
    env: 'FRAUDSCORE_CLIENT_ID',
    kind: 'string',
    default: 'fraudscore',
    help: 'Kafka client id (also the transactional id prefix).',
  },
  {
    key: 'kafkaClient',
    flag: '--kafka-client',
    env: 'FRAUDSCORE_KAFKA_CLIENT',
    kind: 'enum',
    choices: ['confluent', 'kafkajs', 'platformatic'],
    default: 'confluent',
    help: 'Kafka client: confluent (@confluentinc/kafka-javascript, librdkafka; exactly-once fenced at the broker, KIP-447), kafkajs (pure JavaScript; weaker fencing, see README) or platformatic (@platformatic/kafka, pure TypeScript; KIP-447 fencing; no event-time alignment, no OAUTHBEARER).',
  },
  {
    key: 'connectTimeoutMs',
    flag: '--connect-timeout-ms',
    env: 'FRAUDSCORE_CONNECT_TIMEOUT_MS',
    kind: 'int',
    min: 1000,
    default: '8000',
    help: 'At start, how long to wait for Kafka to answer before exiting with an error.',
  },
  {
    key: 'sessionTimeoutMs',
    flag: '--session-timeout-ms',
    env: 'FRAUDSCORE_SESSION_TIMEOUT_MS',
    kind: 'int',
    min: 6000,
    default: '30000',
    help: "Consumer group session timeout: how soon a crashed scorer's partitions move to another member.",
  },
  {
    key: 'partitionsConcurrently',
    flag: '--partitions-concurrently',
    env: 'FRAUDSCORE_PARTITIONS_CONCURRENTLY',
    kind: 'int',
    min: 1,
    max: 64,
    default: '4',
    help: 'Partitions whose records are processed at once (they share micro-batches).',
  },
  {
    key: 'delivery',
    flag: '--delivery',
    env: 'FRAUDSCORE_DELIVERY',
    kind: 'enum',
    choices: ['exactly-once', 'at-least-once'],
    default: 'exactly-once',
    help: 'exactly-once: decisions and offsets in one Kafka transaction; at-least-once: offsets committed after the decisions are acknowledged.',
  },
  {
    key: 'wireFormat',
    flag: '--wire-format',
    env: 'FRAUDSCORE_WIRE_FORMAT',
    kind: 'enum',
    choices: ['auto', 'confluent', 'plain'],
    default: 'auto',
    help: 'Input framing: confluent (magic byte + schema id), plain Avro binary, or auto (framed when the first byte is 0).',
  },
  {
    key: 'maxInFlight',
    flag: '--max-in-flight',
    env: 'FRAUDSCORE_MAX_IN_FLIGHT',
    kind: 'int',
    min: 1,
    // Enough for a write of 2,048 records and the next micro-batches prepared meanwhile (2,048 starved
    // the writer); every record in flight is still alive at the next young-generation GC.
    default: '3072',
    help: 'Records accepted but not yet decided before partitions are paused.',
  },
  {
    key: 'alignMaxLeadMs',
    flag: '--align-max-lead-ms',
    env: 'FRAUDSCORE_ALIGN_MAX_LEAD_MS',
    kind: 'int',
    min: 0,
    // Below the 7-day terminal label delay, so a terminal window never needs a record held back.
    max: 518_400_000,
    default: '86400000',
    help: 'How far (event time) one partition is handed over ahead of the slowest this scorer holds; a partition further ahead is paused. 0: no alignment.',
  },
  {
    key: 'alignIdleMs',
    flag: '--align-idle-ms',
    env: 'FRAUDSCORE_ALIGN_IDLE_MS',
    kind: 'int',
    min: 0,
    default: '2000',
    help: 'A partition that delivered nothing for this long (wall time) no longer holds the others back.',
  },
  {
    key: 'compression',
    flag: '--compression',
    env: 'FRAUDSCORE_COMPRESSION',
    kind: 'enum',
    choices: ['none', 'gzip', 'snappy', 'lz4'],
    default: 'none',
    help: 'Compression of the decisions and dead letters written (inputs are read in every codec: gzip, snappy, lz4, zstd).',
  },
  {
    key: 'stallTimeoutMs',
    flag: '--stall-timeout-ms',
    env: 'FRAUDSCORE_STALL_TIMEOUT_MS',
    kind: 'int',
    min: 1000,
    default: '60000',
    help: 'A consumer down, or with records waiting and no progress, for this long is stalled: /healthz and /readyz answer 503, and the scorer (confluent and platformatic clients) exits non-zero for a supervisor to restart it. A member out of its group for max(this, 2 × session timeout) exits so with any client.',
  },
  {
    key: 'headPollMs',
    flag: '--head-poll-ms',
    env: 'FRAUDSCORE_HEAD_POLL_MS',
    kind: 'int',
    min: 100,
    default: '5000',
    help: 'Interval of the offsets request that reads the head of each input topic (records waiting, lag seconds, stalls).',
  },
]);

/** The champion and the shadow challenger. */
export const MODEL_OPTIONS = defineOptions([
  {
    key: 'modelDir',
    flag: '--model',
    env: 'FRAUDSCORE_MODEL_DIR',
    kind: 'string',
    default: 'models/champion',
    help: 'Champion model folder (manifest.json + model file); reloaded when it changes.',
  },
  {
    key: 'challengerDir',
    flag: '--challenger',
    env: 'FRAUDSCORE_CHALLENGER_DIR',
    kind: 'string',
    default: undefined,
    help: 'Optional challenger model folder, scored in shadow (never decides).',
  },
  {
    key: 'modelPollMs',
    flag: '--model-poll-ms',
    env: 'FRAUDSCORE_MODEL_POLL_MS',
    kind: 'int',
    min: 100,
    default: '2000',
    help: 'How often the model folder is checked for a new model, in ms (a stat of manifest.json and the model file; they are read and hashed only after one changed).',
  },
]);

/** Micro-batching, inference budget and deadline, decision thresholds (run and rescore). */
export const SCORING_OPTIONS = defineOptions([
  {
    key: 'maxBatch',
    flag: '--max-batch',
    env: 'FRAUDSCORE_MAX_BATCH',
    kind: 'int',
    min: 1,
    max: 8192,
    default: '256',
    help: 'Largest micro-batch: records per feature round trip and per model run.',
  },
  {
    key: 'maxWaitMs',
    flag: '--max-wait-ms',
    env: 'FRAUDSCORE_MAX_WAIT_MS',
    kind: 'number',
    min: 0,
    max: 1000,
    default: '5',
    help: 'Longest a record waits for its micro-batch to fill while the previous batch is written, in ms (an idle scorer starts a batch at once).',
  },
  {
    key: 'batchesPerWrite',
    flag: '--batches-per-write',
    env: 'FRAUDSCORE_BATCHES_PER_WRITE',
    kind: 'int',
    min: 1,
    max: 64,
    default: '4',
    help: 'Most micro-batches prepared while a write runs and then written together (one produce and commit, one transaction; at most 2,048 records unless one batch holds more); 1 writes each batch alone.',
  },
  {
    key: 'inferenceBudgetMs',
    flag: '--inference-budget-ms',
    env: 'FRAUDSCORE_INFERENCE_BUDGET_MS',
    kind: 'number',
    min: 0,
    default: '1',
    help: 'Inference time per micro-batch above which the batch is counted as over budget.',
  },
  {
    key: 'inferenceDeadlineMs',
    flag: '--inference-deadline-ms',
    env: 'FRAUDSCORE_INFERENCE_DEADLINE_MS',
    kind: 'number',
    min: 1,
    default: '50',
    help: 'Inference time after which the batch is decided by the rule-based fallback, marked degraded; an ONNX run cannot be interrupted (it runs on the main thread): past it, it finishes and counts as over budget.',
  },
  {
    key: 'reviewThreshold',
    flag: '--review-threshold',
    env: 'FRAUDSCORE_REVIEW_THRESHOLD',
    kind: 'number',
    min: 0,
    max: 1,
    default: undefined,
    help: "Score from which a transaction is sent to REVIEW (default: the model manifest's).",
  },
  {
    key: 'declineThreshold',
    flag: '--decline-threshold',
    env: 'FRAUDSCORE_DECLINE_THRESHOLD',
    kind: 'number',
    min: 0,
    max: 1,
    default: undefined,
    help: "Score from which a transaction is DECLINEd (default: the model manifest's).",
  },
]);

/** Where the Redis feature store is and how to reach it: URL, TLS, password file, Cluster (issues 12, 13). */
export const REDIS_CONNECTION_OPTIONS = defineOptions([
  {
    key: 'redisUrl',
    flag: '--redis',
    env: 'REDIS_URL',
    kind: 'string',
    default: undefined,
    help: 'Redis feature store, e.g. redis://127.0.0.1:6379. Unset: in-memory feature store.',
  },
  {
    key: 'redisCluster',
    flag: '--redis-cluster',
    env: 'FRAUDSCORE_REDIS_CLUSTER',
    kind: 'bool',
    default: 'false',
    help: 'REDIS_URL is a Redis Cluster: one or more seed nodes, comma-separated (redis://user@h1:7000,h2:7001); the rest are discovered, failovers followed.',
  },
  {
    key: 'redisPasswordFile',
    flag: '--redis-password-file',
    env: 'REDIS_PASSWORD_FILE',
    kind: 'string',
    default: undefined,
    help: "File whose first line is the Redis user's password (a mounted secret); wins over a password in REDIS_URL.",
  },
  {
    key: 'redisTlsCa',
    flag: '--redis-tls-ca',
    env: 'REDIS_TLS_CA',
    kind: 'string',
    default: undefined,
    help: "PEM file of the CA that signed the Redis server's certificate (rediss:// URLs; default: the system CAs).",
  },
  {
    key: 'redisTlsCert',
    flag: '--redis-tls-cert',
    env: 'REDIS_TLS_CERT',
    kind: 'string',
    default: undefined,
    help: 'PEM client certificate for Redis servers that ask for one (with --redis-tls-key).',
  },
  {
    key: 'redisTlsKey',
    flag: '--redis-tls-key',
    env: 'REDIS_TLS_KEY',
    kind: 'string',
    default: undefined,
    help: 'PEM private key of --redis-tls-cert.',
  },
  {
    key: 'redisTlsServername',
    flag: '--redis-tls-servername',
    env: 'REDIS_TLS_SERVERNAME',
    kind: 'string',
    default: undefined,
    help: "Name sent as SNI and checked against the Redis server's certificate (default: the host in REDIS_URL; the check is never off).",
  },
]);

/** The feature store's in-memory bound: the scorer's and rescore's. */
export const FEATURE_CACHE_OPTION = {
  key: 'featureCacheEntries',
  flag: '--feature-cache-entries',
  env: 'FRAUDSCORE_FEATURE_CACHE_ENTRIES',
  kind: 'int',
  min: 1000,
  // Windows span 38 days, so without a bound the cache grows with 38 days of traffic. About 0.5 KB of
  // RSS each once full (npm run soak: 670 MB at 300,000, about 1,050 MB at 1,000,000).
  default: '1000000',
  help: "Transactions the Redis feature store keeps in memory, over all cached customers' and terminals' windows; past it the least recently used are dropped and their logs read from Redis again on their next transaction.",
} as const;

/** The Redis feature store: its connection, key prefix and timeout. */
export const FEATURE_STORE_OPTIONS = defineOptions([
  ...REDIS_CONNECTION_OPTIONS,
  {
    key: 'redisPrefix',
    flag: '--redis-prefix',
    env: 'FRAUDSCORE_REDIS_PREFIX',
    kind: 'string',
    default: 'fs:',
    help: 'Prefix of every feature-store key (one namespace per deployment or backtest).',
  },
  FEATURE_CACHE_OPTION,
  {
    key: 'redisTimeoutMs',
    flag: '--redis-timeout-ms',
    env: 'FRAUDSCORE_REDIS_TIMEOUT_MS',
    kind: 'int',
    min: 1,
    // One pipelined round trip per batch (two APPENDs per transaction, see npm run bench:features); a
    // tight bound would mark healthy batches degraded whenever the machine is busy.
    default: '250',
    help: 'Timeout of a feature round trip (one pipeline per micro-batch, per master on a Redis Cluster); past it the batch is scored with default features, marked degraded.',
  },
]);

/** The drift window exported as PSI. */
export const DRIFT_OPTIONS = defineOptions([
  {
    key: 'driftWindow',
    flag: '--drift-window',
    env: 'FRAUDSCORE_DRIFT_WINDOW',
    kind: 'int',
    min: 100,
    max: 1_000_000,
    default: '10000',
    help: 'Records in the sliding window whose feature and score PSI against the model baseline is exported.',
  },
  {
    key: 'driftWarmup',
    flag: '--drift-warmup',
    env: 'FRAUDSCORE_DRIFT_WARMUP',
    kind: 'int',
    min: 0,
    max: 100_000_000,
    default: '10000',
    help: 'Records scored after a start or model reload before the drift window starts filling (drift alerts wait for it and a full window). After an empty feature store, set it to about 37 days of traffic or warm the store first.',
  },
]);

/** The /metrics, /healthz, /readyz and /dashboard server. */
export const HTTP_OPTIONS = defineOptions([
  {
    key: 'httpHost',
    flag: '--http-host',
    env: 'FRAUDSCORE_HTTP_HOST',
    kind: 'string',
    default: '127.0.0.1',
    help: 'Address of the /metrics, /healthz, /readyz and /dashboard server.',
  },
  {
    key: 'httpPort',
    flag: '--http-port',
    env: 'FRAUDSCORE_HTTP_PORT',
    kind: 'int',
    min: 0,
    max: 65535,
    default: '9464',
    help: 'Port of the HTTP server (0: any free port; -1 is not accepted: use --no-http).',
  },
  {
    key: 'noHttp',
    flag: '--no-http',
    env: 'FRAUDSCORE_NO_HTTP',
    kind: 'bool',
    default: 'false',
    help: 'Do not serve HTTP.',
  },
]);

/** Embedded mode: the generated stream. */
export const EMBEDDED_OPTIONS = defineOptions([
  {
    key: 'count',
    flag: '--count',
    env: 'FRAUDSCORE_EMBEDDED_COUNT',
    kind: 'int',
    min: 1,
    default: '20000',
    help: 'Embedded mode: how many generated transactions to score.',
  },
  {
    key: 'rate',
    flag: '--rate',
    env: 'FRAUDSCORE_EMBEDDED_RATE',
    kind: 'int',
    min: 0,
    default: '0',
    help: 'Embedded mode: generate at most this many transactions per second (0: as fast as possible), e.g. to watch /dashboard.',
  },
  {
    key: 'seed',
    flag: '--seed',
    env: 'FRAUDSCORE_SEED',
    kind: 'int',
    default: '42',
    help: 'Embedded mode: generator seed (same seed, same stream).',
  },
  {
    key: 'decisionsOut',
    flag: '--decisions-out',
    env: 'FRAUDSCORE_DECISIONS_OUT',
    kind: 'string',
    default: undefined,
    help: 'Embedded mode: also write the decisions as NDJSON to this file.',
  },
]);

/** The progress line every long command draws on stderr (one variable for all of them). */
export const PROGRESS_OPTIONS = defineOptions([
  {
    key: 'progress',
    flag: '--progress',
    env: 'FRAUDSCORE_PROGRESS',
    kind: 'enum',
    choices: ['auto', 'on', 'off'],
    default: 'auto',
    help: 'Progress line on stderr: auto shows it on a terminal only.',
  },
]);

/** A Confluent-compatible schema registry (issue 13), for run and replay. */
export const SCHEMA_REGISTRY_CLIENT_OPTIONS = defineOptions([
  {
    key: 'schemaRegistryUrl',
    flag: '--schema-registry',
    env: 'SCHEMA_REGISTRY_URL',
    kind: 'string',
    default: undefined,
    help: 'Confluent-compatible schema registry, e.g. http://127.0.0.1:8081 or https://host/apis/ccompat/v7 (Apicurio). run resolves writer schemas by id from it and registers the decision schema under <decisions topic>-value; replay registers the transaction and label schemas under <topic>-value and frames its records with their ids. Unset: the built-in ids (1, 2 transactions; 10 decisions).',
  },
  {
    key: 'schemaRegistryUser',
    flag: '--schema-registry-user',
    env: 'SCHEMA_REGISTRY_USER',
    kind: 'string',
    default: undefined,
    help: 'Schema registry basic-auth user (also API key).',
  },
  {
    key: 'schemaRegistryPassword',
    flag: '--schema-registry-password',
    env: 'SCHEMA_REGISTRY_PASSWORD',
    kind: 'string',
    default: undefined,
    help: 'Schema registry basic-auth password (prefer --schema-registry-password-file).',
  },
  {
    key: 'schemaRegistryPasswordFile',
    flag: '--schema-registry-password-file',
    env: 'SCHEMA_REGISTRY_PASSWORD_FILE',
    kind: 'string',
    default: undefined,
    help: 'File whose first line is the schema registry password (a mounted secret).',
  },
  {
    key: 'schemaRegistryCa',
    flag: '--schema-registry-ca',
    env: 'SCHEMA_REGISTRY_CA',
    kind: 'string',
    default: undefined,
    help: "PEM file of the CA that signed an https registry's certificate (default: the system CAs).",
  },
  {
    key: 'schemaRegistryUnavailableMs',
    flag: '--schema-registry-unavailable-ms',
    env: 'SCHEMA_REGISTRY_UNAVAILABLE_MS',
    kind: 'int',
    default: '30000',
    min: 0,
    help: 'How long an unreachable registry is retried (at start, and for each new writer schema id) before the run stops with FRAUD_REGISTRY_UNAVAILABLE; records are never dead-lettered for it.',
  },
]);

/** Whether run registers the decision schema. */
export const SCHEMA_REGISTRY_RUN_OPTIONS = defineOptions([
  {
    key: 'schemaRegistryAutoRegister',
    flag: '--schema-registry-auto-register',
    env: 'SCHEMA_REGISTRY_AUTO_REGISTER',
    kind: 'bool',
    default: 'true',
    help: 'Register the decision schema at start (false: it must already be registered under <decisions topic>-value).',
  },
]);

export const RUN_OPTIONS = defineOptions([
  ...KAFKA_RUN_OPTIONS,
  ...KAFKA_SECURITY_OPTIONS,
  ...MODEL_OPTIONS,
  ...SCORING_OPTIONS,
  ...FEATURE_STORE_OPTIONS,
  ...DRIFT_OPTIONS,
  ...HTTP_OPTIONS,
  ...EMBEDDED_OPTIONS,
  ...PROGRESS_OPTIONS,
  ...SCHEMA_REGISTRY_CLIENT_OPTIONS,
  ...SCHEMA_REGISTRY_RUN_OPTIONS,
]);
