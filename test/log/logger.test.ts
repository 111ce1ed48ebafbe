import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { kafkaClient } from '../../src/kafka/client.js';
import { LEVELS, parseLogLevel } from '../../src/log/levels.js';
import { checkLogLevel, logger, redirectLogs, setLogLevel } from '../../src/log/logger.js';
import { redactUrls } from '../../src/log/redact.js';

/** Captures the JSON lines every logger writes while a test runs. */
function capture(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const out: string[] = [];
  const restore = redirectLogs({ write: (s: string) => void out.push(s) });
  return {
    lines: () =>
      out
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    restore,
  };
}

describe('logger', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    setLogLevel('info');
  });

  it('writes one JSON line per call with level, time, component and the fields', () => {
    const c = capture();
    restore = c.restore;
    logger('kafka-source').info('partitions assigned', { assigned: [0, 1] });
    logger('replay').warn('bad row skipped', { row: 7 });
    const [a, b] = c.lines();
    expect(a).toMatchObject({ level: 'info', component: 'kafka-source', msg: 'partitions assigned', assigned: [0, 1] });
    expect(Date.parse(a!.time as string)).not.toBeNaN();
    expect(b).toMatchObject({ level: 'warn', component: 'replay', row: 7 });
  });

  it('serializes errors with type, message, stack, code and nested cause, under err or error', () => {
    const c = capture();
    restore = c.restore;
    const root = new Error('connect ECONNREFUSED 127.0.0.1:9092');
    const err = new FraudError(ErrorCodes.STACK_UNAVAILABLE, 'Kafka did not answer', { cause: root });
    logger('run').error('start failed', { err });
    // kafkajs hands its errors over as `error` (they used to come out as {}).
    logger('kafkajs').warn('crash', { error: new TypeError('boom') });
    const [a, b] = c.lines() as { err?: Record<string, unknown>; error?: Record<string, unknown> }[];
    expect(a!.err).toMatchObject({
      type: 'FraudError',
      message: 'Kafka did not answer',
      code: 'FRAUD_STACK_UNAVAILABLE',
    });
    expect(a!.err!.stack).toMatch(/FraudError: Kafka did not answer\n\s+at /);
    expect(a!.err!.cause).toMatchObject({ type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9092' });
    expect((a!.err!.cause as Record<string, unknown>).stack).toMatch(/\n\s+at /);
    expect(b!.error).toMatchObject({ type: 'TypeError', message: 'boom' });
    expect(b!.error!.stack).toMatch(/TypeError: boom/);
  });

  it('logs Kafka client errors with message and stack, whichever form kafkajs hands them in', () => {
    const c = capture();
    restore = c.restore;
    const log = kafkaClient(['127.0.0.1:1'], 'fraudscore-test').logger();
    log.error('Crash: consumer', { error: new Error('broker gone') });
    log.error('Connection error', { error: 'connect ECONNREFUSED', stack: 'Error: connect ECONNREFUSED\n    at x' });
    const [a, b] = c.lines() as Record<string, unknown>[];
    expect(a).toMatchObject({ component: 'kafkajs', msg: 'Crash: consumer', error: { message: 'broker gone' } });
    expect((a!.error as Record<string, unknown>).stack).toMatch(/Error: broker gone\n\s+at /);
    expect(b).toMatchObject({ error: 'connect ECONNREFUSED', stack: 'Error: connect ECONNREFUSED\n    at x' });
  });

  it('never writes a secret: URL passwords in the message, fields and errors, and secret-named fields', () => {
    const c = capture();
    restore = c.restore;
    const url = 'redis://scorer:hunter2@redis:6379/0';
    const fields = { url, sasl: { mechanism: 'plain', password: 'hunter2' }, password: 'hunter2' };
    logger('features').warn(`cannot reach ${url}`, { ...fields, err: new Error(`connect to ${url} failed`) });
    const text = JSON.stringify(c.lines());
    expect(text).not.toContain('hunter2');
    expect(text).toContain('redis://scorer:***@redis:6379/0');
    expect(fields.url).toBe(url); // the caller's object is left as it was
  });

  it('filters by level, and the level can be changed at run time', () => {
    const c = capture();
    restore = c.restore;
    logger('x').debug('hidden at info');
    setLogLevel('debug');
    logger('x').debug('shown at debug');
    setLogLevel('error');
    logger('x').warn('hidden at error');
    expect(c.lines().map((l) => l.msg)).toEqual(['shown at debug']);
  });
});

describe('FRAUDSCORE_LOG_LEVEL', () => {
  it('accepts the pino levels in any case, and unset or empty as info', () => {
    for (const l of LEVELS) expect(parseLogLevel(l.toUpperCase())).toBe(l);
    expect(parseLogLevel(undefined)).toBe('info');
    expect(parseLogLevel('')).toBe('info');
  });

  it('rejects anything else with INVALID_CONFIG naming the valid levels', () => {
    let err: unknown;
    try {
      checkLogLevel('verbose');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FraudError);
    expect((err as FraudError).code).toBe(ErrorCodes.INVALID_CONFIG);
    expect((err as FraudError).message).toBe(
      'FRAUDSCORE_LOG_LEVEL="verbose" is not a log level: use one of trace, debug, info, warn, error, fatal, silent',
    );
  });
});

describe('redactUrls', () => {
  it('masks the password of every URL and leaves other text alone', () => {
    expect(redactUrls('a redis://u:p@h:1 b kafka://x:y@k:9 c')).toBe('a redis://u:***@h:1 b kafka://x:***@k:9 c');
    expect(redactUrls('redis://:p@h:1')).toBe('redis://:***@h:1');
    expect(redactUrls('mail me@example.com, redis://h:6379')).toBe('mail me@example.com, redis://h:6379');
  });
});
