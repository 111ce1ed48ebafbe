// A built pipeline (create-pipeline.ts wires it): runs until its source ends or a signal, then stops
// every part it owns in order, bounded in time.

import type { SchemaRegistrySetup } from '../avro/registry-setup.js';
import { ErrorCodes, FraudError } from '../errors.js';
import type { FeatureStore } from '../features/feature-store.js';
import { logger } from '../log/logger.js';
import type { HttpServer } from '../monitoring/http.js';
import type { Metrics } from '../monitoring/metrics.js';
import type { Processor } from '../pipeline/processor.js';
import type { Sink } from '../pipeline/sink.js';
import type { Source } from '../pipeline/source.js';
import type { RunStats } from '../pipeline/stats.js';
import type { ModelRegistry } from '../scoring/model-registry.js';

// The component name the scorer's log lines always had.
const log = logger('run');

/** Something the pipeline opened and must close when it stops, after the sink and before the store. */
export interface Closeable {
  stop(): Promise<void>;
}

export interface PipelineParts {
  metrics: Metrics;
  registry: ModelRegistry;
  store: FeatureStore;
  processor: Processor;
  source: Source;
  sink: Sink;
  stats: RunStats;
  /** Label consumer, head poller, …: stopped after the processor, before the sink. */
  companions: readonly Closeable[];
  challenger: { close(): Promise<void> } | undefined;
  http: HttpServer | undefined;
  url: string | undefined;
  schemaRegistry: SchemaRegistrySetup | undefined;
  /** Ends the progress line. */
  progressDone(): void;
}

export class Pipeline {
  readonly metrics: Metrics;
  readonly registry: ModelRegistry;
  readonly store: FeatureStore;
  readonly processor: Processor;
  readonly source: Source;
  readonly sink: Sink;
  readonly stats: RunStats;
  readonly http: HttpServer | undefined;
  /** Base URL of the HTTP server (/metrics, /healthz, /readyz, /dashboard), when it serves. */
  readonly url: string | undefined;
  readonly schemaRegistry: SchemaRegistrySetup | undefined;
  private readonly parts: PipelineParts;
  private stopping: Promise<void> | undefined;
  /** A fault the run cannot ride out (a schema registry down past its bound): it stops the run. */
  private fatal: unknown;

  constructor(parts: PipelineParts) {
    this.parts = parts;
    this.metrics = parts.metrics;
    this.registry = parts.registry;
    this.store = parts.store;
    this.processor = parts.processor;
    this.source = parts.source;
    this.sink = parts.sink;
    this.stats = parts.stats;
    this.http = parts.http;
    this.url = parts.url;
    this.schemaRegistry = parts.schemaRegistry;
  }

  /** Runs until the source ends (embedded, a range) or SIGTERM/SIGINT; returns the exit code. */
  async runToEnd(): Promise<number> {
    // SIGTERM must end the process within 10 s even when a broker does not answer: the 7 s clock starts
    // at the signal, not once the source has handed back its partitions (that alone can take seconds).
    let abandon: () => void = () => {};
    const abandoned = new Promise<void>((r) => {
      abandon = r;
    });
    const onSignal = (signal: string) => {
      log.info('stopping: finishing the in-flight batch', { signal });
      setTimeout(abandon, 7000).unref();
      void this.stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const handler = this.processor.handle;
    const bp = this.source.backpressure?.bind(this.source);
    const wrapped = bp
      ? (records: Parameters<typeof handler>[0]) => {
          const p = handler(records);
          bp(this.processor.inFlight);
          return p.finally(() => bp(this.processor.inFlight));
        }
      : handler;
    const guarded = (records: Parameters<typeof handler>[0]) =>
      wrapped(records).catch((err: unknown) => {
        if (err instanceof FraudError && err.code === ErrorCodes.REGISTRY_UNAVAILABLE && this.fatal === undefined) {
          this.fatal = err;
          void this.stop();
        }
        throw err;
      });
    const running = this.source.run(guarded);
    running.catch(() => {}); // observed below; a rejection after an abandoned shutdown is not an error
    try {
      await Promise.race([running, abandoned]);
    } finally {
      const bounded = await Promise.race([
        this.stop().then(() => true),
        abandoned.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(false), 7000).unref()),
      ]);
      if (!bounded) log.warn('shutdown did not finish within 7 s; abandoning the batch in flight');
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
    }
    if (this.fatal !== undefined) throw this.fatal;
    this.parts.progressDone();
    return 0;
  }

  stop(): Promise<void> {
    const p = this.parts;
    this.stopping ??= (async () => {
      await p.source.stop();
      await p.processor.close();
      for (const c of p.companions) await c.stop();
      await p.sink.close();
      await p.store.close();
      p.registry.stopWatching();
      await p.registry.close();
      await p.challenger?.close();
      await p.http?.close();
      p.schemaRegistry?.client.close();
    })();
    return this.stopping;
  }
}
