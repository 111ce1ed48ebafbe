// The alerting rules are code: promtool checks their syntax and runs their unit tests
// (deploy/prometheus/alerts.test.yml, firing and not firing cases for every alert). Skipped only
// where promtool is not installed (Debian: apt-get install prometheus).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { packageRoot } from '../../src/kafka/admin.js';
import { exportedSeriesNames, referencedSeries } from './metric-names.js';

const root = packageRoot();
const dir = join(root, 'deploy/prometheus');
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('Prometheus alerting rules', () => {
  test('only use series fraudscore exports', async () => {
    const exported = await exportedSeriesNames();
    const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
    for (const name of referencedSeries(rules)) expect(exported, name).toContain(name);
  });
});

describe.skipIf(!hasPromtool)('Prometheus alerting rules (promtool)', () => {
  test('promtool check rules accepts alerts.yml', () => {
    const r = promtool('check', 'rules', 'alerts.yml');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  test('promtool test rules passes every case of alerts.test.yml', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
    console.log(`[alerts] ${r.out.trim().replace(/\s+/g, ' ')}`);
  });

  test('every alert has severity, summary, a runbook section, and a firing and a quiet test', () => {
    const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
    const tests = readFileSync(join(dir, 'alerts.test.yml'), 'utf8');
    const runbook = readFileSync(join(root, 'docs/runbook.md'), 'utf8');
    const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThanOrEqual(11);
    // Each alert block, up to the next rule.
    const blocks = rules.split(/^\s+- (?=alert:|record:)/m);
    for (const name of alerts) {
      const block = blocks.find((b) => b.startsWith(`alert: ${name}\n`))!;
      expect(block, name).toMatch(/severity: (critical|warning)/);
      expect(block, name).toMatch(/summary: /);
      expect(block, name).toContain(`runbook.md#${name.toLowerCase()}`);
      expect(runbook, `docs/runbook.md has no section for ${name}`).toMatch(new RegExp(`^## ${name}$`, 'm'));
      // A case where it fires (exp_alerts with labels) and one where it stays quiet (exp_alerts: []).
      const cases = [...tests.matchAll(new RegExp(`alertname: ${name}\\n\\s+exp_alerts:(.*)`, 'g'))].map((m) => m[1]!);
      expect(cases, `${name}: firing case`).toContainEqual('');
      expect(cases, `${name}: quiet case`).toContainEqual(' []');
    }
  });
});
