import { describe, expect, it } from 'vitest';
import { settledWithin } from '../../src/deadline.js';
import { ErrorCodes } from '../../src/errors.js';
import { HeartbeatBound, rejoinBoundMs, rejoinStalled } from '../../src/kafka/stall-watch.js';

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

describe('heartbeat bound (kafkajs, platformatic)', () => {
  it('counts from the start, an answer or a resume, and names what it last heard', () => {
    const group = new HeartbeatBound(12_000);
    group.restart(1000);
    expect(group.check(13_000)).toBeUndefined();
    expect(group.check(13_001)?.message).toMatch(
      /^no heartbeat answered by the group coordinator for 12 s since the start/,
    );
    group.answered();
    const answeredAt = Date.now();
    expect(group.check(answeredAt + 12_000)).toBeUndefined();
    expect(group.check(answeredAt + 20_000)?.message).toMatch(/for 20 s since the last one/);
    group.restart(answeredAt + 30_000); // resumed from a stop: the clock starts again
    expect(group.check(answeredAt + 40_000)).toBeUndefined();
    expect(group.check(answeredAt + 42_001)?.code).toBe(ErrorCodes.CONSUMER_STALLED);
  });
});

describe('settledWithin', () => {
  it('true when the promise resolves in time, false when it has not settled, rejects as it does', async () => {
    expect(await settledWithin(Promise.resolve(), 50)).toBe(true);
    let late: (v?: unknown) => void = () => {};
    let lateFail: (e: Error) => void = () => {};
    expect(await settledWithin(new Promise((r) => (late = r)), 20)).toBe(false);
    expect(await settledWithin(new Promise((_, f) => (lateFail = f)), 20)).toBe(false);
    late();
    lateFail(new Error('closed late')); // handled: no unhandled rejection fails the run
    await expect(settledWithin(Promise.reject(new Error('refused')), 50)).rejects.toThrow('refused');
  });
});
