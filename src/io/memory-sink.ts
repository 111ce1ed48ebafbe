import { createWriteStream, type WriteStream } from 'node:fs';
import type { DeadLetter, OutputBatch, Sink } from '../pipeline/sink.js';

/** Embedded runs: keeps the last dead letters for the summary and optionally writes decisions as NDJSON. */
export class MemorySink implements Sink {
  readonly recentDeadLetters: DeadLetter[] = [];
  private readonly out: WriteStream | undefined;

  constructor(decisionsFile?: string) {
    this.out = decisionsFile ? createWriteStream(decisionsFile) : undefined;
  }

  async write(batch: OutputBatch): Promise<void> {
    if (this.out) {
      let text = '';
      for (const d of batch.decisions) text += `${JSON.stringify(d)}\n`;
      if (!this.out.write(text)) await new Promise<void>((r) => this.out!.once('drain', () => r()));
    }
    for (const d of batch.deadLetters) {
      this.recentDeadLetters.push(d);
      if (this.recentDeadLetters.length > 20) this.recentDeadLetters.shift();
    }
  }

  async close(): Promise<void> {
    if (this.out) await new Promise<void>((r) => this.out!.end(r));
  }
}
