import { describe, expect, it } from 'vitest';
import { MicroBatcher, WRITE_RECORDS } from '../../src/pipeline/micro-batcher.js';
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
  it('flushes full batches at once; a partial batch behind a write waits the max wait, not the write', async () => {
    const sizes: number[] = [];
    const prepared: number[] = [];
    const writeStarts: number[] = [];
    const b = new MicroBatcher(
      async (batch) => {
        sizes.push(batch.length);
        prepared.push(performance.now());
      },
      async () => {
        writeStarts.push(performance.now());
        await new Promise((r) => setTimeout(r, 80));
      },
      4,
      20,
    );
    await b.submit(Array.from({ length: 10 }, (_, i) => rec(i)));
    expect(sizes).toEqual([4, 4, 2]);
    // The remainder was prepared ≈20 ms after the second write began, while that write still ran.
    const waited = prepared[2] - writeStarts[1];
    expect(waited).toBeGreaterThanOrEqual(15);
    expect(waited).toBeLessThan(75);
  });

  it('starts a partial batch at once when nothing is being written (no wait for company)', async () => {
    const sizes: number[] = [];
    const b = new MicroBatcher(
      async (batch) => {
        sizes.push(batch.length);
      },
      async () => {},
      8,
      1000,
    );
    const t0 = performance.now();
    await b.submit([rec(1), rec(2)]);
    expect(sizes).toEqual([2]);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('sends what waited behind a write as soon as that write ends', async () => {
    const sizes: number[] = [];
    const b = new MicroBatcher(
      async (batch) => {
        sizes.push(batch.length);
      },
      () => new Promise((r) => setTimeout(r, 30)),
      8,
      1000,
    );
    const t0 = performance.now();
    const first = b.submit([rec(1)]);
    await new Promise((r) => setTimeout(r, 5));
    const second = b.submit([rec(2), rec(3)]);
    await Promise.all([first, second]);
    expect(sizes).toEqual([1, 2]);
    // Not the 1 s max wait: the second batch went when the first write ended (≈30 + 30 ms).
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('combines concurrent submitters into one batch and resolves each when its records are done', async () => {
    const batches: string[][] = [];
    const b = new MicroBatcher(
      async (batch) => {
        batches.push(batch.map((r) => r.offset));
      },
      async () => {},
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
      async () => {},
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
      async () => {},
      100,
      1000,
    );
    const p = b.submit([rec(1), rec(2), rec(3)]);
    await b.close();
    await p;
    expect(n).toBe(3);
    await expect(b.submit([rec(4)])).rejects.toThrow('closed');
  });

  it('prepares the next batch while the previous one is written, and writes in order', async () => {
    const events: string[] = [];
    const b = new MicroBatcher<string>(
      async (batch) => {
        events.push(`prepare ${batch[0].offset}`);
        await new Promise((r) => setTimeout(r, 5));
        return batch[0].offset;
      },
      async ([first]) => {
        events.push(`write ${first} start`);
        await new Promise((r) => setTimeout(r, 20));
        events.push(`write ${first} end`);
      },
      2,
      1,
    );
    await b.submit([rec(1), rec(2), rec(3), rec(4), rec(5), rec(6)]);
    // Batch 3 is prepared while batch 1 is still being written; writes never overlap.
    expect(events.indexOf('prepare 3')).toBeLessThan(events.indexOf('write 1 end'));
    const writes = events.filter((e) => e.startsWith('write'));
    expect(writes).toEqual([
      'write 1 start',
      'write 1 end',
      'write 3 start',
      'write 3 end',
      'write 5 start',
      'write 5 end',
    ]);
  });

  it('never writes past a failed batch: the rest of its submissions is dropped for redelivery', async () => {
    const written: string[] = [];
    let failOnce = true;
    const b = new MicroBatcher<SourceRecord[]>(
      async (batch) => batch,
      async ([batch]) => {
        if (failOnce && batch.some((r) => r.offset === '3')) {
          failOnce = false;
          throw new Error('broker down');
        }
        written.push(...batch.map((r) => r.offset));
      },
      2,
      1,
    );
    // One submission spanning three batches ([1,2] [3,4] [5,6]); the second fails.
    const spanning = b.submit([rec(1), rec(2), rec(3), rec(4), rec(5), rec(6)]);
    await expect(spanning).rejects.toThrow('broker down');
    await b.close();
    expect(written).toEqual(['1', '2']);
    // The redelivery (a new submission of the same records) goes through.
    const b2 = new MicroBatcher<SourceRecord[]>(
      async (x) => x,
      async ([x]) => void written.push(...x.map((r) => r.offset)),
      2,
      1,
    );
    await b2.submit([rec(3), rec(4), rec(5), rec(6)]);
    expect(written).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('writes the batches prepared during a write together, in order, at most batchesPerWrite at a time', async () => {
    const writes: string[][] = [];
    const b = new MicroBatcher<string>(
      async (batch) => {
        await new Promise((r) => setTimeout(r, 2));
        return batch.map((r) => r.offset).join(',');
      },
      async (group) => {
        writes.push([...group]);
        await new Promise((r) => setTimeout(r, 40));
      },
      2,
      1,
      3,
    );
    await b.submit(Array.from({ length: 14 }, (_, i) => rec(i)));
    // The first batch alone (nothing else was ready), then up to three batches per write.
    expect(writes[0]).toEqual(['0,1']);
    expect(writes.flat()).toEqual(['0,1', '2,3', '4,5', '6,7', '8,9', '10,11', '12,13']);
    expect(Math.max(...writes.map((w) => w.length))).toBe(3);
    expect(writes.length).toBeLessThanOrEqual(4);
  });

  it('after a failed write, writes none of the batches prepared behind it', async () => {
    const written: string[] = [];
    let calls = 0;
    const b = new MicroBatcher<string>(
      async (batch) => batch.map((r) => r.offset).join(','),
      async (group) => {
        await new Promise((r) => setTimeout(r, 20));
        if (++calls === 2) throw new Error('broker down');
        written.push(...group);
      },
      2,
      1,
      4,
    );
    const first = b.submit([rec(0), rec(1)]);
    await new Promise((r) => setTimeout(r, 5));
    // Prepared while [0,1] is written: all go in the second write, which fails.
    const rest = b.submit([rec(2), rec(3), rec(4), rec(5), rec(6), rec(7)]);
    await expect(first).resolves.toBeUndefined();
    await expect(rest).rejects.toThrow('broker down');
    await b.close();
    expect(written).toEqual(['0,1']);
  });

  it('never groups past WRITE_RECORDS records in one write', async () => {
    const sizes: number[] = [];
    const b = new MicroBatcher<number>(
      async (batch) => batch.length,
      async (group) => {
        sizes.push(group.reduce((a, n) => a + n, 0));
        await new Promise((r) => setTimeout(r, 30));
      },
      WRITE_RECORDS / 2 + 1,
      1,
      4,
    );
    await b.submit(Array.from({ length: 4 * (WRITE_RECORDS / 2 + 1) }, (_, i) => rec(i)));
    // Two such batches exceed the bound: each is written alone, however many wait.
    expect(sizes).toEqual([1, 1, 1, 1].map(() => WRITE_RECORDS / 2 + 1));
  });
});
