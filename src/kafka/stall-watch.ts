// The liveness checks the Kafka sources run from their watchdogs: a process that did not run for a
// while may be a zombie now; records in hand with none written means the consumer is stuck (confluent
// and platformatic); a member out of its group for long (confluent: no assignment since its start or a
// revoke; kafkajs and platformatic: no heartbeat answered, HeartbeatBound) never got back in. The
// source then exits for a supervisor to restart it.
import { ErrorCodes, FraudError } from '../errors.js';
import { logger } from '../log/logger.js';

const log = logger('kafka');

/** The event loop did not run for this long (SIGSTOP, a VM pause): in-flight batches are retried. */
export function loopStalledAfterMs(sessionTimeoutMs = 30_000): number {
  return Math.max(2000, sessionTimeoutMs / 3);
}

/**
 * Records in hand and none written for longer than the stall timeout: the error the source stops with
 * (logged here), else undefined. (Lag on the broker is no such sign: transaction markers and aborted
 * records keep the high watermark above the last readable record.)
 */
export function consumerStalled(
  now: number,
  lastProgress: number,
  waiting: number,
  stallTimeoutMs: number,
  where?: () => string,
): FraudError | undefined {
  if (waiting === 0 || now - lastProgress <= stallTimeoutMs) return undefined;
  const at = where?.();
  const err = new FraudError(
    ErrorCodes.CONSUMER_STALLED,
    `no record written for ${Math.round((now - lastProgress) / 1000)} s while ${waiting} wait${at ? ` (${at})` : ''} (--stall-timeout-ms ${stallTimeoutMs}); exiting for a supervisor to restart the scorer`,
  );
  log.error('the consumer made no progress; exiting so that a supervisor restarts the scorer', {
    err,
    stallTimeoutMs,
  });
  return err;
}

/**
 * How long a member may be without partitions, from its start or a revoke until the next assignment
 * (even an empty one), before it counts as stalled. A rebalance completes once every member rejoined
 * or was dropped at its session timeout, so two session timeouts is the floor.
 */
export function rejoinBoundMs(stallTimeoutMs: number, sessionTimeoutMs = 30_000): number {
  return Math.max(stallTimeoutMs, 2 * sessionTimeoutMs);
}

/**
 * The member has been out of its group since `since` for longer than `boundMs`: the error the source
 * stops with (logged here), else undefined. `what` says how the source knows (confluent: no assignment
 * since a revoke; kafkajs and platformatic: no heartbeat answered). Seen with librdkafka 2.15 after a
 * broker stopped past the session timeout: a metadata response that left the broker out (most likely still
 * fenced) left the client with none, and none came back (the timed re-bootstrap is armed only by a
 * metadata request, which needs a broker), so the member never rejoined and, holding no records, was
 * never seen as stalled.
 */
export function rejoinStalled(
  now: number,
  since: number | undefined,
  boundMs: number,
  after: string,
  what = 'no partition assignment',
): FraudError | undefined {
  if (since === undefined || now - since <= boundMs) return undefined;
  const err = new FraudError(
    ErrorCodes.CONSUMER_STALLED,
    `${what} for ${Math.round((now - since) / 1000)} s since ${after} (the member is out of its group and did not get back in; bound ${Math.round(boundMs / 1000)} s from --stall-timeout-ms and the session timeout); exiting for a supervisor to restart the scorer`,
  );
  log.error('the consumer did not rejoin its group; exiting so that a supervisor restarts the scorer', {
    err,
    boundMs,
  });
  return err;
}

/** How long a source's close waits on a broker that does not answer before it is left (settledWithin). */
export const CLOSE_BOUND_MS = 5000;

/**
 * The rejoin bound of a source with no revoke hook (kafkajs, platformatic): the member counts as in its
 * group while the group coordinator answers it (a heartbeat or a join). Both clients retried their
 * heartbeats for ever while their broker was stopped, alive and idle.
 */
export class HeartbeatBound {
  private at = Date.now();
  private after = 'the start';

  constructor(private readonly boundMs: number) {}

  /** At run(), and at a resume: a stopped process could not heartbeat. */
  restart(now: number): void {
    this.at = now;
  }

  /** The group coordinator answered a heartbeat or a join. */
  answered(): void {
    this.at = Date.now();
    this.after = 'the last one';
  }

  /** The error to stop with past the bound (logged), else undefined. */
  check(now: number): FraudError | undefined {
    return rejoinStalled(now, this.at, this.boundMs, this.after, 'no heartbeat answered by the group coordinator');
  }
}
