// The log levels FRAUDSCORE_LOG_LEVEL accepts, and their validation (an unknown level is a
// configuration error at start, never silently ignored).
import { ErrorCodes, FraudError } from '../errors.js';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type Level = (typeof LEVELS)[number];
export const DEFAULT_LEVEL: Level = 'info';

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}

/** The level of FRAUDSCORE_LOG_LEVEL (unset or empty: info); anything else is an INVALID_CONFIG error. */
export function parseLogLevel(raw: string | undefined): Level {
  if (raw === undefined || raw.trim() === '') return DEFAULT_LEVEL;
  const value = raw.trim().toLowerCase();
  if (isLevel(value)) return value;
  throw new FraudError(
    ErrorCodes.INVALID_CONFIG,
    `FRAUDSCORE_LOG_LEVEL=${JSON.stringify(raw)} is not a log level: use one of ${LEVELS.join(', ')}`,
  );
}
