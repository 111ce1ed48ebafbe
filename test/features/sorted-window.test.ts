import { describe, expect, it } from 'vitest';
import { SCAN_LIMIT, SortedWindow } from '../../src/features/sorted-window.js';

describe('SortedWindow', () => {
  for (const byId of [true, false]) {
    it(`keeps one entry per transaction, in time order (${byId ? 'with' : 'without'} an id index)`, () => {
      const w = new SortedWindow(byId);
      expect(w.insert(10, 'a', 1)).toBe(true);
      expect(w.insert(30, 'c', 3)).toBe(true);
      // Out of order, and two entries of one time.
      expect(w.insert(20, 'b', 2)).toBe(true);
      expect(w.insert(20, 'b2', 5)).toBe(true);
      // Read or replayed again: not added twice, wherever it sits.
      expect(w.insert(20, 'b', 2)).toBe(false);
      expect(w.insert(20, 'b2', 5)).toBe(false);
      expect(w.insert(30, 'c', 3)).toBe(false);
      expect(w.insert(10, 'a', 1)).toBe(false);
      expect(w.size).toBe(4);
      const times: number[] = [];
      for (let i = w.start; i < w.end; i++) times.push(w.timeAt(i));
      expect(times).toEqual([10, 20, 20, 30]);
      expect(w.has('b', 20)).toBe(true);
      expect(w.has('zz', 20)).toBe(false);
      expect(w.count(10, 30)).toBe(3);
      // Trimmed entries are gone and may come back.
      w.trimBefore(20);
      expect(w.has('a', 10)).toBe(false);
      expect(w.insert(10, 'a', 1)).toBe(true);
      expect(w.size).toBe(4);
    });
  }

  it('without an id index, needs the time to find an entry, or scans for it', () => {
    const w = new SortedWindow(false);
    w.insert(10, 'a');
    expect(() => w.has('a')).toThrow(/without a time/);
    expect(w.timeOf('a')).toBe(10);
    w.insert(5, 'b');
    w.insert(20, 'c');
    expect(w.timeOf('b')).toBe(5);
    expect(w.timeOf('x')).toBeUndefined();
    w.trimBefore(6);
    expect(w.timeOf('b')).toBeUndefined(); // trimmed entries are not found
    expect(w.timeOf('c')).toBe(20);
    w.insert(30, 'a'); // the same id at another time: another entry; timeOf gives the newest
    expect(w.timeOf('a')).toBe(30);
    // An id seen again with another time is another entry there; with the index, the first one stands.
    expect(w.insert(11, 'a')).toBe(true);
    const indexed = new SortedWindow(true);
    indexed.insert(10, 'a');
    expect(indexed.insert(11, 'a')).toBe(false);
    expect(indexed.timeOf('a')).toBe(10);
  });

  it('without an id index, answers timeOf like a scan of its live entries, below and past SCAN_LIMIT', () => {
    // Seeded random inserts (out of order, ids seen again), trims and lookups, checked against a scan of
    // a plain list; the window crosses SCAN_LIMIT, so both the scan and the lookup map answer.
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const idSpace of [50, 5000]) {
      const w = new SortedWindow(false);
      let live: { t: number; id: string }[] = [];
      let clock = 0;
      let lookupsPastLimit = 0;
      for (let step = 0; step < 6000; step++) {
        const r = rand();
        if (r < 0.7) {
          clock += Math.floor(rand() * 10);
          const t = clock - Math.floor(rand() * 50);
          const id = `tx-${Math.floor(rand() * idSpace)}`;
          const added = w.insert(t, id);
          const present = live.some((e) => e.t === t && e.id === id);
          expect(added).toBe(!present);
          if (added) live.push({ t, id });
        } else if (r < 0.75) {
          const cut = clock - 1500 - Math.floor(rand() * 1500);
          w.trimBefore(cut);
          live = live.filter((e) => e.t >= cut);
        } else {
          const id = `tx-${Math.floor(rand() * idSpace)}`;
          const times = live.filter((e) => e.id === id).map((e) => e.t);
          if (live.length > SCAN_LIMIT) lookupsPastLimit++;
          expect(w.timeOf(id)).toBe(times.length === 0 ? undefined : Math.max(...times));
        }
        expect(w.size).toBe(live.length);
      }
      expect(lookupsPastLimit).toBeGreaterThan(100); // the lookup map answered too, not only the scan
    }
  });
});
