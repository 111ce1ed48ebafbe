/** One raw input record, as read from Kafka or an embedded stream. */
export interface SourceRecord {
  key: Buffer | null;
  value: Buffer | null;
  topic: string;
  partition: number;
  offset: string;
  /** performance.now() when fraudscore received it: processing latency starts here. */
  arrivedAt: number;
  /** The record's Kafka timestamp (ms since the epoch), when it has one: fetch wait starts here. */
  timestamp?: number;
}

/** Resolves once every record handed over is decided (or dead-lettered) and durably written. */
export type RecordHandler = (records: SourceRecord[]) => Promise<void>;

/** Where raw transaction records come from: Kafka, or a generated stream for embedded runs. */
export interface Source {
  /** Feeds records to the handler until the source is exhausted or stop() is called. */
  run(handler: RecordHandler): Promise<void>;
  stop(): Promise<void>;
  /**
   * Partition → event time before which the partition's events were all written by earlier owners
   * (sources that align partitions by event time; see kafka/partition-aligner.ts). For the store's watermark.
   */
  readonly eventTimeFloors?: ReadonlyMap<number, number>;
  /** Called by the processor with its in-flight record count so the source can pause and resume. */
  backpressure?(inFlight: number): void;
}
