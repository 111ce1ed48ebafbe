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
  /** The source's floors (EnrichContext.floors): exactly the partitions this member holds now. */
  private held: ReadonlyMap<number, number> | undefined;
  private readonly idleMs: number;
  private readonly onIdle: (partitions: number) => void;
  private startedAt = 0;
  /** The last watermark computed (−Infinity until the first read): what a record waits for. */
  current = Number.NEGATIVE_INFINITY;
  /**
   * ≤ current: also held by partitions that never reported, past their short wait but within idleMs. A
   * window end at or past it is decided without waiting but marked incomplete.
   */
  certain = Number.NEGATIVE_INFINITY;
  partitionCount = 0;

  constructor(options: WatermarkOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_WATERMARK_IDLE_MS;
    this.onIdle = options.onIdle ?? (() => {});
  }

  /**
   * Updates own progress from a batch, and from `floors` for partitions this member holds but has not
   * written yet; returns the hash fields to write (partition, value) flattened.
   */
  advance(
    times: ArrayLike<number>,
    partitions: ArrayLike<number>,
    n: number,
    now: number,
    floors?: ReadonlyMap<number, number>,
  ): string[] {
    if (this.startedAt === 0) this.startedAt = now;
    const touched = new Set<number>();
    this.held = floors;
    if (floors !== undefined && floors.size > 0) {
      for (const [p, floor] of floors) {
        if (this.own.has(p)) continue;
        this.own.set(p, floor);
        touched.add(p);
      }
    }
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

  /**
   * True when every live partition below `t` is one this member reads: waiting for them cannot help.
   * With floors, "reads" means holds now (a partition revoked meanwhile is another member's to move).
   */
  heldOnlyByOwn(t: number): boolean {
    const mine = this.held ?? this.own;
    for (const [p, progress] of this.live) if (progress <= t && !mine.has(p)) return false;
    return true;
  }

  /** Non-idle partitions → progress, as of the last update. */
  private live = new Map<number, number>();

  /** Computes W from the hash's contents (HGETALL reply). */
  update(hash: Record<string, string>, now: number): number {
    this.live.clear();
    let w = Number.POSITIVE_INFINITY;
    let certain = Number.POSITIVE_INFINITY;
    let idle = 0;
    // partitionCount 0: the partitions that have reported.
    const fields = this.partitionCount > 0 ? undefined : Object.keys(hash);
    const count = fields?.length ?? this.partitionCount;
    for (let p = 0; p < count; p++) {
      const v = hash[fields === undefined ? String(p) : fields[p]];
      if (v === undefined) {
        // Not reported yet: holds the others for a short grace, then only marks them incomplete.
        const silent = now - this.startedAt;
        if (silent > this.idleMs) idle++;
        else {
          certain = Number.NEGATIVE_INFINITY;
          if (silent <= Math.min(this.idleMs, MISSING_GRACE_MS)) {
            w = Number.NEGATIVE_INFINITY;
            this.live.set(p, w);
          }
        }
        continue;
      }
      const colon = v.indexOf(':');
      const progress = Number(v.slice(0, colon));
      const at = Number(v.slice(colon + 1));
      if (now - at > this.idleMs) {
        idle++;
        continue;
      }
      this.live.set(Number(fields === undefined ? p : fields[p]), progress);
      if (progress < w) w = progress;
    }
    if (idle > 0) this.onIdle(idle);
    this.current = w;
    this.certain = Math.min(w, certain);
    return w;
  }
}
