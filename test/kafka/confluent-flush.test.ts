import { describe, expect, it } from 'vitest';
import { flush } from '../../src/kafka/confluent-sink.js';

/** A native producer whose flush answers from a script: librdkafka's timed-out error, then success. */
function scripted(answers: unknown[]) {
  const calls: number[] = [];
  return {
    calls,
    flush(timeoutMs: number, cb: (err: unknown) => void) {
      calls.push(timeoutMs);
      const a = answers.length > 1 ? answers.shift() : answers[0];
      setImmediate(() => cb(a));
    },
  };
}

const timedOut = Object.assign(new Error('Local: Timed out'), { code: -185 });

describe('confluent sink flush', () => {
  it('flushes 1 ms at a time until nothing is left undelivered', async () => {
    const native = scripted([timedOut, timedOut, null]);
    await flush(native, 5000);
    expect(native.calls).toEqual([1, 1, 1]);
  });

  it("fails with librdkafka's timeout once the deadline has passed", async () => {
    const native = scripted([timedOut]);
    const started = performance.now();
    await expect(flush(native, 30)).rejects.toBe(timedOut);
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(native.calls.length).toBeGreaterThan(1);
  });

  it('fails at once on any other error', async () => {
    const other = Object.assign(new Error('Broker: Fenced'), { code: 90 });
    const native = scripted([other]);
    await expect(flush(native, 5000)).rejects.toBe(other);
    expect(native.calls).toEqual([1]);
  });
});
