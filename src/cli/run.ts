// `fraudscore run`: the scorer, embedded on a generated stream or on Kafka + Redis.

import { createPipeline, type PipelineOptions } from '../app/create-pipeline.js';
import { Pipeline as AppPipeline } from '../app/pipeline.js';
import { parseRunConfig, type RunConfig } from '../config/config.js';
import { logger } from '../log/logger.js';
import type { RunSummary } from '../pipeline/stats.js';

const log = logger('run');

export async function runCommand(argv: string[]): Promise<number> {
  const cfg = parseRunConfig(argv);
  try {
    const app = await createPipeline(runPipelineOptions(cfg));
    const code = await app.runToEnd();
    printSummary(app.stats.summary(), cfg);
    return code;
  } finally {
    // Whatever a failed start or a fatal fault left open (a Redis socket, a client's reconnect timer)
    // must not keep the process alive: the process never idles after its work ended.
    setTimeout(() => {
      log.debug('handles still open after the run ended; exiting anyway');
      process.exit(process.exitCode ?? 1);
    }, 1000).unref();
  }
}

/** `run`'s config as the composition root's options: each group of the table is one part of it. */
export function runPipelineOptions(cfg: RunConfig): PipelineOptions {
  return {
    model: { ...cfg, watch: true },
    scoring: cfg,
    features: cfg,
    decoder: { wireFormat: cfg.wireFormat },
    drift: cfg,
    http: cfg,
    progress: cfg.progress,
    processMetrics: true,
    io: cfg.brokers === undefined ? { kind: 'embedded', ...cfg } : { kind: 'kafka', ...cfg, brokers: cfg.brokers },
  };
}

/** The scorer as tests start it in-process: `Pipeline.start(parseRunConfig(argv, env))`. */
export class Pipeline extends AppPipeline {
  static start(cfg: RunConfig): Promise<AppPipeline> {
    return createPipeline(runPipelineOptions(cfg));
  }
}

function printSummary(s: RunSummary, cfg: RunConfig): void {
  const fmt = (n: number, d = 0) =>
    Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d }) : '-';
  const rows: [string, string][] = [
    ['records in', fmt(s.records)],
    ['decisions', fmt(s.decisions)],
    ['  APPROVE', fmt(s.by_outcome.APPROVE)],
    ['  REVIEW', fmt(s.by_outcome.REVIEW)],
    ['  DECLINE', fmt(s.by_outcome.DECLINE)],
    ['  degraded', fmt(s.degraded)],
    ['dead letters', fmt(s.dead_letters)],
    ['elapsed', `${fmt(s.seconds, 2)} s`],
    ['throughput', `${fmt(s.throughput_tps)} tx/s`],
    ['latency p50', `${fmt(s.p50_ms, 3)} ms`],
    ['latency p99', `${fmt(s.p99_ms, 3)} ms`],
  ];
  const mode =
    cfg.brokers === undefined ? 'embedded (generated stream, in-memory features)' : `Kafka ${cfg.brokers.join(',')}`;
  console.log(`\nfraudscore run — ${mode}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(14)} ${v.padStart(14)}`);
  if (cfg.brokers === undefined && s.dead_letters > 0) {
    console.log('  (the embedded stream includes 1 truncated record in 2000 to show the dead-letter path)');
  }
  console.log('  latency = from the record reaching fraudscore to its decision being written');
}
