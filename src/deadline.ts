// A promise raced against a timer, the timer cleared either way: Kafka's start-up and Redis's round trips
// each name their own error.

/**
 * Settles as `p` does, or rejects with `timedOut()` when `p` has not settled within `ms`.
 *
 * The rejection waits for one more pass over I/O (setImmediate runs after the poll phase): after the
 * event loop was held up (a starved CPU, a long GC), timers run before the sockets are read, so an
 * answer that arrived in time would otherwise lose to its own timer. (A CI chaos run degraded 128
 * decisions on Redis timeouts while a restarting broker took both cores; this is one way that happens.)
 */
export function withDeadline<T>(p: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(timedOut())), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/**
 * True when `p` resolved within `ms`, false when it had not settled by then (it is left to finish on its
 * own, a late rejection handled); rejects as `p` does within `ms`. For a close that waits on a broker
 * that does not answer: the caller goes on instead of idling.
 */
export function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([p.then(() => true), late]).finally(() => clearTimeout(timer));
}
