// Feeds a ConsumerProgress from a kafkajs consumer's instrumentation events, so the kafkajs source and
// the labels consumer need one call each. Another client makes the same ProgressFeed calls itself.

import type { Consumer } from 'kafkajs';
import type { ProgressFeed } from './consumer-progress.js';

/**
 * Subscribes `progress` to `consumer`. END_BATCH_PROCESS comes after eachBatch has returned, i.e. after
 * the batch's records are durably processed (both fraudscore consumers await that inside eachBatch);
 * kafkajs emits it also for batches of only transaction markers or aborted records, which never reach
 * eachBatch, so the position moves past them.
 */
export function feedProgressFromKafkajs(consumer: Consumer, progress: ProgressFeed): void {
  // Assignment from GROUP_JOIN only (not cleared on REBALANCING): a partition kept across a rebalance
  // or a crash–restart keeps its position and how long its records have waited.
  const ev = consumer.events;
  consumer.on(ev.GROUP_JOIN, (e) => {
    const assigned: string[] = [];
    for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
      for (const p of partitions) assigned.push(`${topic}/${p}`);
    }
    progress.assigned(assigned);
    progress.up();
  });
  consumer.on(ev.START_BATCH_PROCESS, (e) => {
    const p = e.payload;
    const first = (p.firstOffset as string | null) === null ? Number(p.lastOffset) + 1 : Number(p.firstOffset);
    progress.fetched(p.topic, p.partition, first, Number(p.highWatermark));
  });
  consumer.on(ev.END_BATCH_PROCESS, (e) => {
    const p = e.payload;
    progress.written(p.topic, p.partition, Number(p.lastOffset) + 1);
  });
  consumer.on(ev.CRASH, (e) => {
    const err = e.payload.error as Error;
    progress.down(
      `crashed (${err?.message ?? String(err)}); ${e.payload.restart ? 'kafkajs restarts it' : 'not restarted'}`,
    );
  });
  consumer.on(ev.STOP, () => progress.down('stopped'));
}
