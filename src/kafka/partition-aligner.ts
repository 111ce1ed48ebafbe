// Event-time alignment of the partitions one member reads, as Kafka Streams' timestamp synchronisation
// does: the processor is handed the records of a partition only up to `maxLeadMs` of event time past the
// slowest partition this member holds; a partition whose fetch runs further ahead is paused (librdkafka
// or kafkajs stops fetching it) and the rest of that fetch is read again once the others catch up.
//
// Why: a terminal window ends 7 days back and spans every partition (features/watermark.ts). Drained
// unaligned, one partition can be weeks ahead of another that the same process has not fetched yet,
// and its records can only be decided incomplete. Aligned, every partition this member holds has been
// handed over up to (t − maxLeadMs) before a record at t is, so with maxLeadMs < 7 days the records a
// terminal window needs are written first.
//
// The work is per fetch, never per record: a partition is read in offset order, which is event-time
// order, so the first and last records of a fetch tell whether it is all within the bound, and a
// binary search finds where to cut it when it is not.
//
// A partition that delivered nothing for `idleMs` (wall time; its fetch is slow or it has nothing to
// read, e.g. live at the head) does not hold the others: it is counted (onIdle) and alignment with it
// is then best effort; the feature store's watermark still decides whether a record's features are whole.

export interface AlignOptions {
  /** How far (event time, ms) a partition's records may run ahead of the slowest partition held. */
  maxLeadMs: number;
  /** A partition that delivered nothing for this long (wall ms) no longer holds the others. */
  idleMs: number;
  /** Event time of a record's value, NaN when unknown (such a record is never held). */
  eventTime: (value: Buffer | null) => number;
  /** A partition was paused because it is ahead (one wait). */
  onPause?: () => void;
  /** A partition was left out of the alignment as idle (once per idle spell). */
  onIdle?: () => void;
}

/** 1 day: well inside the 7-day terminal delay, and ≈ one 1 MB fetch of a busy partition. */
export const DEFAULT_ALIGN_MAX_LEAD_MS = 86_400_000;
export const DEFAULT_ALIGN_IDLE_MS = 2000;

class PartitionState {
  /** Event time of the next record not yet handed over (a lower bound; −Infinity when not known). */
  head = Number.NEGATIVE_INFINITY;
  /** Wall time of the last fetch delivered (or of the assignment). */
  lastDelivery: number;
  paused = false;
  idle = false;
  constructor(now: number) {
    this.lastDelivery = now;
  }
}

export class PartitionAligner {
  /**
   * Partition → event time of the first record fetched from it since it was assigned. Every event of
   * the partition earlier than that was written by an earlier owner before it committed, so the
   * feature store may report it as the partition's progress before this member has written any.
   */
  readonly floors = new Map<number, number>();
  private readonly parts = new Map<number, PartitionState>();
  private readonly opts: AlignOptions;

  constructor(opts: AlignOptions) {
    this.opts = opts;
  }

  assign(partitions: Iterable<number>, now: number): void {
    for (const p of partitions) if (!this.parts.has(p)) this.parts.set(p, new PartitionState(now));
  }

  revoke(partitions: Iterable<number>): void {
    for (const p of partitions) {
      this.parts.delete(p);
      this.floors.delete(p);
    }
  }

  /** Forgets every partition; returns the ones that were paused (for the caller to resume). */
  clear(): number[] {
    const paused = this.pausedPartitions();
    this.parts.clear();
    this.floors.clear();
    return paused;
  }

  /** Partitions paused because they are ahead. */
  pausedPartitions(): number[] {
    const out: number[] = [];
    for (const [p, st] of this.parts) if (st.paused) out.push(p);
    return out;
  }

  get anyPaused(): boolean {
    for (const st of this.parts.values()) if (st.paused) return true;
    return false;
  }

  /**
   * After a rewind (every partition sought back to its last written record): nothing is known about
   * where the partitions stand. Returns the partitions to resume.
   */
  reset(now: number): number[] {
    const resume = this.pausedPartitions();
    for (const st of this.parts.values()) {
      st.head = Number.NEGATIVE_INFINITY;
      st.lastDelivery = now;
      st.paused = false;
      st.idle = false;
    }
    return resume;
  }

  /**
   * A fetch of `partition` (records in offset order): how many of them, from the first, to hand over
   * now. When fewer than all, the partition is marked paused and the caller pauses it (again, if it
   * was); the rest is fetched again after resume. Call due() after it.
   */
  take(partition: number, records: readonly { value: Buffer | null }[], now: number): number {
    const n = records.length;
    let st = this.parts.get(partition);
    if (st === undefined) {
      st = new PartitionState(now);
      this.parts.set(partition, st);
    }
    st.lastDelivery = now;
    st.idle = false;
    // A fetch that was under way when the partition was paused still arrives: the partition stays
    // paused in the client until due() resumes it.
    const time = this.opts.eventTime;
    const first = time(records[0].value);
    if (!Number.isNaN(first)) {
      st.head = first;
      if (!this.floors.has(partition)) this.floors.set(partition, first);
    }
    const limit = this.limit(now, st);
    const last = time(records[n - 1].value);
    if (!(last > limit)) {
      if (!Number.isNaN(last)) st.head = last;
      return n;
    }
    // First record past the bound (NaN counts as within it).
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (time(records[mid].value) > limit) hi = mid;
      else lo = mid + 1;
    }
    st.head = time(records[lo].value);
    if (!st.paused) {
      st.paused = true;
      this.opts.onPause?.();
    }
    return lo;
  }

  /** Paused partitions the others have caught up with: marked running; the caller resumes them. */
  due(now: number): number[] {
    let out: number[] | undefined;
    // The slowest partition is always due (its head is the minimum), so they are never all paused.
    const limit = this.limit(now, undefined);
    for (const [p, st] of this.parts) {
      if (!st.paused || st.head > limit) continue;
      st.paused = false;
      st.lastDelivery = now;
      if (out === undefined) out = [];
      out.push(p);
    }
    return out ?? NONE;
  }

  /**
   * The latest event time that may be handed over now: the slowest holding partition (other than
   * `self`: a partition never waits for itself) + maxLeadMs.
   */
  private limit(now: number, self: PartitionState | undefined): number {
    let min = Number.POSITIVE_INFINITY;
    for (const st of this.parts.values()) {
      if (st === self) continue;
      if (!st.paused && now - st.lastDelivery > this.opts.idleMs) {
        if (!st.idle) {
          st.idle = true;
          this.opts.onIdle?.();
        }
        continue;
      }
      if (st.head < min) min = st.head;
    }
    return min + this.opts.maxLeadMs;
  }
}

const NONE: number[] = [];
