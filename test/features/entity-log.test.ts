import { describe, expect, it } from 'vitest';
import { base36, ENTRY_TX, encodeEntry, parseLog } from '../../src/features/entity-log.js';

describe('entity log encoding', () => {
  it('base36 writes what Number#toString(36) writes', () => {
    const edges = [0, -0, 1, 35, 36, 1295, 1296, 1297, 46655, 46656, -1, -36, -1296, -1297];
    edges.push(2 ** 31, 2 ** 32, 1_530_000_000_000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
    // Not safe integers: left to toString.
    edges.push(2 ** 53, 1.5, -0.25, Number.NaN, Number.POSITIVE_INFINITY);
    for (const x of edges) expect(base36(x), String(x)).toBe(x.toString(36));
    let s = 7;
    for (let i = 0; i < 20_000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const x = Math.floor((s / 2 ** 32) * 2 ** (i % 53)) * (i % 3 === 0 ? -1 : 1);
      expect(base36(x)).toBe(x.toString(36));
    }
  });

  it('an entry parses back to what was encoded', () => {
    const seen: [number, number, number, string][] = [];
    const entries = [encodeEntry(ENTRY_TX, 1_530_403_200_123, 12_345, 'tx-1'), encodeEntry(ENTRY_TX, -5, -70, 'ü:,')];
    parseLog(Buffer.from(entries.join('')), (kind, time, amount, id) => seen.push([kind, time, amount, id]));
    expect(seen).toEqual([
      [ENTRY_TX, 1_530_403_200_123, 12_345, 'tx-1'],
      [ENTRY_TX, -5, -70, 'ü:,'],
    ]);
  });
});
