import type { DeadLetter } from '../pipeline/sink.js';

/** Header names of a dead-letter record; values are UTF-8 strings. */
export const DLQ_HEADERS = {
  code: 'fraudscore.error.code',
  message: 'fraudscore.error.message',
  topic: 'fraudscore.source.topic',
  partition: 'fraudscore.source.partition',
  offset: 'fraudscore.source.offset',
  failedAt: 'fraudscore.failed.at',
  /** Set only on a truncated copy: the byte length of the original value. */
  originalSize: 'fraudscore.original.size',
} as const;

/** librdkafka's default message.max.bytes: a producer-side cap below most topics' limit. */
export const DEFAULT_MAX_RECORD_BYTES = 1_000_000;
// Record and batch framing plus header names: what a record costs beyond its key, value and headers.
const FRAMING_BYTES = 1024;

export interface DeadLetterMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * The dead letter of `d`: the original key and value bytes with the error headers. A record too big
 * for the DLQ topic (`maxBytes`, its max.message.bytes read at start) is written as a truncated copy
 * with `fraudscore.original.size`, so that no record can halt its partition.
 */
export function deadLetterMessage(d: DeadLetter, maxBytes = DEFAULT_MAX_RECORD_BYTES): DeadLetterMessage {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.code]: d.code,
    [DLQ_HEADERS.message]: d.message.length > 2000 ? `${d.message.slice(0, 2000)}…` : d.message,
    [DLQ_HEADERS.topic]: d.record.topic,
    [DLQ_HEADERS.partition]: String(d.record.partition),
    [DLQ_HEADERS.offset]: d.record.offset,
    [DLQ_HEADERS.failedAt]: new Date().toISOString(),
  };
  let key = d.record.key;
  let value = d.record.value;
  const keyBytes = key?.length ?? 0;
  const valueBytes = value?.length ?? 0;
  let room = maxBytes - FRAMING_BYTES - headerBytes(headers) - 64;
  if (keyBytes + valueBytes > room) {
    headers[DLQ_HEADERS.originalSize] = String(valueBytes);
    // A key longer than a few kB is itself garbage: keep its head only.
    if (key !== null && keyBytes > 4096) key = key.subarray(0, 4096);
    room -= key?.length ?? 0;
    if (value !== null) value = value.subarray(0, Math.max(0, room));
  }
  return { key, value, headers };
}

/** Approximate bytes of a dead letter on the wire (key, value, headers). */
export function deadLetterBytes(m: DeadLetterMessage): number {
  return (m.key?.length ?? 0) + (m.value?.length ?? 0) + headerBytes(m.headers) + FRAMING_BYTES;
}

function headerBytes(h: Record<string, string>): number {
  let n = 0;
  for (const k in h) n += Buffer.byteLength(k) + Buffer.byteLength(h[k]) + 8;
  return n;
}

/** Splits dead letters into groups each below `maxBytes` (one produce request per group). */
export function chunkBySize(messages: readonly DeadLetterMessage[], maxBytes: number): DeadLetterMessage[][] {
  const out: DeadLetterMessage[][] = [];
  let cur: DeadLetterMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const b = deadLetterBytes(m);
    if (cur.length > 0 && bytes + b > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
