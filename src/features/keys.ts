// Every Redis key name the feature store uses is built here. Each entity's keys share a hash tag
// ({c:<customer>} or {t:<terminal>}) so that one entity's keys always land in one Redis Cluster slot.

export const DEFAULT_KEY_PREFIX = 'fs:';

export interface FeatureKeys {
  /** ZSET member = transaction id, score = event time (ms): the customer's transactions. */
  customerTx(customerId: string): string;
  /** ZSET member = '<amount minor>:<transaction id>', score = event time: the customer's amounts. */
  customerAmounts(customerId: string): string;
  /** ZSET member = transaction id, score = event time: the terminal's transactions. */
  terminalTx(terminalId: string): string;
  /** ZSET member = transaction id, score = event time: the terminal's transactions reported fraud. */
  terminalFraud(terminalId: string): string;
  /** SCAN pattern that matches every key under this prefix (tests and cleanup). */
  readonly pattern: string;
}

export function featureKeys(prefix: string = DEFAULT_KEY_PREFIX): FeatureKeys {
  return {
    customerTx: (id) => `${prefix}{c:${id}}:tx`,
    customerAmounts: (id) => `${prefix}{c:${id}}:amt`,
    terminalTx: (id) => `${prefix}{t:${id}}:tx`,
    terminalFraud: (id) => `${prefix}{t:${id}}:fraud`,
    pattern: `${escapeGlob(prefix)}*`,
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
