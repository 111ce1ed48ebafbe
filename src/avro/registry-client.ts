// A client for the few calls of the Confluent Schema Registry REST API that fraudscore makes
// (Confluent Schema Registry, Apicurio's /apis/ccompat/v7, Karapace, Redpanda answer the same).
// Plain node:http/https rather than a package: @confluentinc/schemaregistry brings the AWS, Azure
// and GCP KMS SDKs for field encryption we do not use, @kafkajs/confluent-schema-registry brings
// mappersmith, protobufjs and ajv and decodes asynchronously per record; we need four GETs/POSTs
// and a TLS CA, which node:https takes directly (fetch would need undici's Agent for a CA).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ErrorCodes, FraudError } from '../errors.js';
import { redactUrls } from '../log/redact.js';

export interface RegistryClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8081 or https://host/apis/ccompat/v7. */
  url: string;
  username?: string;
  password?: string;
  /** PEM file of the CA that signed the registry's certificate (default: the system's CAs). */
  caFile?: string;
  /** One request's time limit. */
  timeoutMs?: number;
}

/** The registry answered: it does not have that id, subject or version (HTTP 404). */
export class RegistryNotFound extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryNotFound';
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class RegistryClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  /** For messages: the URL without credentials. */
  readonly where: string;

  constructor(opts: RegistryClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    } catch {
      throw new FraudError(ErrorCodes.INVALID_CONFIG, `schema registry URL ${redactUrls(opts.url)} is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new FraudError(ErrorCodes.INVALID_CONFIG, `schema registry URL must be http(s)://, got ${base.protocol}`);
    }
    // Credentials in the URL work too, but never travel in the request line or a message.
    const username = opts.username ?? (base.username ? decodeURIComponent(base.username) : undefined);
    const password = opts.password ?? (base.password ? decodeURIComponent(base.password) : undefined);
    base.username = '';
    base.password = '';
    this.base = base;
    this.where = base.href;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.headers = { accept: CONTENT_TYPE, 'content-type': CONTENT_TYPE };
    if (username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    }
    if (base.protocol === 'https:') {
      let ca: Buffer | undefined;
      if (opts.caFile !== undefined) {
        try {
          ca = readFileSync(opts.caFile);
        } catch (err) {
          throw new FraudError(
            ErrorCodes.INVALID_CONFIG,
            `schema registry CA file ${opts.caFile} cannot be read: ${(err as Error).message}`,
          );
        }
      }
      this.agent = new https.Agent({ keepAlive: true, ca });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /** The schema text registered under a global id (GET /schemas/ids/{id}). */
  async schemaById(id: number): Promise<{ schema: string; schemaType: string }> {
    const body = (await this.request('GET', `schemas/ids/${id}`)) as { schema: string; schemaType?: string };
    return { schema: body.schema, schemaType: body.schemaType ?? 'AVRO' };
  }

  /** Registers a schema under a subject, or finds it already there; returns its global id. */
  async register(subject: string, schema: string): Promise<number> {
    const body = (await this.request('POST', `subjects/${encodeURIComponent(subject)}/versions`, { schema })) as {
      id: number;
    };
    return body.id;
  }

  /** The id of a schema already registered under a subject (POST /subjects/{subject}); 404 if not. */
  async lookup(subject: string, schema: string): Promise<number> {
    const body = (await this.request('POST', `subjects/${encodeURIComponent(subject)}`, { schema })) as {
      id: number;
    };
    return body.id;
  }

  /**
   * Whether a schema is compatible with the subject's latest version under the subject's rule;
   * true when the subject has no version yet (nothing to be incompatible with).
   */
  async isCompatible(subject: string, schema: string): Promise<boolean> {
    try {
      const body = (await this.request(
        'POST',
        `compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`,
        { schema },
      )) as { is_compatible: boolean };
      return body.is_compatible;
    } catch (err) {
      if (err instanceof RegistryNotFound) return true;
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * One request. 404 → RegistryNotFound (an answer); 401/403/409/422 → a FraudError that is final
   * (configuration or contract); anything else (refused, timeout, 5xx) → a FraudError with canRetry.
   */
  private request(method: 'GET' | 'POST', path: string, json?: unknown): Promise<unknown> {
    const url = new URL(path, this.base);
    const payload = json === undefined ? undefined : JSON.stringify(json);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers:
            payload === undefined ? this.headers : { ...this.headers, 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(this.unavailable(method, url, err.message, err)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            let body: { error_code?: number; message?: string } | undefined;
            try {
              body = text === '' ? undefined : JSON.parse(text);
            } catch {
              body = undefined;
            }
            if (status >= 200 && status < 300 && body !== undefined) return resolve(body);
            const said = body?.message ?? text.slice(0, 200);
            if (status === 404) return reject(new RegistryNotFound(body?.error_code ?? 404, said));
            if (status === 401 || status === 403) {
              return reject(
                new FraudError(
                  ErrorCodes.INVALID_CONFIG,
                  `schema registry ${this.where} refused the credentials (HTTP ${status}: ${said}); check the registry user and password`,
                ),
              );
            }
            if (status === 409 || status === 422) {
              return reject(
                new FraudError(
                  ErrorCodes.SCHEMA_INCOMPATIBLE,
                  `schema registry ${this.where} rejected ${method} ${url.pathname} (HTTP ${status}: ${said})`,
                ),
              );
            }
            reject(this.unavailable(method, url, `HTTP ${status}: ${said}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(this.failure(method, url, err)));
      req.end(payload);
    });
  }

  /** A certificate that is not trusted is a configuration error, not an outage: no retrying it. */
  private failure(method: string, url: URL, err: Error): FraudError {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER/.test(code)) {
      return new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `schema registry ${this.where} presented a certificate that is not trusted (${code}: ${err.message}); give its CA with --schema-registry-ca`,
        { cause: err },
      );
    }
    return this.unavailable(method, url, err.message, err);
  }

  private unavailable(method: string, url: URL, why: string, cause?: unknown): FraudError {
    return new FraudError(
      ErrorCodes.REGISTRY_UNAVAILABLE,
      `schema registry ${this.where} is unavailable (${method} ${url.pathname}: ${why})`,
      { cause, canRetry: true },
    );
  }
}
