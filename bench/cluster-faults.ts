// What the chaos runner's cluster cases (issue 12) need to know about a 3-broker Kafka and a Redis
// Cluster before and during a fault: which broker to kill, which Redis master, when its replica took
// over, and what the features of an undegraded decision must be.
import { spawnSync } from 'node:child_process';
import type { Admin } from 'kafkajs';
import { N_FEATURES } from '../src/features/feature-names.js';
import { MemoryFeatureStore } from '../src/features/memory-store.js';
import type { Transaction } from '../src/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The broker (node id = scripts/stack.sh node index) leading most partitions of `topics` (the
 * transactions topics the scorers consume); ties go to the one leading most partitions of the
 * transaction state log, where the scorers' transaction coordinators live.
 */
export async function busiestLeader(
  admin: Admin,
  topics: string[],
): Promise<{ node: number; leads: number; txnLogLeads: number }> {
  const count = async (names: string[]) => {
    const n = new Map<number, number>();
    for (const t of (await admin.fetchTopicMetadata({ topics: names })).topics)
      for (const p of t.partitions) n.set(p.leader, (n.get(p.leader) ?? 0) + 1);
    return n;
  };
  const leads = await count(topics);
  const txnLog = await count(['__transaction_state']).catch(() => new Map<number, number>());
  let best = { node: 1, leads: -1, txnLogLeads: -1 };
  for (const [node, n] of leads) {
    const t = txnLog.get(node) ?? 0;
    if (n > best.leads || (n === best.leads && t > best.txnLogLeads)) best = { node, leads: n, txnLogLeads: t };
  }
  return best;
}

export function redisCli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
    timeout: 5000,
  }).stdout.trim();
}

/** Master port → port of a replica whose link is up, from each node's own ROLE. */
export function replicaOf(ports: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const port of ports) {
    const role = redisCli(port, 'role').split('\n');
    if (role[0] === 'slave' && role[3] === 'connected') out.set(Number(role[2]), port);
  }
  return out;
}

/** Waits until every master has a linked replica (after create or a rejoin). */
export async function redisReplicated(ports: readonly number[], timeoutMs = 60_000): Promise<Map<number, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = replicaOf(ports);
    if (t.size === ports.length / 2) return t;
    if (Date.now() > deadline) throw new Error(`Redis Cluster replicas not linked: ${JSON.stringify([...t])}`);
    await sleep(200);
  }
}

/** Polls `port` every 20 ms until it says it is a master; the time it first did. */
export async function promotedAt(port: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (redisCli(port, 'role').startsWith('master')) return Date.now();
    await sleep(20);
  }
  throw new Error(`Redis replica :${port} was not promoted within ${timeoutMs} ms`);
}

/**
 * Feature indices a live decision must share with the in-memory store fed the stream in send order:
 * everything but the terminal windows, which follow the cross-partition watermark (they equal backfill
 * only once a backlog has drained, DESIGN.md) and so depend on when each partition was read.
 */
export const CUSTOMER_FEATURES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 18];

/** id → the reference features at CUSTOMER_FEATURES, from the in-memory store in send order. */
export function referenceFeatures(sent: readonly Transaction[]): Map<string, number[]> {
  const out = new Float32Array(sent.length * N_FEATURES);
  void new MemoryFeatureStore().enrich(sent, sent.length, out);
  const ref = new Map<string, number[]>();
  for (let i = 0; i < sent.length; i++)
    ref.set(
      sent[i].transaction_id,
      CUSTOMER_FEATURES.map((f) => out[i * N_FEATURES + f]),
    );
  return ref;
}
