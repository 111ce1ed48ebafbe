// kafkajs' request queue as src/kafka/kafkajs.ts leaves it: no timer while nothing waits and nothing is
// throttled (kafkajs 2.2.4 re-arms a 1 ms one forever, tulios/kafkajs#1704), and a request held by a
// throttle or by the in-flight limit still goes out.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/kafka/kafkajs.js';

const require = createRequire(import.meta.url);

interface Queue {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  push(r: unknown): void;
  maybeThrottle(ms: number): void;
  fulfillRequest(r: { correlationId: number; payload: unknown; size: number }): void;
  checkPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (opts: object) => Queue;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const queues: Queue[] = [];
function queue(maxInFlightRequests: number | null = null): Queue {
  const q = new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 't',
    broker: 'b',
    logger: quiet,
  });
  queues.push(q);
  return q;
}

/** A request as kafkajs' Connection pushes it; `sent` lists correlation ids in the order they went out. */
function request(correlationId: number, sent: number[]) {
  return {
    entry: { correlationId, apiKey: 0, apiName: 'Produce', apiVersion: 0, resolve() {}, reject() {} },
    expectResponse: true,
    requestTimeout: 30_000,
    sendRequest: () => sent.push(correlationId),
  };
}

afterEach(() => {
  for (const q of queues.splice(0)) q.destroy();
});

describe('kafkajs request queue', () => {
  it('arms no timer after a check with nothing waiting', () => {
    const q = queue();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    const sent: number[] = [];
    q.push(request(1, sent));
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1]);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('sends a request held by a throttle once the throttle ends', async () => {
    const q = queue();
    const sent: number[] = [];
    q.maybeThrottle(30);
    q.push(request(1, sent));
    expect(sent).toEqual([]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(sent).toEqual([1]);
  });

  it('sends a request held by the in-flight limit when the one before is answered', async () => {
    const q = queue(1);
    const sent: number[] = [];
    q.push(request(1, sent));
    q.push(request(2, sent));
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
    // The check armed while request 2 waited runs once (10 ms) and arms no other.
    await new Promise((r) => setTimeout(r, 50));
    expect(q.throttleCheckTimeoutId).toBeNull();
  });
});
