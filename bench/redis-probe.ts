// The chaos harness' own view of Redis: a PING to every Redis node every 200 ms, from this process.
// A cluster case whose scorers degrade decisions with no Redis fault injected fails, unless Redis itself
// was slow to answer then. On the 2-core machine a restarting broker's JVM can hold everything up for
// seconds (brokers missed heartbeats and Redis missed the scorers' 2 s bound in the same seconds);
// that is the machine, and a decision degraded then is the scorer doing what it should.
import { Redis } from 'ioredis';

/** A PING answered later than this marks Redis (or the machine) slow from its send to its answer. */
export const SLOW_PING_MS = 1000;

export class RedisProbe {
  private readonly clients: Redis[];
  private readonly timer: NodeJS.Timeout;
  /** [sent, answered or still open] of every PING slower than SLOW_PING_MS. */
  readonly slow: [number, number][] = [];
  private readonly open = new Map<Redis, number>();

  constructor(ports: readonly number[]) {
    this.clients = ports.map(
      (port) => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, enableOfflineQueue: false }),
    );
    for (const c of this.clients) c.on('error', () => {});
    this.timer = setInterval(() => this.tick(), 200);
  }

  private tick(): void {
    const now = Date.now();
    for (const c of this.clients) {
      // A node whose last PING is unanswered is not asked again: that PING's wait is what counts.
      if (this.open.has(c) || c.status !== 'ready') continue;
      this.open.set(c, now);
      c.ping().then(
        () => this.answered(c),
        () => this.answered(c),
      );
    }
  }

  private answered(c: Redis): void {
    const sent = this.open.get(c)!;
    this.open.delete(c);
    const now = Date.now();
    if (now - sent > SLOW_PING_MS) this.slow.push([sent, now]);
  }

  /**
   * True when `t` falls within `slackMs` of a slow PING's wait. The slack is on both sides: the
   * scorers' processes stall and resume at other moments than this one, and a scorer that resumes
   * runs its expired round-trip timer before it reads Redis' answer.
   */
  slowAt(t: number, slackMs: number): boolean {
    return this.slow.some(([from, to]) => t >= from - slackMs && t <= to + slackMs);
  }

  stop(): void {
    clearInterval(this.timer);
    // PINGs still unanswered count up to now.
    const now = Date.now();
    for (const sent of this.open.values()) if (now - sent > SLOW_PING_MS) this.slow.push([sent, now]);
    this.open.clear(); // a second stop (the harness' finally) adds nothing
    for (const c of this.clients) c.disconnect();
  }
}
