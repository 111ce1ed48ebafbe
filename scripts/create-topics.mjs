#!/usr/bin/env node
// Creates the project's Kafka topics from deploy/topics.json (the single source of truth).
// Idempotent: topics that already exist are left as they are.
// Brokers from KAFKA_BROKERS (comma separated), default 127.0.0.1:9092.
// On a replicated cluster, FRAUDSCORE_TOPIC_REPLICATION_FACTOR and FRAUDSCORE_TOPIC_MIN_INSYNC_REPLICAS
// override every spec's replicationFactor and min.insync.replicas (topics.json describes one node);
// a topic that exists with fewer replicas than asked is reported, never changed.
// Used by scripts/stack.sh and by the kafka-init service of docker-compose.yml.
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

const specsUrl = new URL('../deploy/topics.json', import.meta.url);
const specs = JSON.parse(readFileSync(specsUrl, 'utf8'));
const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);
const timeoutMs = Number(process.env.CREATE_TOPICS_TIMEOUT_MS || 60000);
const rfOverride = positiveInt('FRAUDSCORE_TOPIC_REPLICATION_FACTOR');
const minIsrOverride = positiveInt('FRAUDSCORE_TOPIC_MIN_INSYNC_REPLICAS');
if (rfOverride !== undefined && minIsrOverride !== undefined && minIsrOverride > rfOverride) {
  console.error(
    `[create-topics] min.insync.replicas ${minIsrOverride} > replication factor ${rfOverride}: no write could succeed`,
  );
  process.exit(2);
}
for (const s of specs) {
  if (rfOverride !== undefined) s.replicationFactor = rfOverride;
  if (minIsrOverride !== undefined) s.config = { ...s.config, 'min.insync.replicas': String(minIsrOverride) };
}

function positiveInt(name) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`[create-topics] ${name} must be a positive integer, got '${raw}'`);
    process.exit(2);
  }
  return n;
}

const kafka = new Kafka({
  clientId: 'fraudscore-create-topics',
  brokers,
  logLevel: logLevel.NOTHING,
  retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 3000 },
});
const admin = kafka.admin();

async function main() {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await admin.connect();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    // Fresh brokers of a cluster can answer metadata before they host the new partitions ("does not
    // host this topic-partition" while waiting for leaders): retry until every partition has a leader.
    for (let attempt = 1; ; attempt++) {
      try {
        await createMissing(attempt === 1);
        await leadersElected();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        console.log(`[create-topics] retrying (attempt ${attempt}: ${err?.message ?? err})`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

async function leadersElected() {
  const meta = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
  for (const t of meta.topics) {
    const leaderless = t.partitions.filter((p) => p.leader < 0).length;
    if (leaderless > 0) throw new Error(`${t.name}: ${leaderless} partition(s) without a leader yet`);
  }
}

async function createMissing(report) {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  const present = specs.filter((s) => existing.has(s.name));
  const meta =
    present.length > 0 ? await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) }) : { topics: [] };
  for (const s of present) {
    const t = meta.topics.find((m) => m.name === s.name);
    const rf = Math.min(...(t?.partitions ?? []).map((p) => p.replicas.length));
    const want = s.replicationFactor ?? 1;
    const note = Number.isFinite(rf) && rf < want ? ` with ${rf} replica(s), fewer than ${want}: not changed` : '';
    if (report) console.log(`[create-topics] ${s.name}: exists${note}`);
  }
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      timeout: 30000,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor ?? 1,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value: String(value) })),
      })),
    });
    for (const s of missing) {
      const isr = s.config?.['min.insync.replicas'];
      console.log(
        `[create-topics] ${s.name}: created (${s.partitions} partitions, RF ${s.replicationFactor ?? 1}${isr ? `, min.insync.replicas ${isr}` : ''})`,
      );
    }
  }
}

main().catch((err) => {
  console.error(`[create-topics] failed against ${brokers.join(',')}: ${err?.message ?? err}`);
  process.exit(1);
});
