// Kafka TLS and SASL options to client configurations (src/kafka/security.ts): no broker needed. The
// real secure stack is exercised by test/integration/kafka-secure.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS } from '../../src/cli/commands.js';
import { REPLAY_OPTIONS } from '../../src/config/command-options.js';
import { parseRunConfig } from '../../src/config/config.js';
import { commandHelp } from '../../src/config/help.js';
import { KAFKA_SECURITY_OPTIONS } from '../../src/config/kafka-security-options.js';
import { parseOptions } from '../../src/config/parse-options.js';
import { FraudError } from '../../src/errors.js';
import {
  kafkajsSecurity,
  kafkaSecurityOf,
  librdkafkaSecurity,
  loadKafkaSecurity,
  scrubSecrets,
  securityFailure,
} from '../../src/kafka/security.js';

const dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const ca = file('ca.pem', 'CA');
const cert = file('client.pem', 'CERT');
const key = file('client-key.pem', 'KEY');
const pwFile = file('password', 's3cr3t-pw\nsecond line ignored\n');

const secureEnv = {
  KAFKA_BROKERS: 'broker:9093',
  FRAUDSCORE_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
  FRAUDSCORE_KAFKA_TLS_CA: ca,
  FRAUDSCORE_KAFKA_TLS_CERT: cert,
  FRAUDSCORE_KAFKA_TLS_KEY: key,
  FRAUDSCORE_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
  FRAUDSCORE_KAFKA_SASL_USERNAME: 'fraudscore',
  FRAUDSCORE_KAFKA_SASL_PASSWORD_FILE: pwFile,
};

function problems(env: Record<string, string>, argv: string[] = []): string {
  try {
    parseRunConfig(argv, env);
  } catch (err) {
    return (err as FraudError).message;
  }
  return '';
}

describe('Kafka security options', () => {
  it('run --help lists every one with its environment variable', () => {
    const help = commandHelp(COMMAND_SPECS.run);
    for (const o of KAFKA_SECURITY_OPTIONS) {
      expect(help).toContain(o.flag);
      expect(help).toContain(`env ${o.env}`);
    }
  });

  it('SASL_SSL with mTLS and a password file: both clients configured alike, the password read from the file', async () => {
    const cfg = parseRunConfig([], secureEnv);
    const s = await loadKafkaSecurity(cfg);
    const kjs = kafkajsSecurity(s);
    expect(kjs.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'fraudscore', password: 's3cr3t-pw' });
    const ssl = kjs.ssl as { ca: Buffer[]; cert: Buffer; key: Buffer; rejectUnauthorized: boolean };
    expect(ssl.rejectUnauthorized).toBe(true);
    expect(ssl.ca.map(String)).toEqual(['CA']);
    expect([String(ssl.cert), String(ssl.key)]).toEqual(['CERT', 'KEY']);
    expect(ssl).not.toHaveProperty('checkServerIdentity'); // Node's default name check
    expect(librdkafkaSecurity(s)).toEqual({
      'security.protocol': 'sasl_ssl',
      'enable.ssl.certificate.verification': true,
      'ssl.endpoint.identification.algorithm': 'https',
      'ssl.ca.location': ca,
      'ssl.certificate.location': cert,
      'ssl.key.location': key,
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'fraudscore',
      'sasl.password': 's3cr3t-pw',
    });
  });

  it('flags win over environment variables; the hostname check can be turned off explicitly', async () => {
    const cfg = parseRunConfig(['--kafka-sasl-mechanism', 'PLAIN', '--kafka-tls-hostname-check=false'], secureEnv);
    const s = await loadKafkaSecurity(cfg);
    expect(librdkafkaSecurity(s)['ssl.endpoint.identification.algorithm']).toBe('none');
    expect(librdkafkaSecurity(s)['sasl.mechanisms']).toBe('PLAIN');
    const ssl = kafkajsSecurity(s).ssl as { checkServerIdentity: () => unknown };
    expect(ssl.checkServerIdentity()).toBeUndefined();
  });

  it('plaintext by default: nothing added to either client', async () => {
    const s = await loadKafkaSecurity(parseRunConfig([], { KAFKA_BROKERS: 'b:9092' }));
    expect(kafkajsSecurity(s)).toEqual({});
    expect(librdkafkaSecurity(s)).toEqual({ 'security.protocol': 'plaintext' });
  });

  it('options that do not fit together are each named, with the fix', () => {
    expect(problems({ KAFKA_BROKERS: 'b:1', FRAUDSCORE_KAFKA_SASL_USERNAME: 'u' })).toMatch(
      /the --kafka-sasl-\* options need SASL: set --kafka-security-protocol sasl_ssl/,
    );
    expect(problems({ KAFKA_BROKERS: 'b:1', FRAUDSCORE_KAFKA_TLS_CA: ca })).toMatch(
      /the --kafka-tls-\* options need TLS/,
    );
    expect(problems({ ...secureEnv, FRAUDSCORE_KAFKA_SASL_MECHANISM: '' })).toMatch(
      /sasl_ssl needs --kafka-sasl-mechanism/,
    );
    expect(problems({ ...secureEnv, FRAUDSCORE_KAFKA_SASL_PASSWORD: 'x' })).toMatch(
      /give the Kafka SASL password once/,
    );
    expect(problems({ ...secureEnv, FRAUDSCORE_KAFKA_SASL_PASSWORD_FILE: '' })).toMatch(
      /needs --kafka-sasl-password-file/,
    );
    expect(problems({ ...secureEnv, FRAUDSCORE_KAFKA_TLS_KEY: '' })).toMatch(
      /give both --kafka-tls-cert and --kafka-tls-key/,
    );
    expect(problems({ ...secureEnv, FRAUDSCORE_KAFKA_SASL_MECHANISM: 'GSSAPI' })).toMatch(
      /FRAUDSCORE_KAFKA_SASL_MECHANISM="GSSAPI": must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER/,
    );
    // The password itself never appears in a configuration error.
    expect(problems({ ...secureEnv, FRAUDSCORE_KAFKA_SASL_PASSWORD: 'hunter2' })).not.toContain('hunter2');
  });

  it('a secret file that cannot be read is one line naming the flag, never its content', async () => {
    const cfg = parseRunConfig([], { ...secureEnv, FRAUDSCORE_KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing') });
    await expect(loadKafkaSecurity(cfg)).rejects.toThrow(
      /--kafka-sasl-password-file .*missing: cannot be read \(ENOENT\)/,
    );
  });

  it('OAUTHBEARER: the token file is read at every refresh; principal and expiry come from the JWT', async () => {
    const claims = (sub: string) =>
      `e30.${Buffer.from(JSON.stringify({ sub, exp: 2_000_000_000 })).toString('base64url')}.`;
    const tokenFile = file('token', claims('svc-a'));
    const env = {
      KAFKA_BROKERS: 'b:9093',
      FRAUDSCORE_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      FRAUDSCORE_KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
      FRAUDSCORE_KAFKA_SASL_OAUTH_TOKEN_FILE: tokenFile,
    };
    const s = await loadKafkaSecurity(parseRunConfig([], env));
    const rd = librdkafkaSecurity(s);
    expect(rd['sasl.mechanisms']).toBe('OAUTHBEARER');
    const refresh = rd.oauthbearer_token_refresh_cb as () => Promise<Record<string, unknown>>;
    expect(await refresh()).toEqual({ tokenValue: claims('svc-a'), principal: 'svc-a', lifetime: 2_000_000_000_000 });
    writeFileSync(tokenFile, claims('svc-b')); // rotated by a sidecar
    expect((await refresh()).principal).toBe('svc-b');
    const kjs = kafkajsSecurity(s).sasl as { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> };
    expect(kjs.mechanism).toBe('oauthbearer');
    expect((await kjs.oauthBearerProvider()).value).toBe(claims('svc-b'));
    expect(problems({ ...env, FRAUDSCORE_KAFKA_SASL_OAUTH_TOKEN_FILE: '' })).toMatch(
      /OAUTHBEARER needs --kafka-sasl-oauth-token-file/,
    );
  });

  it('replay, rescore and backtest take the same flags, falling back to the environment', async () => {
    const argv = ['--from', ca, '--kafka-sasl-username', 'replayer'];
    const { values: o } = parseOptions('replay', REPLAY_OPTIONS, argv, secureEnv);
    expect(o.kafkaSaslUsername).toBe('replayer');
    expect(o.kafkaSecurityProtocol).toBe('sasl_ssl');
    expect(o.kafkaTlsHostnameCheck).toBe(true);
    const plain = parseOptions('replay', REPLAY_OPTIONS, ['--from', ca, '--kafka-tls-ca', ca], {}).values;
    await expect(kafkaSecurityOf(plain)).rejects.toThrow(FraudError);
  });

  it('error text from a client never carries the password', async () => {
    const s = await loadKafkaSecurity(parseRunConfig([], secureEnv));
    expect(scrubSecrets('login s3cr3t-pw failed', s)).toBe('login *** failed');
    const e = securityFailure(new Error('SASL authentication error: Authentication failed (s3cr3t-pw)'), s, ['b:1']);
    expect(e?.message).toMatch(/refused the SASL SCRAM-SHA-512 credentials of User:fraudscore/);
    expect(e?.message).not.toContain('s3cr3t-pw');
  });
});
