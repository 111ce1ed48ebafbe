// Why a Redis request failed, as a small fixed set of causes: each is logged at most once per interval
// (with how many were suppressed) and counted, so a misconfigured user or a dying server shows up in the
// log and on a dashboard instead of only as degraded decisions.

import { logger } from '../log/logger.js';

export const RedisErrorCauses = [
  'timeout',
  'connection',
  'noperm',
  'auth',
  'oom',
  'readonly',
  'cluster',
  'bad_state',
  'other',
] as const;
export type RedisErrorCause = (typeof RedisErrorCauses)[number];

const log = logger('features');

export function redisErrorCause(err: unknown): RedisErrorCause {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | undefined)?.code ?? '';
  if (/timed out/i.test(message)) return 'timeout';
  if (message.startsWith('NOPERM')) return 'noperm';
  if (/^(NOAUTH|WRONGPASS)/.test(message)) return 'auth';
  if (message.startsWith('OOM')) return 'oom';
  if (message.startsWith('READONLY')) return 'readonly';
  if (/^(MOVED|ASK|CLUSTERDOWN|CROSSSLOT|TRYAGAIN)/.test(message)) return 'cluster';
  if (message.startsWith('feature log:')) return 'bad_state';
  if (
    /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH)$/.test(code) ||
    /connection|connect|closed|not ready|writeable|is (connecting|reconnecting|end|close|wait)/i.test(message)
  )
    return 'connection';
  return 'other';
}

/** Logs each cause at most once per interval and hands every failure to `count`. */
export class RedisErrorReporter {
  private readonly last = new Map<RedisErrorCause, { at: number; suppressed: number }>();

  constructor(
    private readonly count: (cause: RedisErrorCause) => void = () => {},
    private readonly intervalMs = 10_000,
  ) {}

  report(err: unknown, what: string): RedisErrorCause {
    const cause = redisErrorCause(err);
    this.count(cause);
    const now = Date.now();
    const seen = this.last.get(cause);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return cause;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(cause, { at: now, suppressed: 0 });
    log.warn(`Redis ${what} failed (${cause}); decisions are marked degraded until it answers`, {
      cause,
      error: err instanceof Error ? err.message : String(err),
      ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}),
    });
    return cause;
  }
}
