#!/usr/bin/env node
// Creates the project's Kafka topics from deploy/topics.json (the single source of truth).
// Idempotent: topics that already exist are left as they are.
// Brokers from KAFKA_BROKERS (comma separated), default 127.0.0.1:9092.
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
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    for (const s of specs) {
      if (existing.has(s.name)) console.log(`[create-topics] ${s.name}: exists`);
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
      for (const s of missing) console.log(`[create-topics] ${s.name}: created (${s.partitions} partitions)`);
    }
  } finally {
    await admin.disconnect();
  }
}

main().catch((err) => {
  console.error(`[create-topics] failed against ${brokers.join(',')}: ${err?.message ?? err}`);
  process.exit(1);
});
