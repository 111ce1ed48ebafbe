// Kafka compression codecs for kafkajs, registered once (imported where the kafkajs client is made).
// kafkajs reads and writes gzip by itself and needs a codec for the others; a record batch it cannot
// decompress kills its consumer ("LZ4 compression not implemented"), so every codec a producer may use
// is registered here, with pure-JS implementations that install without native builds or downloads:
//
//   snappy  kafkajs-snappy (snappyjs; reads Java's xerial framing and raw snappy)   read and write
//   lz4     lz4js (LZ4 frame format, as Kafka's KafkaLZ4BlockOutputStream writes)  read and write (≤ 4 MB)
//   zstd    fzstd (a decompressor only)                                            read only
//
// Writing zstd is refused with a clear error: fraudscore's outputs are written with gzip, snappy, lz4
// or no compression (--compression).

import { createRequire } from 'node:module';
import { decompress as zstdDecompress } from 'fzstd';
import { CompressionCodecs, CompressionTypes } from './kafkajs.js';

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const require = createRequire(import.meta.url);
const snappyCodec = require('kafkajs-snappy') as () => Codec;
const lz4 = require('lz4js') as {
  compress(src: Uint8Array): Uint8Array;
  decompress(src: Uint8Array): Uint8Array;
};

const xxh32 = require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, len: number): number };

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** lz4js' largest block (4 MB): an input up to it is one block. */
const LZ4_ONE_BLOCK = 4 * 1024 * 1024;
const LZ4_BLOCK_INDEPENDENCE = 0x20;

const lz4Codec = (): Codec => ({
  async compress(encoder) {
    const input = encoder.buffer;
    if (input.length > LZ4_ONE_BLOCK) throw new Error('lz4 output batches above 4 MB are not supported; use gzip');
    // Kafka's broker and Java client read only frames flagged "independent blocks" (lz4js does not set
    // the flag); a one-block frame is independent, so the flag is set and the header checksum redone.
    const frame = lz4.compress(input);
    frame[4]! |= LZ4_BLOCK_INDEPENDENCE;
    frame[6] = (xxh32.hash(0, frame, 4, 2) >> 8) & 0xff;
    return asBuffer(frame);
  },
  async decompress(buffer) {
    return asBuffer(lz4.decompress(buffer));
  },
});

const zstdCodec = (): Codec => ({
  async compress() {
    throw new Error('zstd compression is not available for writing (fzstd only decompresses); use gzip, snappy or lz4');
  },
  async decompress(buffer) {
    return asBuffer(zstdDecompress(buffer));
  },
});

CompressionCodecs[CompressionTypes.Snappy] = snappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = lz4Codec;
CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec;

/** The codecs a consumer reads (gzip is kafkajs' own). */
export const READABLE_CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

/** Codecs fraudscore can write its outputs with (--compression). */
export const OUTPUT_CODECS = ['none', 'gzip', 'snappy', 'lz4'] as const;
export type OutputCodec = (typeof OUTPUT_CODECS)[number];

/** kafkajs' compression type of an output codec name. */
export function compressionType(codec: OutputCodec): number {
  return {
    none: CompressionTypes.None,
    gzip: CompressionTypes.GZIP,
    snappy: CompressionTypes.Snappy,
    lz4: CompressionTypes.LZ4,
  }[codec];
}
