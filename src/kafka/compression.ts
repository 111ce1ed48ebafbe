// Kafka compression codecs for kafkajs, registered once (imported where the kafkajs client is made).
// kafkajs reads and writes gzip by itself and needs a codec for the others; a record batch it cannot
// decompress kills its consumer ("LZ4 compression not implemented"), so every codec a producer may use
// is registered here, with pure-JS implementations that install without native builds or downloads:
//
//   snappy  kafkajs-snappy (snappyjs; reads Java's xerial framing and raw snappy)   read and write
//   lz4     lz4js (LZ4 frame format, as Kafka's KafkaLZ4BlockOutputStream writes)  read and write
//   zstd    fzstd (a decompressor only)                                            read only
//
// Writing zstd is refused with a clear error: fraudscore's outputs are written with gzip, snappy, lz4
// or no compression.

import { createRequire } from 'node:module';
import { decompress as zstdDecompress } from 'fzstd';
// kafkajs is CommonJS and Node's ESM loader does not see these two as named exports.
import kafkajs from 'kafkajs';

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const { CompressionCodecs, CompressionTypes } = kafkajs;
const require = createRequire(import.meta.url);
const snappyCodec = require('kafkajs-snappy') as () => Codec;
const lz4 = require('lz4js') as {
  compress(src: Uint8Array): Uint8Array;
  decompress(src: Uint8Array): Uint8Array;
};

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

const lz4Codec = (): Codec => ({
  async compress(encoder) {
    return asBuffer(lz4.compress(encoder.buffer));
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
