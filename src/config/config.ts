import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { kafkaSecurityProblems } from '../kafka/security.js';
import { redactUrls } from '../log/redact.js';
import { fromRoot } from '../package-root.js';
import type { OptionsOf } from './option-spec.js';
import { RUN_OPTIONS } from './options.js';
import { parseOptions } from './parse-options.js';

export type RunConfig = OptionsOf<typeof RUN_OPTIONS>;
export type Delivery = RunConfig['delivery'];

/**
 * `fraudscore run`'s config: flags win over environment variables, which win over defaults. Every
 * problem is collected and reported at once, each saying what is wrong and how to fix it.
 */
export function parseRunConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RunConfig {
  return parseOptions('run', RUN_OPTIONS, argv, env, ({ values: cfg }, problem) => {
    if (cfg.reviewThreshold !== undefined && cfg.declineThreshold !== undefined) {
      if (!(cfg.reviewThreshold < cfg.declineThreshold)) {
        problem(
          `--review-threshold (${cfg.reviewThreshold}) must be below --decline-threshold (${cfg.declineThreshold})`,
        );
      }
    }
    for (const p of redisProblems(cfg)) problem(p);
    for (const p of brokerProblems(cfg.brokers)) problem(p);
    for (const p of kafkaSecurityProblems(cfg)) problem(p);
    for (const p of schemaRegistryProblems(cfg)) problem(p);
    cfg.modelDir = resolveModelDir(cfg.modelDir, '--model / FRAUDSCORE_MODEL_DIR', problem);
    if (cfg.challengerDir !== undefined) {
      cfg.challengerDir = resolveModelDir(cfg.challengerDir, '--challenger / FRAUDSCORE_CHALLENGER_DIR', problem);
    }
  }).values;
}

/** Every Kafka bootstrap server must be host:port. */
export function brokerProblems(brokers: readonly string[] | undefined): string[] {
  return (brokers ?? [])
    .filter((b) => !/^[^:\s]+:\d{1,5}$/.test(b))
    .map((b) => `KAFKA_BROKERS / --brokers entries must be host:port, got ${JSON.stringify(b)}`);
}

/** A registry URL that is http(s), and its password given once (never shown). */
export function schemaRegistryProblems(cfg: {
  schemaRegistryUrl: string | undefined;
  schemaRegistryPassword: string | undefined;
  schemaRegistryPasswordFile: string | undefined;
}): string[] {
  const problems: string[] = [];
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
  return problems;
}

/** Redis security and cluster options that only make sense together (issues 12, 13). */
export function redisProblems(
  cfg: Pick<
    RunConfig,
    | 'redisUrl'
    | 'redisCluster'
    | 'redisPasswordFile'
    | 'redisTlsCa'
    | 'redisTlsCert'
    | 'redisTlsKey'
    | 'redisTlsServername'
  >,
): string[] {
  const problems: string[] = [];
  const url = cfg.redisUrl;
  if (url !== undefined && !/^rediss?:\/\//.test(url)) {
    problems.push(`REDIS_URL / --redis must look like redis://host:port, got ${JSON.stringify(redactUrls(url))}`);
  }
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
export function resolveModelDir(dir: string, name: string, problem: (message: string) => void): string {
  const candidates = isAbsolute(dir) ? [dir] : [resolve(dir), fromRoot(dir)];
  for (const c of candidates) {
    if (existsSync(resolve(c, 'manifest.json'))) return c;
  }
  problem(`${name}: no manifest.json in ${candidates.join(' or ')} (point it at a folder under models/)`);
  return dir;
}
