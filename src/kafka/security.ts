// Kafka TLS and SASL (issue 13) in one place: the options are checked here, the files read once, and
// turned into the two clients' configurations (kafkajs `ssl`/`sasl`, librdkafka properties). Every
// Kafka client fraudscore makes (scorer source and sink, label consumer, admin, start-up check,
// replay, rescore, backtest) gets its security from here, so both clients always agree.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type {
  KafkaSaslMechanism,
  KafkaSecurityOptions,
  KafkaSecurityProtocol,
} from '../config/kafka-security-options.js';
import { ErrorCodes, FraudError } from '../errors.js';
import { CENSOR } from '../log/redact.js';

/** The options with every file read: what the clients are configured from. */
export interface KafkaSecurity {
  protocol: KafkaSecurityProtocol;
  tls:
    | {
        ca: Buffer | undefined;
        caFile: string | undefined;
        cert: Buffer | undefined;
        certFile: string | undefined;
        key: Buffer | undefined;
        keyFile: string | undefined;
        hostnameCheck: boolean;
      }
    | undefined;
  sasl:
    | { mechanism: Exclude<KafkaSaslMechanism, 'OAUTHBEARER'>; username: string; password: string }
    | { mechanism: 'OAUTHBEARER'; tokenFile: string }
    | undefined;
}

export const PLAINTEXT: KafkaSecurity = { protocol: 'plaintext', tls: undefined, sasl: undefined };

const usesTls = (p: KafkaSecurityProtocol) => p === 'ssl' || p === 'sasl_ssl';
const usesSasl = (p: KafkaSecurityProtocol) => p === 'sasl_ssl' || p === 'sasl_plaintext';

/** Options that only make sense together; each problem says how to fix it. */
export function kafkaSecurityProblems(o: KafkaSecurityOptions): string[] {
  const problems: string[] = [];
  const p = o.kafkaSecurityProtocol;
  const tlsGiven = [o.kafkaTlsCa, o.kafkaTlsCert, o.kafkaTlsKey].some((v) => v !== undefined);
  const saslGiven = [
    o.kafkaSaslMechanism,
    o.kafkaSaslUsername,
    o.kafkaSaslPassword,
    o.kafkaSaslPasswordFile,
    o.kafkaSaslOauthTokenFile,
  ].some((v) => v !== undefined);
  if (tlsGiven && !usesTls(p))
    problems.push(
      `the --kafka-tls-* options need TLS: set --kafka-security-protocol ssl or sasl_ssl (FRAUDSCORE_KAFKA_SECURITY_PROTOCOL), not ${p}`,
    );
  if (saslGiven && !usesSasl(p))
    problems.push(
      `the --kafka-sasl-* options need SASL: set --kafka-security-protocol sasl_ssl (FRAUDSCORE_KAFKA_SECURITY_PROTOCOL), not ${p}`,
    );
  if ((o.kafkaTlsCert === undefined) !== (o.kafkaTlsKey === undefined))
    problems.push('give both --kafka-tls-cert and --kafka-tls-key, or neither');
  if (!usesSasl(p)) return problems;
  const m = o.kafkaSaslMechanism;
  if (m === undefined) {
    problems.push(
      `--kafka-security-protocol ${p} needs --kafka-sasl-mechanism (FRAUDSCORE_KAFKA_SASL_MECHANISM): PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER`,
    );
  } else if (m === 'OAUTHBEARER') {
    if (o.kafkaSaslOauthTokenFile === undefined)
      problems.push('--kafka-sasl-mechanism OAUTHBEARER needs --kafka-sasl-oauth-token-file');
    if (o.kafkaSaslUsername !== undefined || o.kafkaSaslPassword !== undefined || o.kafkaSaslPasswordFile !== undefined)
      problems.push('OAUTHBEARER takes a token (--kafka-sasl-oauth-token-file), not a user and password');
  } else {
    if (o.kafkaSaslUsername === undefined)
      problems.push(`--kafka-sasl-mechanism ${m} needs --kafka-sasl-username (FRAUDSCORE_KAFKA_SASL_USERNAME)`);
    if (o.kafkaSaslPassword !== undefined && o.kafkaSaslPasswordFile !== undefined)
      problems.push('give the Kafka SASL password once: --kafka-sasl-password or --kafka-sasl-password-file');
    else if (o.kafkaSaslPassword === undefined && o.kafkaSaslPasswordFile === undefined)
      problems.push(
        `--kafka-sasl-mechanism ${m} needs --kafka-sasl-password-file (FRAUDSCORE_KAFKA_SASL_PASSWORD_FILE) or --kafka-sasl-password`,
      );
    if (o.kafkaSaslOauthTokenFile !== undefined)
      problems.push(`--kafka-sasl-oauth-token-file is for OAUTHBEARER, not ${m}`);
  }
  return problems;
}

/** Reads the CA, certificate, key and secret files once, at start; a missing file is one line, exit 2. */
export async function loadKafkaSecurity(o: KafkaSecurityOptions): Promise<KafkaSecurity> {
  const p = o.kafkaSecurityProtocol;
  const read = async (flag: string, file: string | undefined): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `${flag} ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  };
  const secure: KafkaSecurity = { protocol: p, tls: undefined, sasl: undefined };
  if (usesTls(p)) {
    secure.tls = {
      ca: await read('--kafka-tls-ca', o.kafkaTlsCa),
      caFile: o.kafkaTlsCa,
      cert: await read('--kafka-tls-cert', o.kafkaTlsCert),
      certFile: o.kafkaTlsCert,
      key: await read('--kafka-tls-key', o.kafkaTlsKey),
      keyFile: o.kafkaTlsKey,
      hostnameCheck: o.kafkaTlsHostnameCheck,
    };
  }
  if (usesSasl(p) && o.kafkaSaslMechanism !== undefined) {
    if (o.kafkaSaslMechanism === 'OAUTHBEARER') {
      const tokenFile = o.kafkaSaslOauthTokenFile!;
      await readToken(tokenFile); // fails now, at start, rather than at the first refresh
      secure.sasl = { mechanism: 'OAUTHBEARER', tokenFile };
    } else {
      const fromFile = await read('--kafka-sasl-password-file', o.kafkaSaslPasswordFile);
      const password = fromFile !== undefined ? firstLine(fromFile) : o.kafkaSaslPassword!;
      if (password === '')
        throw new FraudError(
          ErrorCodes.INVALID_CONFIG,
          `--kafka-sasl-password-file ${o.kafkaSaslPasswordFile}: the file is empty`,
        );
      secure.sasl = { mechanism: o.kafkaSaslMechanism, username: o.kafkaSaslUsername!, password };
    }
  }
  return secure;
}

function firstLine(b: Buffer): string {
  return b.toString('utf8').split(/\r?\n/)[0];
}

interface BearerToken {
  value: string;
  principal: string;
  /** Expiry, epoch ms. */
  lifetimeMs: number;
}

/** The token file's JWT, with the principal (`sub`) and expiry (`exp`) librdkafka wants beside it. */
async function readToken(file: string): Promise<BearerToken> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new FraudError(
      ErrorCodes.INVALID_CONFIG,
      `--kafka-sasl-oauth-token-file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let claims: { sub?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(text.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    throw new FraudError(
      ErrorCodes.INVALID_CONFIG,
      `--kafka-sasl-oauth-token-file ${file}: not a JWT (header.payload.signature)`,
    );
  }
  const principal = typeof claims.sub === 'string' ? claims.sub : '';
  // No exp: refresh in an hour (librdkafka refreshes at 80% of the lifetime).
  const lifetimeMs = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + 3_600_000;
  return { value: text, principal, lifetimeMs };
}

/** kafkajs' `ssl` and `sasl` for this security (nothing for plaintext). */
export function kafkajsSecurity(s: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (s.tls !== undefined) out.ssl = tlsOptions(s.tls);
  const sasl = s.sasl;
  if (sasl?.mechanism === 'OAUTHBEARER') {
    out.sasl = {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => ({ value: (await readToken(sasl.tokenFile)).value }),
    };
  } else if (sasl !== undefined) {
    out.sasl = {
      mechanism: sasl.mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512',
      username: sasl.username,
      password: sasl.password,
    } as SASLOptions;
  }
  return out;
}

/** Node's TLS options: the chain is always verified; the name check can be turned off. */
function tlsOptions(t: NonNullable<KafkaSecurity['tls']>): tls.ConnectionOptions {
  return {
    rejectUnauthorized: true,
    ...(t.ca !== undefined ? { ca: [t.ca] } : {}),
    ...(t.cert !== undefined ? { cert: t.cert, key: t.key } : {}),
    ...(t.hostnameCheck ? {} : { checkServerIdentity: () => undefined }),
  };
}

/** librdkafka's properties for this security (plaintext: only security.protocol). */
export function librdkafkaSecurity(s: KafkaSecurity): Record<string, unknown> {
  const out: Record<string, unknown> = { 'security.protocol': s.protocol };
  if (s.tls !== undefined) {
    out['enable.ssl.certificate.verification'] = true;
    out['ssl.endpoint.identification.algorithm'] = s.tls.hostnameCheck ? 'https' : 'none';
    if (s.tls.caFile !== undefined) out['ssl.ca.location'] = s.tls.caFile;
    if (s.tls.certFile !== undefined) {
      out['ssl.certificate.location'] = s.tls.certFile;
      out['ssl.key.location'] = s.tls.keyFile;
    }
  }
  const sasl = s.sasl;
  if (sasl?.mechanism === 'OAUTHBEARER') {
    out['sasl.mechanisms'] = 'OAUTHBEARER';
    out.oauthbearer_token_refresh_cb = async () => {
      const t = await readToken(sasl.tokenFile);
      return { tokenValue: t.value, principal: t.principal, lifetime: t.lifetimeMs };
    };
  } else if (sasl !== undefined) {
    out['sasl.mechanisms'] = sasl.mechanism;
    out['sasl.username'] = sasl.username;
    out['sasl.password'] = sasl.password;
  }
  return out;
}

/** The secret values of this security: they must never reach a log line or an error. */
function secrets(s: KafkaSecurity): string[] {
  return s.sasl !== undefined && s.sasl.mechanism !== 'OAUTHBEARER' && s.sasl.password.length > 0
    ? [s.sasl.password]
    : [];
}

/** `text` with every secret of `s` replaced by the censor mark. */
export function scrubSecrets(text: string, s: KafkaSecurity): string {
  let out = text;
  for (const secret of secrets(s)) out = out.replaceAll(secret, CENSOR);
  return out;
}

/** Who the brokers will see: for the error lines and the ACL hints. */
export function principalOf(s: KafkaSecurity): string {
  if (s.sasl === undefined) return s.tls?.cert !== undefined ? 'the client certificate' : 'User:ANONYMOUS';
  if (s.sasl.mechanism === 'OAUTHBEARER') return "the token's subject";
  return `User:${s.sasl.username}`;
}

const TLS_TRUST =
  /certificate|self[- ]signed|unable to (get|verify)|CERT_|DEPTH_ZERO|altname|Hostname\/IP does not match|ERR_TLS/i;
const SASL_REFUSED = /authentication failed|invalid credentials|SASL authentication error|SaslAuthenticat/i;

/**
 * At start, before any client retries: a TLS handshake with the first broker that answers, with the
 * same CA, client certificate and name check. A broker whose certificate the CA does not vouch for
 * ends the run with one line now, instead of after --connect-timeout-ms of silent retries (kafkajs
 * and librdkafka both retry a failed handshake as if the broker were down). Unreachable brokers are
 * left to the caller, which reports them.
 */
export async function checkKafkaTls(brokers: readonly string[], s: KafkaSecurity, timeoutMs: number): Promise<void> {
  if (s.tls === undefined) return;
  const options = tlsOptions(s.tls);
  for (const broker of brokers) {
    const i = broker.lastIndexOf(':');
    const host = broker.slice(0, i);
    const port = Number(broker.slice(i + 1));
    const err = await new Promise<Error | undefined>((resolve) => {
      const socket = tls.connect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...options }, () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.setTimeout(Math.min(timeoutMs, 5000), () => {
        socket.destroy();
        resolve(new Error('timed out'));
      });
      socket.once('error', (e) => {
        socket.destroy();
        resolve(e);
      });
    });
    if (err === undefined) return;
    if (TLS_TRUST.test(`${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`)) {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `TLS to Kafka at ${broker} failed: ${err.message}; check --kafka-tls-ca (${s.tls.caFile ?? 'system CAs'})${s.tls.hostnameCheck ? ' and that the certificate names this host' : ''}`,
      );
    }
  }
}

/**
 * A start-up failure of a Kafka client as one clear line when it is a security cause the operator must
 * fix (credentials refused, TLS refused); undefined for anything else (left to the caller).
 */
export function securityFailure(err: unknown, s: KafkaSecurity, brokers: readonly string[]): FraudError | undefined {
  if (err instanceof FraudError) return undefined;
  const e = err as { name?: string; message?: string; type?: string; code?: unknown } | null;
  const message = scrubSecrets(String(e?.message ?? err), s);
  const where = `Kafka at ${brokers.join(',')}`;
  if (s.sasl !== undefined && (e?.name === 'KafkaJSSASLAuthenticationError' || SASL_REFUSED.test(message))) {
    const how =
      s.sasl.mechanism === 'OAUTHBEARER'
        ? 'check --kafka-sasl-oauth-token-file'
        : 'check --kafka-sasl-username and --kafka-sasl-password-file';
    return new FraudError(
      ErrorCodes.INVALID_CONFIG,
      `${where} refused the SASL ${s.sasl.mechanism} credentials of ${principalOf(s)} (${message}); ${how}`,
    );
  }
  if (s.tls !== undefined && TLS_TRUST.test(message)) {
    return new FraudError(ErrorCodes.INVALID_CONFIG, `TLS to ${where} failed: ${message}; check --kafka-tls-ca`);
  }
  return undefined;
}

const DENIED = /AUTHORIZATION_FAILED|not authorized|authorization failed/i;

/**
 * An operation the brokers' ACLs refused, as one line naming the principal and what to grant; undefined
 * when `err` is something else.
 */
export function aclFailure(err: unknown, s: KafkaSecurity): FraudError | undefined {
  if (err instanceof FraudError) return undefined;
  const e = err as { message?: string; type?: string } | null;
  const message = scrubSecrets(String(e?.message ?? err), s);
  if (!DENIED.test(`${e?.type ?? ''} ${message}`)) return undefined;
  const what = /GROUP/i.test(`${e?.type ?? ''} ${message}`)
    ? 'Read on the consumer group (prefix)'
    : /TRANSACTIONAL/i.test(`${e?.type ?? ''} ${message}`)
      ? 'Write on the transactional id (prefix)'
      : 'the topic ACLs';
  return new FraudError(
    ErrorCodes.INVALID_CONFIG,
    `Kafka refused ${principalOf(s)} an operation (${e?.type ?? message}${e?.type !== undefined ? `: ${message}` : ''}); grant it ${what}, see README "Security" for the exact ACLs`,
  );
}

/** For replay, rescore and backtest: their parsed options to a loaded security (a problem: one line, exit 2). */
export async function kafkaSecurityOf(o: KafkaSecurityOptions): Promise<KafkaSecurity> {
  const problems = kafkaSecurityProblems(o);
  if (problems.length > 0) throw new FraudError(ErrorCodes.INVALID_CONFIG, problems.join('; '));
  return loadKafkaSecurity(o);
}
