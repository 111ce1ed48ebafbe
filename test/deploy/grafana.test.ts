// deploy/grafana/dashboards/fraudscore.json is provisioned by docker-compose: it must be valid JSON,
// query only series fraudscore exports (or the recording rules of alerts.yml), and cover what the
// operators need.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/kafka/admin.js';
import { exportedSeriesNames, referencedSeries } from './metric-names.js';

const root = packageRoot();

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  datasource?: { uid: string };
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/dashboards/fraudscore.json'), 'utf8')) as {
    uid: string;
    panels: Panel[];
  };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('uses the provisioned Prometheus datasource and only series that exist', async () => {
    expect(dashboard.uid).toBe('fraudscore');
    const datasource = readFileSync(join(root, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8');
    for (const p of panels) expect(datasource).toContain(`uid: ${p.datasource!.uid}`);
    const exported = await exportedSeriesNames();
    const rules = readFileSync(join(root, 'deploy/prometheus/alerts.yml'), 'utf8');
    for (const name of referencedSeries(exprs.join('\n'))) expect(exported, name).toContain(name);
    for (const rule of [...exprs.join('\n').matchAll(/fraudscore:[a-z0-9_:]+/g)].map((m) => m[0])) {
      expect(rules).toContain(`record: ${rule}`);
    }
  });

  it('covers throughput, latency percentiles, outcomes, dead letters, degraded, lag, drift and the model', () => {
    const all = exprs.join('\n');
    for (const needed of [
      'fraudscore_records_in_total',
      'histogram_quantile(0.99, sum by (le) (rate(fraudscore_processing_seconds_bucket',
      'sum by (outcome) (rate(fraudscore_decisions_total',
      'fraudscore_dead_letters_total',
      'fraudscore_degraded_decisions_total',
      'fraudscore_consumer_lag_records',
      'fraudscore_consumer_lag_seconds',
      'fraudscore_feature_psi',
      'fraudscore_score_psi',
      'fraudscore_model_info',
    ]) {
      expect(all, needed).toContain(needed);
    }
  });
});
