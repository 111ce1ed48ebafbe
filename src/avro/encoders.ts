import type { Decision, Label, Transaction } from '../types.js';
import { FRAME_HEADER_BYTES, frame } from './framing.js';
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
  // The body is encoded straight after the header in a reused scratch buffer, then copied out once:
  // one allocation per record instead of toBuffer's plus frame()'s.
  let scratch = frame(schemaId, Buffer.alloc(16_384 - FRAME_HEADER_BYTES));
  return {
    encode(v: T): Buffer {
      let end = t.encode(v, scratch, FRAME_HEADER_BYTES);
      if (end < 0) {
        // avsc returns minus the missing bytes; grow and encode again (rare: records are small).
        scratch = frame(schemaId, Buffer.alloc(2 * (scratch.length - end)));
        end = t.encode(v, scratch, FRAME_HEADER_BYTES);
      }
      // Copied out without a subarray view in between (allocUnsafe: small sizes come from the pool).
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      return out;
    },
  };
}

export const transactionEncoder = (schemaId: number | null = SCHEMA_IDS.transaction): Encoder<Transaction> =>
  encoder<Transaction>(transactionType, schemaId);
export const decisionEncoder = (schemaId: number | null = SCHEMA_IDS.decision): Encoder<Decision> =>
  encoder<Decision>(decisionType, schemaId);
export const labelEncoder = (schemaId: number | null = SCHEMA_IDS.label): Encoder<Label> =>
  encoder<Label>(labelType, schemaId);
