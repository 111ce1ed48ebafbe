// The event-time watermark shared by every member of the consumer group, kept in one Redis hash:
// partition → '<progress>:<wall ms of the report>'. A partition's progress is the largest event time its
// member has written to the feature logs; since a partition is read in order, every event of it earlier
// than its progress is in Redis. The watermark W is the smallest progress over all partitions of the
// topic, so every event earlier than W, from any partition, is in Redis.
//
// A terminal feature of a transaction at t reads the window ending at t − 7 d. It is exact once
// t − 7 d < W; live, W is near now and nothing waits. In a catch-up a partition more than 7 days of event
// time ahead of the slowest waits for it. A partition that has not reported for idleMs (wall time) does
// not hold the others: it is left out of the minimum and counted (onIdle). A partition that never
// reported (no member has read from it yet, or it is empty) holds for at most min(idleMs, 2 s) from this
// member's first batch, so that a live start with an empty partition waits once, briefly.

export interface WatermarkOptions {
  /** A partition silent for this long (wall time) no longer holds the watermark (default 30 s). */
  idleMs?: number;
  /** Called with how many partitions were left out as idle when a watermark was computed. */
  onIdle?: (partitions: number) => void;
}

export const DEFAULT_WATERMARK_IDLE_MS = 30_000;
const MISSING_GRACE_MS = 2000;

export class Watermark {
  /** Largest event time seen per partition this member reads. */
  private readonly own = new Map<number, number>();
  private readonly idleMs: number;
  private readonly onIdle: (partitions: number) => void;
  private startedAt = 0;
  /** The last watermark computed (+Infinity until a context is seen: one in-order stream). */
  current = Number.POSITIVE_INFINITY;
  partitionCount = 0;

  constructor(options: WatermarkOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_WATERMARK_IDLE_MS;
    this.onIdle = options.onIdle ?? (() => {});
  }

  /** Updates own progress from a batch; returns the hash fields to write (partition, value) flattened. */
  advance(times: ArrayLike<number>, partitions: ArrayLike<number>, n: number, now: number): string[] {
    if (this.startedAt === 0) this.startedAt = now;
    const touched = new Set<number>();
    for (let i = 0; i < n; i++) {
      const p = partitions[i];
      const t = times[i];
      const had = this.own.get(p);
      if (had === undefined || t > had) this.own.set(p, t);
      touched.add(p);
    }
    const fields: string[] = [];
    for (const p of touched) fields.push(String(p), `${this.own.get(p)}:${now}`);
    return fields;
  }

  /** Computes W from the hash's contents (HGETALL reply). */
  update(hash: Record<string, string>, now: number): number {
    let w = Number.POSITIVE_INFINITY;
    let idle = 0;
    for (let p = 0; p < this.partitionCount; p++) {
      const v = hash[String(p)];
      if (v === undefined) {
        // Not reported yet: holds the others for a short grace only.
        if (now - this.startedAt > Math.min(this.idleMs, MISSING_GRACE_MS)) idle++;
        else w = Number.NEGATIVE_INFINITY;
        continue;
      }
      const colon = v.indexOf(':');
      const progress = Number(v.slice(0, colon));
      const at = Number(v.slice(colon + 1));
      if (now - at > this.idleMs) {
        idle++;
        continue;
      }
      if (progress < w) w = progress;
    }
    if (idle > 0) this.onIdle(idle);
    this.current = w;
    return w;
  }
}
