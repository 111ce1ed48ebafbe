import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../src/pipeline/micro-batcher.js';
import type { SourceRecord } from '../../src/pipeline/source.js';

const rec = (i: number): SourceRecord => ({
  key: null,
  value: Buffer.from([i]),
  topic: 't',
  partition: 0,
  offset: String(i),
  arrivedAt: 0,
});

describe('MicroBatcher', () => {
  it('flushes full batches at once and the remainder after the max wait', async () => {
    const sizes: number[] = [];
    const b = new MicroBatcher(
      async (batch) => {
        sizes.push(batch.length);
      },
      4,
      20,
    );
    const t0 = performance.now();
    await b.submit(Array.from({ length: 10 }, (_, i) => rec(i)));
    expect(sizes).toEqual([4, 4, 2]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
  });

  it('combines concurrent submitters into one batch and resolves each when its records are done', async () => {
    const batches: string[][] = [];
    const b = new MicroBatcher(
      async (batch) => {
        batches.push(batch.map((r) => r.offset));
      },
      8,
      10,
    );
    await Promise.all([b.submit([rec(1), rec(2)]), b.submit([rec(3)]), b.submit([rec(4), rec(5)])]);
    expect(batches).toEqual([['1', '2', '3', '4', '5']]);
  });

  it('runs one batch at a time and rejects the submitters of a failed batch only', async () => {
    let running = 0;
    let maxRunning = 0;
    const b = new MicroBatcher(
      async (batch) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (batch.some((r) => r.offset === '6')) throw new Error('sink down');
      },
      2,
      1,
    );
    const ok = b.submit([rec(1), rec(2)]);
    const bad = b.submit([rec(5), rec(6)]);
    const after = b.submit([rec(7)]);
    await expect(ok).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('sink down');
    await expect(after).resolves.toBeUndefined();
    expect(maxRunning).toBe(1);
  });

  it('drains everything accepted on close and refuses new records', async () => {
    let n = 0;
    const b = new MicroBatcher(
      async (batch) => {
        n += batch.length;
      },
      100,
      1000,
    );
    const p = b.submit([rec(1), rec(2), rec(3)]);
    await b.close();
    await p;
    expect(n).toBe(3);
    await expect(b.submit([rec(4)])).rejects.toThrow('closed');
  });
});
