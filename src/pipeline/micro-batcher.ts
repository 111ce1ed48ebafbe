import type { SourceRecord } from './source.js';

interface Submission {
  remaining: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export type BatchProcessor = (records: SourceRecord[]) => Promise<void>;

/**
 * Gathers records from any number of concurrent submitters into micro-batches of at most `maxBatch`,
 * flushed when full or when the oldest record has waited `maxWaitMs`, whichever comes first.
 * Batches run one at a time (one feature round trip and one model run each). A submission resolves
 * when all its records have been processed, so a Kafka partition does not move on before that.
 */
export class MicroBatcher {
  private pending: SourceRecord[] = [];
  private owners: Submission[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;

  constructor(
    private readonly process: BatchProcessor,
    private readonly maxBatch: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Records accepted and not yet processed. */
  get inFlight(): number {
    return this.pending.length;
  }

  submit(records: SourceRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('micro-batcher is closed'));
    return new Promise<void>((resolve, reject) => {
      const sub: Submission = { remaining: records.length, resolve, reject };
      for (const r of records) {
        this.pending.push(r);
        this.owners.push(sub);
      }
      this.schedule();
    });
  }

  /** Stops accepting records; resolves when everything accepted has been processed. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.pending.length > 0 || this.running) {
      if (!this.running) void this.drain();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private schedule(): void {
    if (this.running) return;
    if (this.pending.length >= this.maxBatch || this.maxWaitMs === 0) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      void this.drain();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.maxWaitMs);
    }
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const n = Math.min(this.maxBatch, this.pending.length);
        const batch = this.pending.splice(0, n);
        const owners = this.owners.splice(0, n);
        try {
          await this.process(batch);
        } catch (err) {
          for (const o of owners) o.reject(err);
          continue;
        }
        for (const o of owners) {
          if (--o.remaining === 0) o.resolve();
        }
        // A partly filled batch waits for more records unless we are closing.
        if (this.pending.length < this.maxBatch && !this.closed && this.maxWaitMs > 0) break;
      }
    } finally {
      this.running = false;
    }
    if (this.pending.length > 0) this.schedule();
  }
}
