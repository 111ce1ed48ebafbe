// Vitest global setup: make sure the real services the integration tests talk to are up.
// Kafka and Redis that already answer are used as they are (and left alone afterwards); whichever
// does not answer is started with scripts/stack.sh and stopped again in teardown, and only that one.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ensureTopics, loadTopicSpecs, packageRoot, waitForKafka } from '../src/kafka/admin.js';
import { brokerApiVersions, kafkaBrokers, kafkaReleaseOfMetadataLevel, redisUrl } from './helpers/stack.js';

const root = packageRoot();
let startedByUs: string[] = [];

async function kafkaAnswers(): Promise<boolean> {
  try {
    await waitForKafka(kafkaBrokers(), 3000);
    return true;
  } catch {
    return false;
  }
}

/** The tests are written for Kafka 4 in KRaft mode (transactions v2, no ZooKeeper): say which one answers. */
async function kafkaRelease(): Promise<string> {
  const { finalizedFeatures } = await brokerApiVersions(kafkaBrokers()[0]!);
  const level = finalizedFeatures.get('metadata.version');
  if (level === undefined) throw new Error(`Kafka at ${kafkaBrokers()[0]} reports no metadata.version: not KRaft`);
  return kafkaReleaseOfMetadataLevel(level);
}

async function redisVersion(): Promise<string> {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}

async function redisAnswers(): Promise<boolean> {
  const redis = new Redis(redisUrl(), {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function stack(...args: string[]): void {
  const result = spawnSync('bash', [join(root, 'scripts', 'stack.sh'), ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`bash scripts/stack.sh ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}

/** Crash and shutdown tests run the CLI as a child process from dist/: compile the current sources first. */
function build(): void {
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error(`tsc -p tsconfig.build.json failed (exit ${result.status ?? result.signal})`);
}

export default async function setup(): Promise<() => Promise<void>> {
  build();
  const [kafkaUp, redisUp] = await Promise.all([kafkaAnswers(), redisAnswers()]);
  const missing = [...(kafkaUp ? [] : ['kafka']), ...(redisUp ? [] : ['redis'])];
  if (missing.length > 0) {
    console.log(
      `[global-setup] not answering: ${missing.join(', ')}; running scripts/stack.sh up ${missing.join(' ')}`,
    );
    startedByUs = missing;
    try {
      stack('up', ...missing);
      if (!kafkaUp) await waitForKafka(kafkaBrokers(), 30_000);
      if (!redisUp && !(await redisAnswers())) throw new Error(`Redis at ${redisUrl()} does not answer PING`);
    } catch (err) {
      // Vitest runs no teardown when setup throws: stop what was started here before failing.
      await teardown();
      throw err;
    }
  } else {
    console.log(`[global-setup] using running Kafka (${kafkaBrokers().join(',')}) and Redis (${redisUrl()})`);
  }
  const [release, redis] = await Promise.all([kafkaRelease(), redisVersion()]);
  console.log(`[global-setup] Kafka ${release} (KRaft), Redis ${redis}`);
  if (!release.startsWith('4.')) throw new Error(`the tests need Kafka 4.x, found ${release}`);
  await ensureTopics(kafkaBrokers(), loadTopicSpecs());
  return teardown;
}

export async function teardown(): Promise<void> {
  if (startedByUs.length === 0) return;
  const services = startedByUs;
  startedByUs = [];
  console.log(`[global-setup] stopping what this run started: ${services.join(', ')}`);
  stack('down', ...services);
}
