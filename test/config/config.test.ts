import { describe, expect, it } from 'vitest';
import { parseRunConfig, runHelp } from '../../src/config/config.js';
import { RUN_OPTIONS } from '../../src/config/options.js';
import { FraudError } from '../../src/errors.js';

describe('run configuration', () => {
  it('runs embedded with no environment at all, on the bundled model', () => {
    const cfg = parseRunConfig([], {});
    expect(cfg.brokers).toBeUndefined();
    expect(cfg.redisUrl).toBeUndefined();
    expect(cfg.delivery).toBe('exactly-once');
    expect(cfg.maxBatch).toBe(256);
    expect(cfg.modelDir).toMatch(/models\/champion$/);
  });

  it('takes environment variables and lets flags override them', () => {
    const cfg = parseRunConfig(['--max-batch', '64', '--delivery=at-least-once'], {
      KAFKA_BROKERS: 'a:9092, b:9092',
      REDIS_URL: 'redis://127.0.0.1:6379',
      FRAUDSCORE_MAX_BATCH: '128',
    });
    expect(cfg.brokers).toEqual(['a:9092', 'b:9092']);
    expect(cfg.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(cfg.maxBatch).toBe(64);
    expect(cfg.delivery).toBe('at-least-once');
  });

  it('reports every problem at once, each naming the option and how to fix it', () => {
    let err: unknown;
    try {
      parseRunConfig(
        [
          '--max-batch',
          'lots',
          '--delivery',
          'maybe',
          '--bogus',
          '--review-threshold',
          '0.9',
          '--decline-threshold',
          '0.5',
        ],
        {
          KAFKA_BROKERS: 'no-port',
          REDIS_URL: 'localhost:6379',
        },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FraudError);
    const msg = (err as FraudError).message;
    expect((err as FraudError).code).toBe('FRAUD_INVALID_CONFIG');
    expect(msg).toContain('--max-batch (flag --max-batch) must be a whole number, got "lots"');
    expect(msg).toContain('--delivery (flag --delivery) must be one of exactly-once, at-least-once');
    expect(msg).toContain('unknown option "--bogus"');
    expect(msg).toContain('must be below --decline-threshold');
    expect(msg).toContain('KAFKA_BROKERS / --brokers entries must be host:port');
    expect(msg).toContain('REDIS_URL / --redis must look like redis://host:port');
  });

  it('rejects a model folder without a manifest', () => {
    expect(() => parseRunConfig(['--model', '/nonexistent/model'], {})).toThrow(/no manifest.json/);
  });

  it('documents every option with its environment variable in --help', () => {
    const help = runHelp();
    for (const o of RUN_OPTIONS) {
      expect(help).toContain(o.flag);
      expect(help).toContain(o.env);
    }
  });
});
