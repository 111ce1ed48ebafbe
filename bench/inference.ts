// Inference micro-benchmark: wall time of one Scorer.score() (one ONNX run) per batch size.
//
//   npm run build && node dist/bench/inference.js [modelDir] [iterations]
//
// Target (DESIGN.md): p99 of one run() ≤ 1 ms for a batch of 256 on one core.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { N_FEATURES } from '../src/features/feature-names.js';
import { OnnxScorer } from '../src/scoring/onnx-scorer.js';
import { percentile } from '../src/stats/percentile.js';

export interface InferenceResult {
  batch: number;
  p50_us: number;
  p99_us: number;
  runs: number;
  /** What the rows were: the model's parity sample (real features) or seeded uniform values. */
  rows: 'parity-sample' | 'uniform';
}

/**
 * The rows scored: the model directory's parity-sample.json (feature rows of real transactions, in
 * the order of `features`, the loaded manifest's) repeated, when it has one; else seeded uniform
 * values in 0–100. The rows matter: uniform ones took the champion 2.3× less time per run than real ones.
 */
export function inferenceRows(
  modelDir: string,
  features: readonly string[],
  n: number,
  columns: number,
): { x: Float32Array; kind: InferenceResult['rows'] } {
  const x = new Float32Array(n * columns);
  const sample = path.join(modelDir, 'parity-sample.json');
  if (existsSync(sample)) {
    const parity = JSON.parse(readFileSync(sample, 'utf8')) as { features: string[]; rows: number[][] };
    const same = parity.features.length === columns && parity.features.every((f, j) => features[j] === f);
    if (same && parity.rows.length > 0) {
      for (let i = 0; i < n; i++) x.set(parity.rows[i % parity.rows.length], i * columns);
      return { x, kind: 'parity-sample' };
    }
  }
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = (s / 2 ** 32) * 100;
  }
  return { x, kind: 'uniform' };
}

export async function benchInference(
  modelDir: string,
  batches: readonly number[] = [1, 64, 256, 1024],
  iterations = 2000,
): Promise<InferenceResult[]> {
  const maxBatch = Math.max(...batches);
  const scorer = await OnnxScorer.load(modelDir, { maxBatch });
  const { x: input, kind } = inferenceRows(modelDir, scorer.manifest.features, maxBatch, N_FEATURES);
  const out = new Float32Array(maxBatch);
  const results: InferenceResult[] = [];
  try {
    for (const batch of batches) {
      const warmup = Math.max(50, iterations / 10);
      for (let i = 0; i < warmup; i++) await scorer.score(input, batch, out);
      const times = new Float64Array(iterations);
      for (let i = 0; i < iterations; i++) {
        const t0 = process.hrtime.bigint();
        await scorer.score(input, batch, out);
        times[i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
      times.sort();
      results.push({
        batch,
        p50_us: Math.round(percentile(times, 0.5) * 10) / 10,
        p99_us: Math.round(percentile(times, 0.99) * 10) / 10,
        runs: iterations,
        rows: kind,
      });
    }
  } finally {
    await scorer.close();
  }
  return results;
}

export function markdownTable(results: readonly InferenceResult[]): string {
  const lines = ['| batch | p50 µs | p99 µs | p50 µs/row | runs |', '|---:|---:|---:|---:|---:|'];
  for (const r of results) {
    lines.push(`| ${r.batch} | ${r.p50_us} | ${r.p99_us} | ${(r.p50_us / r.batch).toFixed(3)} | ${r.runs} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const dir = path.resolve(process.argv[2] ?? 'models/placeholder');
  const iterations = Number(process.argv[3] ?? 2000);
  const results = await benchInference(dir, [1, 64, 256, 1024], iterations);
  console.log(
    `ONNX Runtime inference, ${dir}, one score() = one run(), ${iterations} runs per batch size, ${results[0].rows} rows\n`,
  );
  console.log(markdownTable(results));
}
