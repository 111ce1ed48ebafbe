// The scorer's /dashboard in a real browser (Debian's Chromium through playwright-core) while the real
// pipeline runs embedded: every plot must get data from /metrics, and a screenshot is written to
// reports/tmp/dashboard.png (gitignored; docs/dashboard.png is a committed copy).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/cli/run.js';
import { parseRunConfig } from '../../src/config/config.js';
import { N_FEATURES } from '../../src/features/feature-names.js';
import { packageRoot } from '../../src/kafka/admin.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!existsSync(CHROMIUM))('/dashboard in Chromium', () => {
  let browser: Browser | undefined;
  let app: Pipeline | undefined;

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('plots throughput, latency, outcomes, lag and drift from a running pipeline', async () => {
    // Paced at 20k tx/s (the shared CI cores stay usable), long enough to outlast the test; stopped
    // at the end, well before the generated event times (60 s apart from 2026-01-01) reach the future.
    app = await Pipeline.start(
      parseRunConfig(
        [
          ...[
            '--count',
            '1000000',
            '--rate',
            '20000',
            '--http-port',
            '0',
            '--progress',
            'off',
            '--drift-window',
            '5000',
          ],
          // A loaded machine must not turn batches into fallback scores: the score's PSI counts model scores only.
          ...['--inference-deadline-ms', '1000'],
        ],
        {},
      ),
    );
    const running = app.runToEnd();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${app.url}/dashboard?interval=400`);

    const points = (chart: string) =>
      page.locator(`svg[data-chart="${chart}"]`).evaluate((e) => Number(e.getAttribute('data-points')));
    // Enough polls for every time series to draw a line of several points (not lag: the embedded
    // stream has no Kafka consumer, so nothing is behind a head), and the drift window full enough for a
    // PSI on every feature and the score (the score's window fills last: only undegraded records count).
    // (A string: it runs in the page, where `document` exists; this file is compiled without the DOM lib.)
    await page.waitForFunction(
      `['throughput', 'latency', 'outcomes', 'stages', 'psi'].every(
        (c) => Number(document.querySelector('svg[data-chart="' + c + '"]')?.getAttribute('data-points')) >= 12) &&
        Number(document.querySelector('svg[data-chart="drift"]')?.getAttribute('data-points')) >= ${N_FEATURES + 1}`,
      undefined,
      { timeout: 30_000, polling: 200 },
    );
    const counts = Object.fromEntries(
      await Promise.all(
        ['throughput', 'latency', 'outcomes', 'errors', 'lagSeconds', 'stages', 'psi', 'drift'].map(
          async (c) => [c, await points(c)] as const,
        ),
      ),
    );
    expect(counts.drift).toBe(N_FEATURES + 1); // every feature and the score, each with a PSI bar
    expect(counts.errors).toBeGreaterThan(0); // the embedded stream's poison records are dead-lettered
    expect(await page.locator('#model').textContent()).toMatch(/champion \S+@\S+ \((onnx|tfjs)\)/);
    expect(await page.locator('#status').getAttribute('class')).not.toBe('err');
    expect(errors).toEqual([]);
    // Self-contained: everything it loaded came from the scorer.
    const origin = new URL(app.url!).origin;
    expect(requests.filter((u) => !u.startsWith(origin))).toEqual([]);

    const dir = join(packageRoot(), 'reports', 'tmp');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`[dashboard] data points ${JSON.stringify(counts)}; screenshot ${file}`);

    await app.stop();
    expect(await running).toBe(0);
  });
});
