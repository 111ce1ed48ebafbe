import { performance } from 'node:perf_hooks';
import { type Encoder, transactionEncoder } from '../avro/encoders.js';
import type { RecordHandler, Source, SourceRecord } from '../pipeline/source.js';
import { quickStream } from '../simulate/quick-stream.js';
import type { Transaction } from '../types.js';

export interface GeneratorSourceOptions {
  count: number;
  seed: number;
  /** Records handed to the processor per call (like one Kafka fetch). */
  chunk?: number;
  /** Every Nth record is replaced by a malformed one, to exercise the dead-letter path (0: never). */
  poisonEvery?: number;
  /** Records per second at most, e.g. for a live demo of /dashboard (0 or absent: as fast as possible). */
  rate?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The embedded stand-in for the transactions topic: a seeded stream encoded to the same Avro bytes a
 * producer would send, so decoding and dead-lettering run exactly as they do on Kafka.
 */
export class GeneratorSource implements Source {
  private stopped = false;
  private readonly encoder: Encoder<Transaction> = transactionEncoder();

  constructor(private readonly opts: GeneratorSourceOptions) {}

  async run(handler: RecordHandler): Promise<void> {
    const chunk = this.opts.chunk ?? 512;
    const poison = this.opts.poisonEvery ?? 0;
    const inFlight: Promise<void>[] = [];
    let batch: SourceRecord[] = [];
    let i = 0;
    const rate = this.opts.rate ?? 0;
    const started = performance.now();
    // A fixed start keeps the stream the same for the same seed; a longer stream starts earlier so that no
    // event time lies in the future (the decoder would dead-letter it). One record a minute on average.
    const start = Math.min(Date.UTC(2025, 0, 1), Date.now() - (this.opts.count + 1440) * 60_000);
    for (const tx of quickStream({ count: this.opts.count, seed: this.opts.seed, start })) {
      if (this.stopped) break;
      let value = this.encoder.encode(tx);
      if (poison > 0 && i % poison === poison - 1) value = value.subarray(0, value.length - 3);
      batch.push({
        key: Buffer.from(tx.customer_id),
        value,
        topic: 'embedded',
        partition: 0,
        offset: String(i),
        arrivedAt: 0,
      });
      i++;
      if (batch.length === chunk) {
        inFlight.push(this.hand(handler, batch));
        batch = [];
        // Like a consumer with bounded fetches: at most two chunks ahead of the processor.
        if (inFlight.length >= 2) await inFlight.shift();
        if (rate > 0) {
          const wait = started + (i / rate) * 1000 - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        this.opts.onProgress?.(i, this.opts.count);
      }
    }
    if (batch.length > 0) inFlight.push(this.hand(handler, batch));
    await Promise.all(inFlight);
    this.opts.onProgress?.(i, this.opts.count);
  }

  private hand(handler: RecordHandler, batch: SourceRecord[]): Promise<void> {
    const now = performance.now();
    for (const r of batch) r.arrivedAt = now;
    return handler(batch);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }
}
