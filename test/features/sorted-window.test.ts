import { describe, expect, it } from 'vitest';
import { SortedWindow } from '../../src/features/sorted-window.js';

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
    // An id seen again with another time is another entry there; with the index, the first one stands.
    expect(w.insert(11, 'a')).toBe(true);
    const indexed = new SortedWindow(true);
    indexed.insert(10, 'a');
    expect(indexed.insert(11, 'a')).toBe(false);
    expect(indexed.timeOf('a')).toBe(10);
  });
});
