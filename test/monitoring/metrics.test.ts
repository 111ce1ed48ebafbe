import { describe, expect, it } from 'vitest';
import { ChallengerAgreement } from '../../src/monitoring/batch-observers.js';
import { Metrics } from '../../src/monitoring/metrics.js';
import type { ObservedBatch } from '../../src/pipeline/processor.js';
import type { SourceRecord } from '../../src/pipeline/source.js';
import type { Transaction } from '../../src/types.js';

const metricsNoDefaults = () => new Metrics(undefined, { defaultMetrics: false });

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

function batch(
  partitions: number[],
  eventTimes: number[],
  scores: number[],
  challenger: number[] | null,
): ObservedBatch {
  const records = partitions.map(
    (p, i) => ({ key: null, value: null, topic: 'tx', partition: p, offset: String(i), arrivedAt: 0 }) as SourceRecord,
  );
  const transactions = eventTimes.map((t) => ({ event_time: t }) as Transaction);
  return {
    n: scores.length,
    features: new Float32Array(0),
    scores: Float32Array.from(scores),
    challengerScores: challenger === null ? null : Float32Array.from(challenger),
    cause: null,
    transactions,
    records,
  };
}

describe('Metrics', () => {
  it('names every series with the fraudscore_ prefix and creates labelled children up front', async () => {
    const text = await metricsNoDefaults().registry.metrics();
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(15);
    for (const n of names) expect(n).toMatch(/^fraudscore_/);
    for (const stage of ['decode', 'features', 'inference', 'policy', 'produce', 'commit']) {
      expect(text).toContain(`fraudscore_stage_duration_seconds_count{stage="${stage}"} 0`);
    }
    for (const o of ['APPROVE', 'REVIEW', 'DECLINE'])
      expect(text).toContain(`fraudscore_decisions_total{outcome="${o}"} 0`);
    // prom-client writes NaN as "Nan"; Prometheus parses it case-insensitively.
    expect(text).toMatch(/^fraudscore_feature_psi\{feature="amount"\} NaN$/im);
    expect(text).toContain('fraudscore_degraded_decisions_total{cause="FRAUD_FEATURES_UNAVAILABLE"} 0');
  });

  it('keeps one model_info series per role', async () => {
    const m = metricsNoDefaults();
    m.setModel('champion', 'a', '1', 'onnx');
    m.setModel('champion', 'b', '2', 'onnx');
    const text = await m.registry.metrics();
    expect(text).toContain('fraudscore_model_info{name="b",version="2",format="onnx",role="champion"} 1');
    expect(text).not.toContain('name="a"');
  });

  it('challenger agreement: same outcome bucket under the champion thresholds', async () => {
    const m = metricsNoDefaults();
    m.challengerLatency.observe(0.002);
    const obs = new ChallengerAgreement(m, () => ({ review: 0.3, decline: 0.7 }));
    // agree (both APPROVE), disagree (0.29 vs 0.31 across review), agree (both DECLINE), disagree.
    obs.observeBatch(batch([0, 0, 0, 0], [0, 0, 0, 0], [0.0, 0.29, 0.8, 0.5], [0.2, 0.31, 0.99, 0.9]));
    obs.observeBatch(batch([0], [0], [0.1], null)); // no challenger score: not compared
    const text = await m.registry.metrics();
    expect(value(text, 'fraudscore_challenger_compared_total')).toBe(4);
    expect(value(text, 'fraudscore_challenger_agreed_total')).toBe(2);
    expect(value(text, 'fraudscore_challenger_score_abs_diff_count')).toBe(4);
    expect(value(text, 'fraudscore_challenger_inference_seconds_count')).toBe(1);
  });
});
