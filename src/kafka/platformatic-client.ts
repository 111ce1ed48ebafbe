// @platformatic/kafka (pure TypeScript, no native build): the options every fraudscore client of it
// shares (brokers, client id, timeouts, TLS and SASL from KafkaSecurity).
import { type BaseOptions, findErrorBy } from '@platformatic/kafka';
import { ErrorCodes, FraudError } from '../errors.js';
import type { KafkaSecurity } from './security.js';

// The library needs Node >= 22.22 (as fraudscore's engines say); its only newer API it calls on an older
// Node is Promise.withResolvers (Node 22), supplied here. (Reading zstd input needs Node >= 22.15's zlib.)
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** The library's consumer metadata stamped on each fetched record: KIP-447 needs it in TxnOffsetCommit. */
export interface PlatformaticGroupMetadata {
  groupId: string;
  generationId: number;
  memberId: string;
  coordinatorId: number;
}

/**
 * The library's retry delay. The next transaction's AddPartitionsToTxn answers CONCURRENT_TRANSACTIONS
 * until the previous one's markers are written, a few ms: retried at once (as the Java client's 20 ms
 * does), not after a fixed back-off that every exactly-once batch would wait. Otherwise 100 ms doubling.
 */
function retryDelay(_client: object, _operation: string, attempt: number, _retries: number, err: Error): number {
  if (findErrorBy(err, 'apiId', 'CONCURRENT_TRANSACTIONS') !== null) return Math.min(100, 10 * attempt);
  return Math.min(2000, 100 * 2 ** (attempt - 1));
}

/** Options of a Consumer or Producer of @platformatic/kafka, TLS and SASL mapped from fraudscore's. */
export function platformaticBase(brokers: string[], clientId: string, security: KafkaSecurity): BaseOptions {
  const base: BaseOptions = {
    clientId,
    bootstrapBrokers: brokers,
    connectTimeout: 5000,
    requestTimeout: 30_000,
    retries: 12,
    retryDelay,
    // Topics are made by the stack script or the operator, never by a typo in a topic name.
    autocreateTopics: false,
  };
  const t = security.tls;
  if (t !== undefined) {
    base.tls = {
      ca: t.ca,
      cert: t.cert,
      key: t.key,
      // As librdkafka's ssl.endpoint.identification.algorithm=none: the chain is still verified.
      ...(t.hostnameCheck ? {} : { checkServerIdentity: () => undefined }),
    };
  }
  const s = security.sasl;
  if (s !== undefined) {
    if (s.mechanism === 'OAUTHBEARER') {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        '--kafka-client platformatic does not take --kafka-sasl-mechanism OAUTHBEARER in fraudscore yet; use --kafka-client confluent or kafkajs',
      );
    }
    base.sasl = { mechanism: s.mechanism, username: s.username, password: s.password };
  }
  return base;
}

/** The broker's error names under the library's "Received response with error" (e.g. CONCURRENT_TRANSACTIONS). */
export function brokerErrors(err: unknown): string[] {
  const names = new Set<string>();
  const walk = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== 'object' || depth > 4) return;
    const x = e as { apiId?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof x.apiId === 'string') names.add(x.apiId);
    if (Array.isArray(x.errors)) for (const inner of x.errors) walk(inner, depth + 1);
    walk(x.cause, depth + 1);
  };
  walk(err, 0);
  return [...names];
}

/** One line: the library's message with the broker's error names. */
export function describeKafkaError(err: unknown): string {
  const names = brokerErrors(err);
  const message = err instanceof Error ? err.message : String(err);
  return names.length === 0 ? message : `${message} (${names.join(', ')})`;
}
