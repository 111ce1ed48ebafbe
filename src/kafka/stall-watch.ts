// The two liveness checks every decoupled Kafka source runs from its watchdog (confluent and
// platformatic): a process that did not run for a while may be a zombie now, and records in hand with
// none written means the consumer is stuck; the source then exits for a supervisor to restart it.
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
