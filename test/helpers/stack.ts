// Where the integration tests find the real services (started by test/global-setup.ts through
// scripts/stack.sh when they are not already running).
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';

/** Unit tests run without the stack (`npm run test:unit`): one that reaches for it is misfiled. */
function needsStack(): void {
  if (process.env.FRAUDSCORE_TEST_PROJECT === 'unit') {
    throw new Error('this test needs Kafka or Redis: add its file to SERVICE_TESTS in vitest.config.ts');
  }
}

export function kafkaBrokers(): string[] {
  needsStack();
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

export function redisUrl(): string {
  needsStack();
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A name unique across runs and files, e.g. for topics, consumer groups and key prefixes. */
export function randomName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface BrokerApiVersions {
  apis: Map<number, { min: number; max: number }>;
  /** Finalized feature levels, e.g. metadata.version, kraft.version, transaction.version. */
  finalizedFeatures: Map<string, number>;
}

/**
 * Sends a raw ApiVersions v3 request to one broker and decodes the answer, including the tagged
 * fields (finalized features) that kafkajs does not expose. Used to tell which Kafka release runs.
 */
export async function brokerApiVersions(broker: string, timeoutMs = 5000): Promise<BrokerApiVersions> {
  const [host, portText] = splitHostPort(broker);
  const compactString = (s: string) => Buffer.concat([uvarint(Buffer.byteLength(s) + 1), Buffer.from(s)]);
  const clientId = Buffer.from('fraudscore-test');
  const header = Buffer.alloc(8);
  header.writeInt16BE(18, 0); // api key ApiVersions
  header.writeInt16BE(3, 2); // version 3 (flexible)
  header.writeInt32BE(1, 4); // correlation id
  const clientIdLen = Buffer.alloc(2);
  clientIdLen.writeInt16BE(clientId.length, 0);
  const body = Buffer.concat([
    header,
    clientIdLen,
    clientId,
    uvarint(0), // header tagged fields
    compactString('fraudscore-test'),
    compactString('0.1.0'),
    uvarint(0), // body tagged fields
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);

  const response = await new Promise<Buffer>((resolve, reject) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    let received = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`ApiVersions to ${broker} timed out`));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      const all = Buffer.concat(chunks, received);
      if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) {
        clearTimeout(timer);
        socket.end();
        resolve(all.subarray(4, 4 + all.readInt32BE(0)));
      }
    });
    socket.connect(Number(portText), host, () => socket.write(Buffer.concat([size, body])));
  });

  // Response header v0 (ApiVersions always answers with header v0): correlation id.
  const r = new Reader(response);
  if (r.int32() !== 1) throw new Error('ApiVersions: unexpected correlation id');
  const errorCode = r.int16();
  if (errorCode !== 0) throw new Error(`ApiVersions: error code ${errorCode}`);
  const apis = new Map<number, { min: number; max: number }>();
  const apiCount = r.uvarint() - 1;
  for (let i = 0; i < apiCount; i++) {
    const key = r.int16();
    const min = r.int16();
    const max = r.int16();
    r.skipTaggedFields();
    apis.set(key, { min, max });
  }
  r.int32(); // throttle time
  const finalizedFeatures = new Map<string, number>();
  const tagCount = r.uvarint();
  for (let i = 0; i < tagCount; i++) {
    const tag = r.uvarint();
    const length = r.uvarint();
    const end = r.offset + length;
    if (tag === 2) {
      const n = r.uvarint() - 1;
      for (let j = 0; j < n; j++) {
        const name = r.compactString();
        const maxLevel = r.int16();
        r.int16(); // min version level
        r.skipTaggedFields();
        finalizedFeatures.set(name, maxLevel);
      }
    }
    r.offset = end;
  }
  return { apis, finalizedFeatures };
}

/**
 * The Kafka release line of a metadata.version feature level (MetadataVersion in Kafka's
 * server-common: 22..25 are 4.0-IV0..IV3, 26..27 are 4.1-IV0..IV1, 28..29 are 4.2-IV0..IV1).
 */
export function kafkaReleaseOfMetadataLevel(level: number): string {
  if (level >= 22 && level <= 25) return '4.0';
  if (level >= 26 && level <= 27) return '4.1';
  if (level >= 28 && level <= 29) return '4.2';
  if (level >= 30) return `>4.2 (metadata.version level ${level})`;
  return `<4.0 (metadata.version level ${level})`;
}

function splitHostPort(broker: string): [string, string] {
  const i = broker.lastIndexOf(':');
  return [broker.slice(0, i).replace(/^\[|\]$/g, ''), broker.slice(i + 1)];
}

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.offset++];
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }
  compactString(): string {
    const len = this.uvarint() - 1;
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }
  skipTaggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.offset += this.uvarint();
    }
  }
}
