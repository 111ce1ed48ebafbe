import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { rejoinBoundMs, rejoinStalled } from '../../src/kafka/stall-watch.js';

describe('rejoin watch', () => {
  it('bounds a rebalance by the stall timeout, and never below two session timeouts', () => {
    expect(rejoinBoundMs(60_000, 6000)).toBe(60_000);
    expect(rejoinBoundMs(60_000, 45_000)).toBe(90_000);
    expect(rejoinBoundMs(5000)).toBe(60_000);
  });

  it('is quiet while assigned or within the bound, and a CONSUMER_STALLED error past it', () => {
    expect(rejoinStalled(100_000, undefined, 60_000, 'the start')).toBeUndefined();
    expect(rejoinStalled(100_000, 40_000, 60_000, 'the start')).toBeUndefined();
    const err = rejoinStalled(100_001, 40_000, 60_000, 'partitions were revoked');
    expect(err?.code).toBe(ErrorCodes.CONSUMER_STALLED);
    expect(err?.message).toMatch(/no partition assignment for 60 s since partitions were revoked/);
    const silent = rejoinStalled(100_001, 40_000, 60_000, 'the last one', 'no heartbeat answered');
    expect(silent?.message).toMatch(
      /^no heartbeat answered for 60 s since the last one \(the member is out of its group/,
    );
  });
});
