import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { fromRoot } from '../package-root.js';

export type AvroType = avro.Type;

const cache = new Map<string, AvroType>();

/**
 * Compiles an .avsc file once. Longs stay JavaScript numbers (exact below 2^53, which covers minor
 * units and epoch milliseconds) and timestamp-millis stays a number: no Date or BigInt per record.
 */
export function loadSchema(path: string): AvroType {
  const full = path.startsWith('/') ? path : fromRoot(path);
  let type = cache.get(full);
  if (type === undefined) {
    type = avro.Type.forSchema(JSON.parse(readFileSync(full, 'utf8')), { wrapUnions: false });
    cache.set(full, type);
  }
  return type;
}

export const transactionType = (): AvroType => loadSchema('schemas/transaction.avsc');
export const decisionType = (): AvroType => loadSchema('schemas/decision.avsc');
export const labelType = (): AvroType => loadSchema('schemas/label.avsc');
