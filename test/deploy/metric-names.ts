// The series names fraudscore exports, for checking that dashboards and rules only use real ones.
import { ProgressMetrics } from '../../src/monitoring/consumer-progress.js';
import { Metrics } from '../../src/monitoring/metrics.js';

export async function exportedSeriesNames(): Promise<Set<string>> {
  const metrics = new Metrics();
  new ProgressMetrics(metrics.registry).consumer('transactions');
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(`${m.name}${s}`);
  }
  metrics.registry.clear();
  return names;
}

/** fraudscore_* series (not recording rules, which contain ':') referenced in a text. */
export function referencedSeries(text: string): string[] {
  return [...new Set([...text.matchAll(/\bfraudscore_[a-z0-9_]+\b/g)].map((m) => m[0]))];
}
