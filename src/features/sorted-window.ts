// An event-time-ordered list of one key's entries (a customer's or a terminal's), the in-memory twin of a
// Redis ZSET scored by event time: idempotent on id, binary-searched, trimmed from the old end.
//
// A window built with `byId` false keeps no id → time map: an entry is then identified by its time and
// id together (a transaction read or replayed again carries its own event time), found by binary search
// among the entries of that time. It saves a hash-map insert, lookup and delete per entry, which were
// the scorer's largest self time after (program) and GC in a drain profile; windows that must find an
// entry by id alone either keep the map (small ones: fraud reports) or, where such lookups are rare (a
// terminal's transactions, looked up only by a fraud report), find it by a scan (timeOf) while the
// window is small and build a lookup map on the first lookup of a larger one, kept from then on. That
// saves a hash insert, lookup and delete per transaction (bench/results/ab-terminal-index.json: about 7 %
// less main-thread time in a drain), while a busy terminal pays one scan, not one per fraud report
// (a scan of 37,000 ids took about 0.3 ms).

/** Largest window timeOf() scans without an id index; past it, it builds a lookup map. */
export const SCAN_LIMIT = 256;

/** Keeps the newest time of each id. */
function remember(lookup: Map<string, number>, id: string, time: number): void {
  const known = lookup.get(id);
  if (known === undefined || time > known) lookup.set(id, time);
}

export class SortedWindow {
  // Parallel arrays ordered by time; entries before `head` are already trimmed (compacted lazily, so
  // trimming an in-order stream costs O(1) amortised instead of a shift per record).
  private times: number[] = [];
  private ids: string[] = [];
  private values: number[] = [];
  private head = 0;
  private readonly index: Map<string, number> | undefined;
  /** Without `byId`: id → newest time of that id, built by the first timeOf() past SCAN_LIMIT entries. */
  private lookup: Map<string, number> | undefined;
  // What changed since the last takeChanges(), for index-keyed caches kept beside the window
  // (CustomerWindow's prefix sums): the smallest inserted time, the largest trim cut, and whether
  // indices shifted (compaction).
  private minInserted = Number.POSITIVE_INFINITY;
  private maxCut = Number.NEGATIVE_INFINITY;
  private shifted = false;

  constructor(byId = true) {
    this.index = byId ? new Map() : undefined;
  }

  get size(): number {
    return this.times.length - this.head;
  }

  /** Whether id is present (with `byId` false: with this time, which such a window then needs). */
  has(id: string, time?: number): boolean {
    if (this.index !== undefined) return this.index.has(id);
    if (time === undefined) throw new Error('SortedWindow.has without a time on a window without an id index');
    return this.holds(time, id);
  }

  /**
   * The event time id was added with, or undefined when absent. Without an id index: the newest time of
   * that id (an id seen again with another time is another entry), by a scan up to SCAN_LIMIT entries,
   * else from a lookup map built now and kept up to date from then on.
   */
  timeOf(id: string): number | undefined {
    if (this.index !== undefined) return this.index.get(id);
    if (this.lookup === undefined) {
      if (this.size <= SCAN_LIMIT) {
        for (let i = this.times.length - 1; i >= this.head; i--) if (this.ids[i] === id) return this.times[i];
        return undefined;
      }
      const lookup = new Map<string, number>();
      for (let i = this.head; i < this.times.length; i++) remember(lookup, this.ids[i], this.times[i]);
      this.lookup = lookup;
    }
    return this.lookup.get(id);
  }

  /** Adds (time, id, value) unless id is present (with `byId` false: with this time); returns true when added (ZADD NX). */
  insert(time: number, id: string, value = 0): boolean {
    if (this.index !== undefined) {
      if (this.index.has(id)) return false;
      this.index.set(id, time);
    } else if (this.holds(time, id)) return false;
    if (this.lookup !== undefined) remember(this.lookup, id, time);
    if (time < this.minInserted) this.minInserted = time;
    const n = this.times.length;
    if (n === this.head || this.times[n - 1] <= time) {
      this.times.push(time);
      this.ids.push(id);
      this.values.push(value);
    } else {
      const at = this.upperBound(time);
      this.times.splice(at, 0, time);
      this.ids.splice(at, 0, id);
      this.values.splice(at, 0, value);
    }
    return true;
  }

  /** Removes every entry with time < cut (ZREMRANGEBYSCORE -inf (cut). */
  trimBefore(cut: number): void {
    if (this.times.length === this.head || this.times[this.head] >= cut) return;
    const end = this.lowerBound(cut);
    if (this.index !== undefined) for (let i = this.head; i < end; i++) this.index.delete(this.ids[i]);
    // The lookup holds each id's newest time: when that is trimmed, every entry of the id is.
    const lookup = this.lookup;
    if (lookup !== undefined) {
      for (let i = this.head; i < end; i++) if (lookup.get(this.ids[i]) === this.times[i]) lookup.delete(this.ids[i]);
    }
    this.head = end;
    if (cut > this.maxCut) this.maxCut = cut;
    if (this.head === this.times.length) {
      this.shifted = true;
      this.times = [];
      this.ids = [];
      this.values = [];
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.times.length) {
      this.shifted = true;
      this.times = this.times.slice(this.head);
      this.ids = this.ids.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * What changed since the previous call, then forgets it: `shifted` (indices moved: rebuild every
   * index-keyed cache), else entries at or after `minInserted` (a time) may have moved or are new, and
   * entries with time < `maxCut` were trimmed. Infinity / -Infinity: nothing of that kind.
   */
  takeChanges(out: { shifted: boolean; minInserted: number; maxCut: number }): void {
    out.shifted = this.shifted;
    out.minInserted = this.minInserted;
    out.maxCut = this.maxCut;
    this.shifted = false;
    this.minInserted = Number.POSITIVE_INFINITY;
    this.maxCut = Number.NEGATIVE_INFINITY;
  }

  /** An entry (time, id) is present: scans back over the entries of that time, usually the newest. */
  private holds(time: number, id: string): boolean {
    const times = this.times;
    let i = times.length - 1;
    if (i < this.head || times[i] < time) return false;
    if (times[i] > time) i = this.upperBound(time) - 1;
    for (; i >= this.head && times[i] === time; i--) if (this.ids[i] === id) return true;
    return false;
  }

  /** Number of entries with lo < time ≤ hi (ZCOUNT (lo hi). */
  count(lo: number, hi: number): number {
    return this.upperBound(hi) - this.upperBound(lo);
  }

  /** First index ≥ head whose time is > x. */
  upperBound(x: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index ≥ head whose time is ≥ x. */
  lowerBound(x: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  timeAt(i: number): number {
    return this.times[i];
  }

  valueAt(i: number): number {
    return this.values[i];
  }

  idAt(i: number): string {
    return this.ids[i];
  }

  /** Index of the first live entry (entries are at [head, end) in time order). */
  get start(): number {
    return this.head;
  }

  /** One past the last entry. */
  get end(): number {
    return this.times.length;
  }
}
