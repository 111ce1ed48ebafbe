import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RecordHistogram } from '../../src/monitoring/record-histogram.js';

describe('RecordHistogram', () => {
  it('exports exactly what a prom-client histogram exports for the same observations', async () => {
    const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];
    const ours = new client.Registry();
    const theirs = new client.Registry();
    const a = new RecordHistogram('x_seconds', 'Some help.', buckets, [ours]);
    const b = new client.Histogram({ name: 'x_seconds', help: 'Some help.', buckets, registers: [theirs] });
    // Bounds themselves (le is inclusive), between, below the first, above the last, negative.
    const values = [0.001, 0.0025, 0.003, 0.0004, 0.2, -1, 0.1, 0.05, 0.0099, 0.01, 7];
    for (const v of values) {
      a.observe(v);
      b.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    a.reset();
    b.reset();
    b.zero({});
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('drops non-finite values instead of throwing on the hot path', async () => {
    const r = new client.Registry();
    const h = new RecordHistogram('y', 'y', [1, 2], [r]);
    h.observe(Number.NaN);
    h.observe(Number.POSITIVE_INFINITY);
    h.observe(1.5);
    expect(await r.metrics()).toContain('y_count 1');
  });
});
