// Structured JSON logs on stderr through pino: one root logger, a child per component. Nothing in
// the per-record path logs; batches and state changes do. The call shape `logger(name).info(msg,
// fields)` is fraudscore's own (callers do not depend on pino's argument order).
import pino from 'pino';
import { type Level, parseLogLevel } from './levels.js';
import { CENSOR, REDACT_PATHS, redactUrls } from './redact.js';

export type { Level } from './levels.js';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Errors keep their type, message, stack, code and causes (nested); URL secrets are masked. */
function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.errWithCause(err as Error) as unknown;
  if (out === null || typeof out !== 'object' || out === err) return out;
  const mask = (e: Record<string, unknown>): void => {
    if (typeof e.message === 'string') e.message = redactUrls(e.message);
    if (typeof e.stack === 'string') e.stack = redactUrls(e.stack);
    if (e.cause !== null && typeof e.cause === 'object') mask(e.cause as Record<string, unknown>);
  };
  mask(out as Record<string, unknown>);
  return out;
}

/** Masks URL secrets in the string fields of a line (only lines that are written: not per record). */
function maskFields(fields: Record<string, unknown>): Record<string, unknown> {
  let out = fields;
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v !== 'string') continue;
    const masked = redactUrls(v);
    if (masked === v) continue;
    if (out === fields) out = { ...fields }; // never change the caller's object
    out[k] = masked;
  }
  return out;
}

/** The root logger; `destination` is for tests (default: stderr, synchronous so no line is lost on exit). */
export function createRootLogger(
  level: Level,
  destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true }),
) {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: maskFields },
      serializers: { err: serializeError, error: serializeError, cause: serializeError },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
    },
    destination,
  );
}

// An invalid FRAUDSCORE_LOG_LEVEL is reported by the CLI at start (checkLogLevel); until then, info.
let root = createRootLogger(safeLevel(process.env.FRAUDSCORE_LOG_LEVEL));
const children = new Map<string, pino.Logger>();

function safeLevel(raw: string | undefined): Level {
  try {
    return parseLogLevel(raw);
  } catch {
    return 'info';
  }
}

/** Validates FRAUDSCORE_LOG_LEVEL (throws INVALID_CONFIG naming the valid levels) and applies it. */
export function checkLogLevel(raw = process.env.FRAUDSCORE_LOG_LEVEL): Level {
  const level = parseLogLevel(raw);
  setLogLevel(level);
  return level;
}

export function setLogLevel(level: Level): void {
  root.level = level;
  for (const child of children.values()) child.level = level;
}

/** Sends every logger's lines to `destination` (tests); returns a function that restores stderr. */
export function redirectLogs(destination: pino.DestinationStream): () => void {
  const previous = root;
  root = createRootLogger(previous.level as Level, destination);
  children.clear();
  return () => {
    root = previous;
    children.clear();
  };
}

function child(component: string): pino.Logger {
  let c = children.get(component);
  if (c === undefined) {
    c = root.child({ component });
    children.set(component, c);
  }
  return c;
}

export function logger(component: string): Logger {
  // The child is looked up per call (a map hit) so that redirectLogs and setLogLevel reach loggers
  // that modules created at import time.
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: Record<string, unknown>): void => {
      const c = child(component);
      if (!c.isLevelEnabled(level)) return;
      if (fields === undefined) c[level](redactUrls(msg));
      else c[level](fields, redactUrls(msg));
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
