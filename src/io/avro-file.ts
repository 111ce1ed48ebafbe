// Avro object container files (the simulator's output, the backfill's input), via avsc's block streams.

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import avro from 'avsc';
import type { AvroType } from '../avro/schemas.js';

export interface ContainerWriteOptions {
  /** 16 bytes; fixed so that the same input gives the same file bytes (avsc would pick a random one). */
  syncMarker: Buffer;
  /** 'deflate' (default) or 'null'. */
  codec?: 'deflate' | 'null';
  /** Uncompressed bytes per block (default 64 KiB). */
  blockSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Writes count records, get(0) … get(count − 1), to `path`; resolves when the file is closed. */
export async function writeContainer<T>(
  path: string,
  type: AvroType,
  count: number,
  get: (i: number) => T,
  opts: ContainerWriteOptions,
): Promise<void> {
  if (opts.syncMarker.length !== 16) throw new Error('an Avro sync marker is 16 bytes');
  const encoder = new avro.streams.BlockEncoder(type, {
    codec: opts.codec ?? 'deflate',
    syncMarker: opts.syncMarker,
    blockSize: opts.blockSize ?? 65_536,
  });
  const done = pipeline(encoder, createWriteStream(path));
  // pipeline rejects on an error from either side; keep that rejection observed while we write.
  let failed: unknown;
  done.catch((err: unknown) => {
    failed = err;
  });
  for (let i = 0; i < count; i++) {
    if (failed !== undefined) break;
    if (!encoder.write(get(i))) await Promise.race([once(encoder, 'drain'), done]);
    if (opts.onProgress && (i & 0x3fff) === 0) opts.onProgress(i, count);
  }
  encoder.end();
  await done;
  opts.onProgress?.(count, count);
}

/** Reads every record of an Avro container file (numbers for longs and timestamps, unwrapped unions). */
export async function readContainer<T>(path: string, onRecord?: (n: number) => void): Promise<T[]> {
  const decoder = new avro.streams.BlockDecoder({
    parseHook: (schema) => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false }),
  });
  const out: T[] = [];
  const input = createReadStream(path);
  input.on('error', (err) => decoder.destroy(err));
  for await (const record of input.pipe(decoder)) {
    out.push(record as T);
    if (onRecord && (out.length & 0x3fff) === 0) onRecord(out.length);
  }
  return out;
}
