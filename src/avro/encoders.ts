import type { Decision, Label, Transaction } from '../types.js';
import { frame } from './framing.js';
import { decisionType, labelType, transactionType } from './schemas.js';

/** Registry ids fraudscore writes under (Confluent framing) when no registry assigns them. */
export const SCHEMA_IDS = { transactionV1: 1, transaction: 2, decision: 10, label: 20 } as const;

export interface Encoder<T> {
  encode(value: T): Buffer;
}

/** `schemaId` null writes plain Avro binary; a number writes Confluent framing with that id. */
function encoder<T>(type: () => ReturnType<typeof transactionType>, schemaId: number | null): Encoder<T> {
  const t = type();
  if (schemaId === null) return { encode: (v: T) => t.toBuffer(v) };
  return { encode: (v: T) => frame(schemaId, t.toBuffer(v)) };
}

export const transactionEncoder = (schemaId: number | null = SCHEMA_IDS.transaction): Encoder<Transaction> =>
  encoder<Transaction>(transactionType, schemaId);
export const decisionEncoder = (schemaId: number | null = SCHEMA_IDS.decision): Encoder<Decision> =>
  encoder<Decision>(decisionType, schemaId);
export const labelEncoder = (schemaId: number | null = SCHEMA_IDS.label): Encoder<Label> =>
  encoder<Label>(labelType, schemaId);
