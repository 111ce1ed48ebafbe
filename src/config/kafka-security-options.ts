// Kafka TLS and SASL options (issue 13), once for every command that talks to Kafka: `run` spreads
// them into RUN_OPTIONS, `replay`, `rescore` and `backtest` through KAFKA_TOOL_OPTIONS.
// Turned into client configurations in one place: src/kafka/security.ts.
import { defineOptions, type OptionsOf } from './option-spec.js';

export const KAFKA_SECURITY_PROTOCOLS = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const;
export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;

export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export const KAFKA_SECURITY_OPTIONS = defineOptions([
  {
    key: 'kafkaSecurityProtocol',
    flag: '--kafka-security-protocol',
    env: 'FRAUDSCORE_KAFKA_SECURITY_PROTOCOL',
    kind: 'enum',
    choices: KAFKA_SECURITY_PROTOCOLS,
    default: 'plaintext',
    help: 'How to talk to the brokers: plaintext, ssl (TLS), sasl_ssl (SASL over TLS) or sasl_plaintext (SASL without TLS: the credentials cross the network in the clear, loopback only).',
  },
  {
    key: 'kafkaTlsCa',
    flag: '--kafka-tls-ca',
    env: 'FRAUDSCORE_KAFKA_TLS_CA',
    kind: 'string',
    help: "PEM file of the CA(s) that signed the brokers' certificates (ssl, sasl_ssl; default: the system CAs).",
  },
  {
    key: 'kafkaTlsCert',
    flag: '--kafka-tls-cert',
    env: 'FRAUDSCORE_KAFKA_TLS_CERT',
    kind: 'string',
    help: 'PEM client certificate for brokers that require one (mTLS; with --kafka-tls-key).',
  },
  {
    key: 'kafkaTlsKey',
    flag: '--kafka-tls-key',
    env: 'FRAUDSCORE_KAFKA_TLS_KEY',
    kind: 'string',
    help: 'PEM private key of --kafka-tls-cert (unencrypted; mount it as a secret file).',
  },
  {
    key: 'kafkaTlsHostnameCheck',
    flag: '--kafka-tls-hostname-check',
    env: 'FRAUDSCORE_KAFKA_TLS_HOSTNAME_CHECK',
    kind: 'bool',
    default: 'true',
    help: "Check that each broker's certificate names the host it was reached at (--kafka-tls-hostname-check=false turns it off; the chain is always verified).",
  },
  {
    key: 'kafkaSaslMechanism',
    flag: '--kafka-sasl-mechanism',
    env: 'FRAUDSCORE_KAFKA_SASL_MECHANISM',
    kind: 'enum',
    choices: KAFKA_SASL_MECHANISMS,
    help: 'SASL mechanism (sasl_ssl, sasl_plaintext): PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (user and password) or OAUTHBEARER (a token file).',
  },
  {
    key: 'kafkaSaslUsername',
    flag: '--kafka-sasl-username',
    env: 'FRAUDSCORE_KAFKA_SASL_USERNAME',
    kind: 'string',
    help: 'SASL user (PLAIN, SCRAM); its principal User:<name> is what the ACLs name.',
  },
  {
    key: 'kafkaSaslPassword',
    flag: '--kafka-sasl-password',
    env: 'FRAUDSCORE_KAFKA_SASL_PASSWORD',
    kind: 'string',
    help: "SASL user's password (prefer --kafka-sasl-password-file: a flag shows in the process list).",
  },
  {
    key: 'kafkaSaslPasswordFile',
    flag: '--kafka-sasl-password-file',
    env: 'FRAUDSCORE_KAFKA_SASL_PASSWORD_FILE',
    kind: 'string',
    help: "File whose first line is the SASL user's password (a mounted secret).",
  },
  {
    key: 'kafkaSaslOauthTokenFile',
    flag: '--kafka-sasl-oauth-token-file',
    env: 'FRAUDSCORE_KAFKA_SASL_OAUTH_TOKEN_FILE',
    kind: 'string',
    help: 'OAUTHBEARER: file holding the bearer token (a JWT), read again at every refresh so that a sidecar can rotate it.',
  },
]);

/** The parsed options (file paths and the password as given, nothing read yet). */
export type KafkaSecurityOptions = OptionsOf<typeof KAFKA_SECURITY_OPTIONS>;
