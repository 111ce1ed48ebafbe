// A promise raced against a timer, the timer cleared either way: Kafka's start-up and Redis's round trips
// each name their own error.

/** Settles as `p` does, or rejects with `timedOut()` when `p` has not settled within `ms`. */
export function withDeadline<T>(p: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
