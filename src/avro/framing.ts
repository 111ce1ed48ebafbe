// Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the Avro binary body.

export const MAGIC_BYTE = 0;
export const FRAME_HEADER_BYTES = 5;

export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** The Avro body of a message: after the 5-byte header when Confluent-framed, else the whole buffer. */
export function unframe(buf: Buffer): Buffer {
  return buf[0] === MAGIC_BYTE ? buf.subarray(FRAME_HEADER_BYTES) : buf;
}

/** The schema id of a framed message, or -1 when the buffer is too short or the magic byte is wrong. */
export function schemaIdOf(buf: Buffer): number {
  if (buf.length < FRAME_HEADER_BYTES || buf[0] !== MAGIC_BYTE) return -1;
  return buf.readUInt32BE(1);
}
