import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS } from '../../src/cli/commands.js';
import { parseRunConfig } from '../../src/config/config.js';
import type { ConfigError } from '../../src/config/config-error.js';
import { commandHelp } from '../../src/config/help.js';
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
    expect(msg).toContain('--max-batch "lots": must be a whole number');
    expect(msg).toContain('--delivery "maybe": must be one of exactly-once, at-least-once');
    expect((err as ConfigError).problems).toHaveLength(6);
    expect(msg).toContain('unknown option "--bogus"');
    expect(msg).toContain('must be below --decline-threshold');
    expect(msg).toContain('KAFKA_BROKERS / --brokers entries must be host:port');
    expect(msg).toContain('REDIS_URL / --redis must look like redis://host:port');
  });

  it('rejects a model folder without a manifest', () => {
    expect(() => parseRunConfig(['--model', '/nonexistent/model'], {})).toThrow(/no manifest.json/);
  });

  it('schema registry options: environment and flags, one password source, an http(s) URL shown without its password', () => {
    const cfg = parseRunConfig(['--schema-registry-auto-register=false'], {
      SCHEMA_REGISTRY_URL: 'https://sr.example:8081/apis/ccompat/v7',
      SCHEMA_REGISTRY_USER: 'scorer',
      SCHEMA_REGISTRY_PASSWORD_FILE: '/run/secrets/sr',
      SCHEMA_REGISTRY_CA: '/etc/ca.pem',
    });
    expect(cfg).toMatchObject({
      schemaRegistryUrl: 'https://sr.example:8081/apis/ccompat/v7',
      schemaRegistryUser: 'scorer',
      schemaRegistryPasswordFile: '/run/secrets/sr',
      schemaRegistryCa: '/etc/ca.pem',
      schemaRegistryAutoRegister: false,
      schemaRegistryUnavailableMs: 30_000,
    });
    let err: unknown;
    try {
      parseRunConfig(['--schema-registry', 'sr://u:hunter2@host', '--schema-registry-password', 'x'], {
        SCHEMA_REGISTRY_PASSWORD_FILE: '/run/secrets/sr',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FraudError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/--schema-registry must look like http\(s\):\/\//);
    expect(msg).toMatch(/password once/);
    expect(msg).not.toContain('hunter2');
  });

  it('documents every option with its environment variable in --help', () => {
    const help = commandHelp(COMMAND_SPECS.run);
    for (const o of RUN_OPTIONS) {
      expect(help).toContain(o.flag);
      expect(help).toContain(o.env);
    }
  });
});
