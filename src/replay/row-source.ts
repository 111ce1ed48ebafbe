// Historical rows for replay, streamed from a file without loading it whole: Avro object container
// files (what `fraudscore simulate` writes), NDJSON, or CSV. Each row carries its record/line number
// so that a bad row can be reported precisely and skipped.

import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import avro from 'avsc';
import { labelType, transactionType } from '../avro/schemas.js';
import type { Label, Transaction } from '../types.js';

export type RowKind = 'transaction' | 'label';

export interface Row<T> {
  /** 1-based record number (Avro) or line number (NDJSON, CSV). */
  n: number;
  value?: T;
  /** Why the row cannot be used; the row is skipped and counted. */
  error?: string;
}

export interface RowFile<T> {
  rows: AsyncIterable<Row<T>>;
  /** Bytes read so far and the file size, for progress and ETA. */
  bytesRead(): number;
  size: number;
}

/** Columns understood in CSV (with a header line) and keys in NDJSON. */
export const CSV_COLUMNS = {
  transaction:
    'transaction_id, event_time (epoch ms or ISO 8601), customer_id, terminal_id, amount_minor (integer minor units) or amount (decimal major units), currency (default EUR), mcc, channel, country',
  label:
    'transaction_id, customer_id, terminal_id, event_time, reported_time (epoch ms or ISO 8601), is_fraud (true/false/1/0)',
} as const;

export function openRows<T extends Transaction | Label>(path: string, kind: RowKind): RowFile<T> {
  const size = statSync(path).size;
  // Paused until a row is asked for: a 'data' listener here would start the flow and lose the bytes
  // read before the parser is attached.
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const lower = path.toLowerCase();
  let rows: AsyncIterable<Row<T>>;
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl') || lower.endsWith('.json')) {
    rows = textRows(stream, (line) => fromObject(JSON.parse(line), kind) as T);
  } else if (lower.endsWith('.csv')) {
    rows = csvRows(stream, kind) as AsyncIterable<Row<T>>;
  } else {
    rows = avroRows(stream, kind) as AsyncIterable<Row<T>>;
  }
  return { rows, bytesRead: () => stream.bytesRead, size };
}

async function* avroRows(stream: NodeJS.ReadableStream, kind: RowKind): AsyncIterable<Row<Transaction | Label>> {
  const reader = kind === 'transaction' ? transactionType() : labelType();
  // Files written with an older schema resolve against the current one; added fields take defaults.
  const decoder = new avro.streams.BlockDecoder({
    readerSchema: reader.schema() as avro.Schema,
    parseHook: (schema) => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false }),
  });
  stream.on('error', (err) => decoder.destroy(err as Error));
  let n = 0;
  for await (const record of stream.pipe(decoder)) {
    n++;
    yield { n, value: record as Transaction | Label };
  }
}

async function* textRows<T>(stream: NodeJS.ReadableStream, parse: (line: string) => T): AsyncIterable<Row<T>> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield { n, value: parse(line) };
    } catch (err) {
      yield { n, error: (err as Error).message };
    }
  }
}

async function* csvRows(stream: NodeJS.ReadableStream, kind: RowKind): AsyncIterable<Row<Transaction | Label>> {
  let header: string[] | undefined;
  for await (const row of textRows(stream, (line) => line)) {
    if (row.value === undefined) continue;
    const cells = splitCsv(row.value);
    if (header === undefined) {
      header = cells.map((c) => c.trim().toLowerCase());
      continue;
    }
    try {
      const obj: Record<string, string> = {};
      header.forEach((h, i) => {
        obj[h] = cells[i] ?? '';
      });
      yield { n: row.n, value: fromObject(obj, kind) };
    } catch (err) {
      yield { n: row.n, error: (err as Error).message };
    }
  }
}

/** RFC 4180-ish: commas, double-quoted cells with "" escapes. */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function time(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(t)) throw new Error(`${field} ${JSON.stringify(v)} is neither epoch milliseconds nor ISO 8601`);
  return t;
}

function str(v: unknown, field: string, optional = false): string | null {
  if (v === undefined || v === null || v === '') {
    if (optional) return null;
    throw new Error(`${field} is missing`);
  }
  return String(v);
}

function fromObject(o: Record<string, unknown>, kind: RowKind): Transaction | Label {
  if (kind === 'label') {
    const fraud = o.is_fraud;
    return {
      transaction_id: str(o.transaction_id, 'transaction_id')!,
      customer_id: str(o.customer_id, 'customer_id')!,
      terminal_id: str(o.terminal_id, 'terminal_id')!,
      event_time: time(o.event_time, 'event_time'),
      reported_time: time(o.reported_time, 'reported_time'),
      is_fraud: fraud === true || fraud === 1 || fraud === '1' || fraud === 'true',
    };
  }
  let amountMinor: number;
  if (o.amount_minor !== undefined && o.amount_minor !== '') amountMinor = Number(o.amount_minor);
  else if (o.amount !== undefined && o.amount !== '') amountMinor = Math.round(Number(o.amount) * 100);
  else throw new Error('amount_minor (or amount) is missing');
  return {
    transaction_id: str(o.transaction_id, 'transaction_id')!,
    event_time: time(o.event_time, 'event_time'),
    customer_id: str(o.customer_id, 'customer_id')!,
    terminal_id: str(o.terminal_id, 'terminal_id')!,
    amount_minor: amountMinor,
    currency: str(o.currency, 'currency', true) ?? 'EUR',
    mcc: str(o.mcc, 'mcc', true),
    channel: str(o.channel, 'channel', true) ?? 'UNKNOWN',
    country: str(o.country, 'country', true),
  };
}
