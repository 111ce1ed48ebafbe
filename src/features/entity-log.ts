// The byte format of a feature log (a Redis STRING that only grows by APPEND): one entry per event, in
// append order, each self-delimiting so that any suffix read from an entry boundary parses.
//
//   T<time>,<amount>,<id bytes>:<id>   a transaction: event time and amount in minor units (base 36,
//                                      '-' for negatives), then the transaction id, length-prefixed so
//                                      that an id may hold any character
//   F<reported time>,0,<id bytes>:<id> a fraud report of transaction <id> (terminal logs only)
//
// A transaction id in a customer's log costs ~15 + id bytes; the same entry is written once to the
// customer's log and once to the terminal's.

const T = 0x54; // 'T'
const F = 0x46; // 'F'
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;

export const ENTRY_TX = T;
export const ENTRY_FRAUD = F;

/** Encodes one entry as a string (ASCII apart from the id; Redis stores its UTF-8 bytes). */
export function encodeEntry(kind: number, time: number, amount: number, id: string): string {
  return `${kind === T ? 'T' : 'F'}${base36(time)},${base36(amount)},${Buffer.byteLength(id)}:${id}`;
}

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
const PAIRS = Array.from({ length: 36 * 36 }, (_, i) => DIGITS[Math.floor(i / 36)] + DIGITS[i % 36]);

/**
 * x.toString(36), two digits per step. Number#toString with a radix goes through V8's double-to-radix
 * conversion: the two entries of a record took 1.2 µs of the scorer's thread that way, 0.33 µs so
 * (bench/results/profile-encode-entry-2026-12-02.json).
 */
export function base36(x: number): string {
  if (!Number.isSafeInteger(x)) return x.toString(36);
  if (x < 0) return `-${base36(-x)}`;
  let s = '';
  while (x >= 1296) {
    const q = Math.floor(x / 1296);
    s = PAIRS[x - q * 1296] + s;
    x = q;
  }
  return (x < 36 ? DIGITS[x] : PAIRS[x]) + s;
}

/** Byte length of an encoded entry (what APPEND adds). */
export function entryBytes(entry: string, id: string): number {
  return entry.length - id.length + Buffer.byteLength(id);
}

export type EntryVisitor = (kind: number, time: number, amount: number, id: string, start: number, end: number) => void;

/**
 * Calls visit for each entry of buf (a whole log, or a suffix starting at an entry boundary). Throws on
 * bytes that are not a log: the caller then re-reads the key from its start.
 */
export function parseLog(buf: Buffer, visit: EntryVisitor): void {
  let p = 0;
  const n = buf.length;
  while (p < n) {
    const start = p;
    const kind = buf[p++];
    if (kind !== T && kind !== F) throw new Error(`feature log: bad entry kind at byte ${start}`);
    let time = 0;
    let neg = false;
    if (buf[p] === MINUS) {
      neg = true;
      p++;
    }
    let c = buf[p];
    if (c === COMMA) throw new Error(`feature log: empty time at byte ${start}`);
    while (p < n && c !== COMMA) {
      time = time * 36 + digit36(c, start);
      c = buf[++p];
    }
    if (neg) time = -time;
    p++;
    let amount = 0;
    neg = false;
    if (buf[p] === MINUS) {
      neg = true;
      p++;
    }
    c = buf[p];
    while (p < n && c !== COMMA) {
      amount = amount * 36 + digit36(c, start);
      c = buf[++p];
    }
    if (neg) amount = -amount;
    p++;
    let len = 0;
    c = buf[p];
    while (p < n && c !== COLON) {
      if (c < 0x30 || c > 0x39) throw new Error(`feature log: bad id length at byte ${start}`);
      len = len * 10 + (c - 0x30);
      c = buf[++p];
    }
    p++;
    if (p + len > n) throw new Error(`feature log: truncated entry at byte ${start}`);
    const id = buf.toString('utf8', p, p + len);
    p += len;
    visit(kind, time, amount, id, start, p);
  }
}

function digit36(c: number, at: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 10;
  throw new Error(`feature log: bad digit at entry byte ${at}`);
}
