import { describe, expect, it } from 'vitest';
import { PartitionAligner } from '../../src/kafka/partition-aligner.js';

// Records carry their event time in the value's first 8 bytes; NaN for a null value.
const rec = (t: number) => {
  const value = Buffer.alloc(8);
  value.writeDoubleBE(t);
  return { value };
};
const fetch = (...times: number[]) => times.map(rec);
const H = 3_600_000;

function aligner(counts = { pauses: 0, idle: 0 }) {
  return {
    counts,
    a: new PartitionAligner({
      maxLeadMs: 10 * H,
      idleMs: 1000,
      eventTime: (v) => (v === null ? Number.NaN : v.readDoubleBE(0)),
      onPause: () => counts.pauses++,
      onIdle: () => counts.idle++,
    }),
  };
}

describe('PartitionAligner', () => {
  it('holds every fetch until each assigned partition has delivered, then hands over within the lead', () => {
    const { a, counts } = aligner();
    a.assign([0, 1], 0);
    // Partition 1 has not delivered yet: nothing of partition 0 may go.
    expect(a.take(0, fetch(0, H, 2 * H), 10)).toBe(0);
    expect(a.pausedPartitions()).toEqual([0]);
    expect(counts.pauses).toBe(1);
    // Partition 1 starts 5 h later: it goes whole (its head is within 10 h of partition 0's).
    expect(a.take(1, fetch(5 * H, 6 * H), 20)).toBe(2);
    // Partition 0's head (0) is now within the lead: resume it.
    expect(a.due(20)).toEqual([0]);
    // Refetched from its first record: up to 6 h + 10 h goes (a partition never waits for itself), the rest waits.
    expect(a.take(0, fetch(0, 4 * H, 16 * H, 17 * H), 30)).toBe(3);
    expect(a.pausedPartitions()).toEqual([0]);
    expect(a.due(30)).toEqual([]);
    // Partition 1 moves on: partition 0 may go on.
    expect(a.take(1, fetch(8 * H, 12 * H), 40)).toBe(2);
    expect(a.due(40)).toEqual([0]);
    expect(counts.idle).toBe(0);
  });

  it('cuts a fetch with a binary search, and treats unreadable times as within the bound', () => {
    const { a } = aligner();
    a.assign([0, 1], 0);
    a.take(1, fetch(0), 1);
    const times = Array.from({ length: 1000 }, (_, i) => i * 0.1 * H); // 0 .. 99.9 h
    expect(a.take(0, fetch(...times), 2)).toBe(101); // up to 10 h inclusive
    const { a: b } = aligner();
    b.assign([0], 0);
    expect(b.take(0, [{ value: null }, rec(H)], 1)).toBe(2);
  });

  it('lets a partition that delivered nothing for idleMs stop holding the others, and counts it once', () => {
    const { a, counts } = aligner();
    a.assign([0, 1], 0);
    expect(a.take(0, fetch(0, 100 * H), 500)).toBe(0);
    expect(a.due(900)).toEqual([]);
    expect(a.due(1001)).toEqual([0]); // partition 1 idle: partition 0 alone
    expect(a.due(1200)).toEqual([]);
    expect(counts.idle).toBe(1);
    expect(a.take(0, fetch(0, 100 * H), 1300)).toBe(2); // alone, nothing holds it
    // Partition 1 delivers again: it holds again.
    expect(a.take(1, fetch(0), 1400)).toBe(1);
    expect(a.take(0, fetch(100 * H), 1500)).toBe(0);
  });

  it('never leaves every partition paused', () => {
    const { a } = aligner();
    a.assign([0, 1, 2], 0);
    a.take(0, fetch(50 * H), 1);
    a.take(1, fetch(20 * H), 1);
    // Partition 2 goes up to 20 h + 10 h, then waits too…
    expect(a.take(2, fetch(0, 40 * H), 1)).toBe(1);
    expect(a.pausedPartitions().sort()).toEqual([0, 1, 2]);
    // …and the slowest of the paused ones is always due.
    expect(a.due(2)).toEqual([1]);
  });

  it('records each partition’s first event time as its floor, forgets it on revoke, and resets after a rewind', () => {
    const { a } = aligner();
    a.assign([0, 1], 0);
    a.take(0, fetch(7 * H, 8 * H), 1);
    a.take(1, fetch(9 * H), 1);
    a.take(0, fetch(9 * H), 2);
    expect(a.due(2)).toEqual([0]);
    expect([...a.floors]).toEqual([
      [0, 7 * H],
      [1, 9 * H],
    ]);
    a.take(1, fetch(100 * H), 3);
    expect(a.pausedPartitions()).toEqual([1]);
    expect(a.reset(4)).toEqual([1]);
    expect(a.pausedPartitions()).toEqual([]);
    a.revoke([1]);
    expect([...a.floors.keys()]).toEqual([0]);
    expect(a.clear()).toEqual([]);
    expect(a.floors.size).toBe(0);
  });
});
