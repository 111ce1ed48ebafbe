// Kafka administration used at pipeline start and by the test setup: the project's topics come from
// deploy/topics.json (the single source of truth, also read by scripts/create-topics.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, FraudError } from '../errors.js';
import kafkajs from './kafkajs.js';
import { type KafkaSecurity, kafkajsSecurity, PLAINTEXT } from './security.js';

const { Kafka, logLevel } = kafkajs;

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configuration (e.g. retention.ms), values as strings. */
  config?: Record<string, string>;
}

/** The package root: the nearest folder above this module holding a package.json. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

/** Reads deploy/topics.json of the package and validates its shape. */
export function loadTopicSpecs(path: string = join(packageRoot(), 'deploy', 'topics.json')): TopicSpec[] {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(raw)) throw new Error(`${path}: expected an array of topic specs`);
  return raw.map((entry: unknown, i: number): TopicSpec => {
    const e = entry as Partial<TopicSpec> | null;
    if (!e || typeof e.name !== 'string' || e.name.length === 0) throw new Error(`${path}[${i}]: missing name`);
    if (!Number.isInteger(e.partitions) || (e.partitions as number) < 1) {
      throw new Error(`${path}[${i}] (${e.name}): partitions must be a positive integer`);
    }
    const replicationFactor = e.replicationFactor ?? 1;
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
      throw new Error(`${path}[${i}] (${e.name}): replicationFactor must be a positive integer`);
    }
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.config ?? {})) config[k] = String(v);
    return { name: e.name, partitions: e.partitions as number, replicationFactor, config };
  });
}

function client(brokers: string[], clientId: string, security: KafkaSecurity) {
  return new Kafka({
    clientId,
    brokers,
    ...kafkajsSecurity(security),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/**
 * Creates the topics of `specs` that do not exist yet (idempotent; existing topics are left as
 * they are, also when a concurrent caller created them first). Waits for partition leaders.
 */
export async function ensureTopics(
  brokers: string[],
  specs: TopicSpec[],
  security: KafkaSecurity = PLAINTEXT,
): Promise<void> {
  const admin = client(brokers, 'fraudscore-admin', security).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        timeout: 30_000,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      // A concurrent creator won the race: fine as long as every topic now exists.
      const now = new Set(await admin.listTopics());
      if (!missing.every((s) => now.has(s.name))) throw err;
    }
  } finally {
    await admin.disconnect();
  }
}

/** Resolves once the cluster answers a metadata request with a controller; rejects after timeoutMs. */
export async function waitForKafka(
  brokers: string[],
  timeoutMs: number,
  security: KafkaSecurity = PLAINTEXT,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({
    clientId: 'fraudscore-wait',
    brokers,
    ...kafkajsSecurity(security),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  let lastError: unknown;
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0) return;
      lastError = new Error('cluster has no controller yet');
    } catch (err) {
      lastError = err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? lastError.message : String(lastError);
      throw new FraudError(
        ErrorCodes.STACK_UNAVAILABLE,
        `Kafka at ${brokers.join(',')} did not answer a metadata request within ${timeoutMs} ms: ${why}`,
        { cause: lastError, canRetry: true },
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
  }
}
