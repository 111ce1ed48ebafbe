import type { Decision } from '../types.js';
import type { SourceRecord } from './source.js';

/** The next offset to read in one partition, i.e. the last processed offset + 1. */
export interface Position {
  topic: string;
  partition: number;
  offset: string;
}

export interface DeadLetter {
  record: SourceRecord;
  code: string;
  message: string;
}

/** Everything one micro-batch produced, written (and, for Kafka, committed) as one unit. */
export interface OutputBatch {
  decisions: readonly Decision[];
  deadLetters: readonly DeadLetter[];
  positions: readonly Position[];
}

/** Where decisions and dead letters go: Kafka topics, or a file/memory for embedded runs. */
export interface Sink {
  /** Resolves once the batch is durable; for Kafka that includes committing its positions. */
  write(batch: OutputBatch): Promise<void>;
  close(): Promise<void>;
}
