import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ErrorCodes, FraudError } from '../errors.js';
import { kafkaSecurityProblems } from '../kafka/security.js';
import { redactUrls } from '../log/redact.js';
import { fromRoot } from '../package-root.js';
import type { KafkaSecurityOptions } from './kafka-security-options.js';
import { type OptionSpec, RUN_OPTIONS } from './options.js';

export type Delivery = 'exactly-once' | 'at-least-once';

export interface RunConfig extends KafkaSecurityOptions {
  brokers: string[] | undefined;
  redisUrl: string | undefined;
  transactionsTopic: string;
  decisionsTopic: string;
  dlqTopic: string;
  labelsTopic: string;
  groupId: string;
  clientId: string;
  delivery: Delivery;
  kafkaClient: 'confluent' | 'kafkajs';
  connectTimeoutMs: number;
  sessionTimeoutMs: number;
  partitionsConcurrently: number;
  wireFormat: 'auto' | 'confluent' | 'plain';
  modelDir: string;
  challengerDir: string | undefined;
  modelPollMs: number;
  maxBatch: number;
  maxWaitMs: number;
  maxInFlight: number;
  inferenceBudgetMs: number;
  inferenceDeadlineMs: number;
  reviewThreshold: number | undefined;
  declineThreshold: number | undefined;
  redisPrefix: string;
  redisTimeoutMs: number;
  driftWindow: number;
  driftWarmup: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4';
  stallTimeoutMs: number;
  headPollMs: number;
  httpHost: string;
  httpPort: number;
  noHttp: boolean;
  count: number;
  rate: number;
  seed: number;
  decisionsOut: string | undefined;
  progress: 'auto' | 'on' | 'off';
  schemaRegistryUrl: string | undefined;
  schemaRegistryUser: string | undefined;
  schemaRegistryPassword: string | undefined;
  schemaRegistryPasswordFile: string | undefined;
  schemaRegistryCa: string | undefined;
  schemaRegistryAutoRegister: boolean;
  schemaRegistryUnavailableMs: number;
  redisCluster: boolean;
  redisPasswordFile: string | undefined;
  redisTlsCa: string | undefined;
  redisTlsCert: string | undefined;
  redisTlsKey: string | undefined;
  redisTlsServername: string | undefined;
}

/**
 * Flags win over environment variables, which win over defaults. Every problem is collected and
 * reported at once, each saying what is wrong and how to fix it.
 */
export function parseRunConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RunConfig {
  const raw = new Map<string, { value: string; from: string }>();
  const problems: string[] = [];
  const byFlag = new Map(RUN_OPTIONS.map((o) => [o.flag, o]));

  for (const o of RUN_OPTIONS) {
    const v = env[o.env];
    if (v !== undefined && v !== '') raw.set(o.key, { value: v, from: `environment variable ${o.env}` });
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byFlag.get(flag);
    if (spec === undefined) {
      problems.push(`unknown option ${JSON.stringify(arg)} (see fraudscore run --help)`);
      continue;
    }
    if (spec.kind === 'bool' && eq < 0) {
      raw.set(spec.key, { value: 'true', from: `flag ${flag}` });
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) {
      problems.push(`option ${flag} needs a value (${spec.help})`);
      continue;
    }
    raw.set(spec.key, { value, from: `flag ${flag}` });
  }

  const out: Record<string, unknown> = {};
  for (const o of RUN_OPTIONS) {
    const given = raw.get(o.key);
    const value = given?.value ?? o.default;
    if (value === undefined) {
      out[o.key] = undefined;
      continue;
    }
    const parsed = parseValue(o, value, given?.from ?? 'default', problems);
    out[o.key] = parsed;
  }

  const cfg = out as unknown as RunConfig;
  if (cfg.reviewThreshold !== undefined && cfg.declineThreshold !== undefined) {
    if (!(cfg.reviewThreshold < cfg.declineThreshold)) {
      problems.push(
        `--review-threshold (${cfg.reviewThreshold}) must be below --decline-threshold (${cfg.declineThreshold})`,
      );
    }
  }
  if (cfg.redisUrl !== undefined && !/^rediss?:\/\//.test(cfg.redisUrl)) {
    problems.push(
      `REDIS_URL / --redis must look like redis://host:port, got ${JSON.stringify(redactUrls(cfg.redisUrl))}`,
    );
  }
  problems.push(...redisProblems(cfg));
  problems.push(...kafkaSecurityProblems(cfg));
  for (const b of cfg.brokers ?? []) {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) {
      problems.push(`KAFKA_BROKERS / --brokers entries must be host:port, got ${JSON.stringify(b)}`);
    }
  }
  if (cfg.schemaRegistryUrl !== undefined && !/^https?:\/\//.test(cfg.schemaRegistryUrl)) {
    problems.push(
      `SCHEMA_REGISTRY_URL / --schema-registry must look like http(s)://host:port, got ${JSON.stringify(redactUrls(cfg.schemaRegistryUrl))}`,
    );
  }
  if (cfg.schemaRegistryPassword !== undefined && cfg.schemaRegistryPasswordFile !== undefined) {
    problems.push(
      'give the schema registry password once: --schema-registry-password or --schema-registry-password-file',
    );
  }
  cfg.modelDir = resolveModelDir(cfg.modelDir, '--model / FRAUDSCORE_MODEL_DIR', problems);
  if (cfg.challengerDir !== undefined) {
    cfg.challengerDir = resolveModelDir(cfg.challengerDir, '--challenger / FRAUDSCORE_CHALLENGER_DIR', problems);
  }
  if (problems.length > 0) {
    throw new FraudError(
      ErrorCodes.INVALID_CONFIG,
      `invalid configuration:\n  - ${problems.join('\n  - ')}\nRun \`fraudscore run --help\` for every option.`,
    );
  }
  return cfg;
}

/** Redis security and cluster options that only make sense together (issues 12, 13). */
function redisProblems(cfg: RunConfig): string[] {
  const problems: string[] = [];
  const url = cfg.redisUrl;
  const tlsGiven = [cfg.redisTlsCa, cfg.redisTlsCert, cfg.redisTlsKey, cfg.redisTlsServername].some(
    (v) => v !== undefined,
  );
  if (url === undefined) {
    if (tlsGiven || cfg.redisCluster || cfg.redisPasswordFile !== undefined)
      problems.push('the --redis-* connection options need REDIS_URL / --redis');
    return problems;
  }
  if (url.includes(',') && !cfg.redisCluster)
    problems.push(
      'REDIS_URL lists several nodes: that is a Redis Cluster, add --redis-cluster (FRAUDSCORE_REDIS_CLUSTER=true)',
    );
  if (tlsGiven && !/^rediss:\/\//.test(url))
    problems.push('--redis-tls-* options need a TLS URL: write REDIS_URL as rediss://host:port');
  if ((cfg.redisTlsCert === undefined) !== (cfg.redisTlsKey === undefined))
    problems.push('give both --redis-tls-cert and --redis-tls-key, or neither');
  return problems;
}

/** Relative model folders are looked up in the working directory first, then in the package. */
function resolveModelDir(dir: string, name: string, problems: string[]): string {
  const candidates = isAbsolute(dir) ? [dir] : [resolve(dir), fromRoot(dir)];
  for (const c of candidates) {
    if (existsSync(resolve(c, 'manifest.json'))) return c;
  }
  problems.push(`${name}: no manifest.json in ${candidates.join(' or ')} (point it at a folder under models/)`);
  return dir;
}

function parseValue(o: OptionSpec, value: string, from: string, problems: string[]): unknown {
  const where = `${o.flag} (${from})`;
  switch (o.kind) {
    case 'string':
      return value;
    case 'list': {
      const items = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0) problems.push(`${where} is empty`);
      return items;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      problems.push(`${where} must be true or false, got ${JSON.stringify(value)}`);
      return false;
    case 'enum':
      if (!o.choices!.includes(value)) {
        problems.push(`${where} must be one of ${o.choices!.join(', ')}, got ${JSON.stringify(value)}`);
      }
      return value;
    case 'int':
    case 'number': {
      const n = Number(value);
      const ok = value.trim() !== '' && Number.isFinite(n) && (o.kind === 'number' || Number.isInteger(n));
      if (!ok) {
        problems.push(
          `${where} must be ${o.kind === 'int' ? 'a whole number' : 'a number'}, got ${JSON.stringify(value)}`,
        );
        return Number.NaN;
      }
      if (o.min !== undefined && n < o.min) problems.push(`${where} must be at least ${o.min}, got ${n}`);
      if (o.max !== undefined && n > o.max) problems.push(`${where} must be at most ${o.max}, got ${n}`);
      return n;
    }
  }
}

export function runHelp(): string {
  const lines = [
    'Usage: fraudscore run [options]',
    '',
    'Scores transactions. With no Kafka configured it runs embedded: a generated stream through the',
    'in-memory feature store and the bundled model, then prints a summary. With KAFKA_BROKERS (and',
    'REDIS_URL) it consumes the transactions topic until SIGTERM/SIGINT.',
    '',
    'Options (flag, environment variable, default):',
  ];
  for (const o of RUN_OPTIONS) {
    const kind = o.kind === 'enum' ? o.choices!.join('|') : o.kind === 'bool' ? '' : `<${o.kind}>`;
    lines.push(`  ${o.flag}${kind ? ` ${kind}` : ''}`);
    lines.push(`      ${o.help}`);
    lines.push(`      env ${o.env}${o.default !== undefined ? `, default ${o.default}` : ''}`);
  }
  return lines.join('\n');
}
