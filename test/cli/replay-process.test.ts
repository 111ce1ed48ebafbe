// The built CLI as a user runs it: a replay that cannot read its input exits non-zero at once with
// one line, even when it already connected its producer to the real broker (it used to hang forever).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/scorer-process.js';
import { kafkaBrokers, randomName } from '../helpers/stack.js';

describe('fraudscore replay (process)', () => {
  const env = { KAFKA_BROKERS: kafkaBrokers().join(',') };
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--from missing.avro: exit 2 within 2 s, one line', async () => {
    const started = Date.now();
    const cli = startCli('replay', ['--from', 'missing.avro'], env);
    const { code } = await cli.exited;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(code).toBe(2);
    expect(cli.output().trim()).toBe('fraudscore replay: --from missing.avro: no such file [FRAUD_INVALID_CONFIG]');
  });

  it('a file that is not Avro, found after the producer connected: exit 1 within a few seconds', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fraudscore-replay-'));
    const bad = path.join(dir, 'bad.avro');
    await writeFile(bad, 'not an avro container');
    const started = Date.now();
    const cli = startCli('replay', ['--from', bad, '--topic', randomName('fraudscore-test-none')], env);
    const { code } = await cli.exited;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(1);
    const lines = cli.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fraudscore replay: /);
  });
});
