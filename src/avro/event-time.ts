// A transaction's event time read straight from its bytes, without decoding the record: the source
// aligns partitions by event time per fetch (kafka/partition-aligner.ts) and looks at two or a few
// records of each fetch, so a full decode there would be wasted. Every writer schema fraudscore ships
// (schemas/transaction.avsc, schemas/history/) starts with `transaction_id` (string) and `event_time`
// (long, timestamp-millis); a record laid out otherwise (a registry schema that reorders them) or
// unreadable gives NaN, and the aligner then lets it through unheld. Alignment only decides what is
// handed over first: the feature store's watermark still guards exactness.

import { FRAME_HEADER_BYTES, MAGIC_BYTE } from './framing.js';
import type { WireFormat } from './transaction-decoder.js';

/** event_time (ms) of an encoded transaction, or NaN when the bytes do not start as expected. */
export function eventTimeOf(value: Buffer | null, wireFormat: WireFormat): number {
  if (value === null || value.length === 0) return Number.NaN;
  let pos = 0;
  if (wireFormat === 'confluent' || (wireFormat === 'auto' && value[0] === MAGIC_BYTE)) {
    if (value[0] !== MAGIC_BYTE) return Number.NaN;
    pos = FRAME_HEADER_BYTES;
  }
  // transaction_id: a zigzag varint length, then that many bytes.
  const len = readLong(value, pos);
  if (Number.isNaN(len) || len < 0) return Number.NaN;
  pos = lastEnd + len;
  if (pos >= value.length) return Number.NaN;
  return readLong(value, pos);
}

/** Where the last readLong ended (module state, so that the hot path allocates nothing). */
let lastEnd = 0;

/** A zigzag varint long at `pos` (exact up to 2^53), or NaN when it runs past the buffer. */
function readLong(buf: Buffer, pos: number): number {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) return Number.NaN;
    const b = buf[pos++];
    n += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) {
      lastEnd = pos;
      // zigzag: even → n / 2, odd → −(n + 1) / 2
      return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
    }
  }
  return Number.NaN;
}
