// The registry client and the decoder's registry path against recorded registry answers served over
// real HTTP (test/helpers/registry-replay.ts). No Kafka: see test/integration/schema-registry.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { frame } from '../../src/avro/framing.js';
import { RegistryClient, RegistryNotFound } from '../../src/avro/registry-client.js';
import { setUpSchemaRegistry } from '../../src/avro/registry-setup.js';
import { loadSchema } from '../../src/avro/schemas.js';
import { TransactionDecoder } from '../../src/avro/transaction-decoder.js';
import { RegistryWriterSchemas } from '../../src/avro/writer-schemas.js';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { closedPort, type RegistryReplay, startRegistryReplay } from '../helpers/registry-replay.js';

const V3_PATH = 'test/fixtures/schema-registry/transaction.v3.avsc';
const v3 = loadSchema(V3_PATH);
const v3Text = JSON.stringify(v3.schema());
const tx = {
  transaction_id: 'tx-1',
  event_time: Date.UTC(2026, 10, 1),
  customer_id: 'c-1',
  terminal_id: 't-1',
  amount_minor: 1000,
  currency: 'EUR',
  mcc: '5411',
  channel: 'POS',
  country: 'DE',
};

let replay: RegistryReplay | undefined;
const clients: RegistryClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await replay?.close();
  replay = undefined;
});

function client(url: string, extra: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}): RegistryClient {
  const c = new RegistryClient({ url, timeoutMs: 2000, ...extra });
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('RegistryClient (recorded Confluent API answers)', () => {
  it('reads a schema by id, registers, looks up and checks compatibility with the documented requests', async () => {
    replay = await startRegistryReplay();
    replay.routes.set('GET /schemas/ids/42', { answer: 'schemaById', schema: v3Text });
    replay.routes.set('POST /subjects/d-value/versions', { answer: 'registered' });
    replay.routes.set('POST /subjects/d-value', { answer: 'lookedUp', schema: '{}', subject: 'd-value' });
    replay.routes.set('POST /compatibility/subjects/t-value/versions/latest', { answer: 'compatible' });
    replay.routes.set('POST /compatibility/subjects/l-value/versions/latest', { answer: 'incompatible' });
    const c = client(replay.url, {
      username: 'scorer',
      password: 's3cret',
    });

    expect(await c.schemaById(42)).toEqual({ schema: v3Text, schemaType: 'AVRO' });
    expect(await c.register('d-value', '{"type":"string"}')).toBe(11);
    expect(await c.lookup('d-value', '{"type":"string"}')).toBe(11);
    expect(await c.isCompatible('t-value', '{}')).toBe(true);
    expect(await c.isCompatible('l-value', '{}')).toBe(false);
    // A subject with no version: nothing to be incompatible with.
    expect(await c.isCompatible('new-value', '{}')).toBe(true);

    const post = replay.seen.find((r) => r.path === '/subjects/d-value/versions')!;
    expect(post.method).toBe('POST');
    expect(post.body).toEqual({ schema: '{"type":"string"}' });
    expect(post.contentType).toBe('application/vnd.schemaregistry.v1+json');
    expect(post.authorization).toBe(`Basic ${Buffer.from('scorer:s3cret').toString('base64')}`);
  });

  it('keeps a base path (Apicurio: /apis/ccompat/v7) and takes credentials from the URL without sending them in it', async () => {
    replay = await startRegistryReplay();
    const u = new URL(replay.url);
    replay.routes.set('GET /apis/ccompat/v7/schemas/ids/1', { answer: 'schemaById', schema: '"string"' });
    const c = client(`http://app:pw@${u.host}/apis/ccompat/v7`);
    expect(c.where).not.toContain('pw');
    expect((await c.schemaById(1)).schema).toBe('"string"');
    expect(replay.seen[0].authorization).toBe(`Basic ${Buffer.from('app:pw').toString('base64')}`);
  });

  it('maps answers to outcomes: 404 → not found, 401 → config, 409/422 → incompatible, 500 and refused → retryable', async () => {
    replay = await startRegistryReplay();
    replay.routes.set('GET /schemas/ids/99', { answer: 'schemaNotFound' });
    replay.routes.set('GET /schemas/ids/7', { answer: 'unauthorized' });
    replay.routes.set('GET /schemas/ids/8', { answer: 'storeError' });
    replay.routes.set('POST /subjects/d-value/versions', { answer: 'conflict', subject: 'd-value' });
    replay.routes.set('POST /subjects/bad-value/versions', { answer: 'invalidSchema' });
    const c = client(replay.url);

    const notFound = await rejection(c.schemaById(99));
    expect(notFound).toBeInstanceOf(RegistryNotFound);
    expect((notFound as RegistryNotFound).errorCode).toBe(40403);
    expect((await rejection(c.schemaById(7))) as FraudError).toMatchObject({ code: ErrorCodes.INVALID_CONFIG });
    expect((await rejection(c.schemaById(8))) as FraudError).toMatchObject({
      code: ErrorCodes.REGISTRY_UNAVAILABLE,
      canRetry: true,
    });
    const conflict = (await rejection(c.register('d-value', '{}'))) as FraudError;
    expect(conflict.code).toBe(ErrorCodes.SCHEMA_INCOMPATIBLE);
    expect(conflict.message).toContain('incompatible with an earlier schema');
    expect((await rejection(c.register('bad-value', '{}'))) as FraudError).toMatchObject({
      code: ErrorCodes.SCHEMA_INCOMPATIBLE,
    });

    const down = client(`http://127.0.0.1:${await closedPort()}`);
    const refused = (await rejection(down.schemaById(1))) as FraudError;
    expect(refused).toMatchObject({ code: ErrorCodes.REGISTRY_UNAVAILABLE, canRetry: true });
    expect(refused.message).toMatch(/unavailable .*ECONNREFUSED/);
  });
});

describe('RegistryClient over https', () => {
  it('trusts the registry through --schema-registry-ca; without it, one clear configuration error', async () => {
    // A CA and a server certificate for 127.0.0.1, made with openssl for this test.
    const dir = mkdtempSync(join(tmpdir(), 'registry-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    );
    replay = await startRegistryReplay(0, {
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.pem')),
    });
    replay.routes.set('GET /schemas/ids/1', { answer: 'schemaById', schema: '"string"' });

    expect((await client(replay.url, { caFile: join(dir, 'ca.pem') }).schemaById(1)).schema).toBe('"string"');
    const untrusted = (await rejection(client(replay.url).schemaById(1))) as FraudError;
    expect(untrusted).toMatchObject({ code: ErrorCodes.INVALID_CONFIG, canRetry: false });
    expect(untrusted.message).toMatch(/certificate that is not trusted .*--schema-registry-ca/);
    expect(() => client(replay!.url, { caFile: join(dir, 'missing.pem') })).toThrow(/CA file .* cannot be read/);
  });
});

describe('TransactionDecoder with a registry', () => {
  function decoder(url: string, opts: Partial<ConstructorParameters<typeof TransactionDecoder>[0]> = {}) {
    const c = client(url);
    return new TransactionDecoder({ writerSchemas: new Map(), registry: new RegistryWriterSchemas(c), ...opts });
  }

  it('resolves a new writer id once (v3 with a new optional field), then decodes synchronously from the cache', async () => {
    replay = await startRegistryReplay();
    replay.routes.set('GET /schemas/ids/42', { answer: 'schemaById', schema: v3Text });
    const d = decoder(replay.url);
    const rec = { value: frame(42, v3.toBuffer({ ...tx, device_id: 'dev-9' })) };

    const pending = d.resolveIds([rec, rec]);
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    // The reader schema is fixed: the new field is dropped, the rest read through the resolver.
    expect(d.decode(rec.value, 's')).toEqual(tx);
    // Known now: nothing to wait for, nothing asked again.
    expect(d.resolveIds([rec])).toBeUndefined();
    expect(replay.seen.filter((r) => r.path === '/schemas/ids/42')).toHaveLength(1);
  });

  it('dead-letters an id the registry does not have, and does not ask again within the retry interval', async () => {
    replay = await startRegistryReplay();
    replay.routes.set('GET /schemas/ids/99', { answer: 'schemaNotFound' });
    replay.routes.set('GET /schemas/ids/43', {
      answer: 'schemaById',
      schema: '{"type":"record","name":"Other","fields":[]}',
    });
    const d = decoder(replay.url);
    const unknown = frame(99, v3.toBuffer({ ...tx, device_id: null }));
    const unreadable = frame(43, Buffer.alloc(0));
    await d.resolveIds([{ value: unknown }, { value: unreadable }]);
    for (const [value, code, text] of [
      [unknown, ErrorCodes.UNKNOWN_SCHEMA_ID, /schema id 99 is not in the schema registry/],
      [unreadable, ErrorCodes.UNDECODABLE_RECORD, /writer schema id 43 cannot be read as a transaction/],
    ] as const) {
      let err: unknown;
      try {
        d.decode(value, 's');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FraudError);
      expect((err as FraudError).code).toBe(code);
      expect((err as FraudError).message).toMatch(text);
    }
    expect(d.resolveIds([{ value: unknown }, { value: unreadable }])).toBeUndefined();
    expect(replay.seen).toHaveLength(2);
  });

  it('a registry that stays down: resolveIds retries within the bound, then rejects with FRAUD_REGISTRY_UNAVAILABLE', async () => {
    const d = decoder(`http://127.0.0.1:${await closedPort()}`, { registryUnavailableMs: 400 });
    const rec = { value: frame(42, v3.toBuffer({ ...tx, device_id: null })) };
    const t0 = Date.now();
    const err = (await rejection(d.resolveIds([rec])!)) as FraudError;
    expect(err.code).toBe(ErrorCodes.REGISTRY_UNAVAILABLE);
    expect(err.message).toMatch(/gave up on writer schema id 42 after 400 ms \(the records were not dead-lettered\)/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    // Nothing was cached as unknown: the next batch asks again.
    const again = d.resolveIds([rec]);
    expect(again).toBeInstanceOf(Promise);
    await again!.catch(() => {});
  });

  it('a registry that comes back within the bound: the batch waits, then decodes', async () => {
    const port = await closedPort();
    const d = decoder(`http://127.0.0.1:${port}`, { registryUnavailableMs: 10_000 });
    const rec = { value: frame(42, v3.toBuffer({ ...tx, device_id: null })) };
    const pending = d.resolveIds([rec])!;
    await new Promise((r) => setTimeout(r, 300));
    replay = await startRegistryReplay(port);
    replay.routes.set('GET /schemas/ids/42', { answer: 'schemaById', schema: v3Text });
    await pending;
    expect(d.decode(rec.value, 's')).toEqual(tx);
  });
});

describe('setUpSchemaRegistry', () => {
  const topics = { transactions: 't', decisions: 'd', labels: 'l' };
  const opts = (url: string) => ({ url, autoRegister: true, unavailableMs: 300 });

  it('registers the decision schema under <topic>-value, checks the readers, and reads the password from a file', async () => {
    replay = await startRegistryReplay();
    replay.routes.set('POST /subjects/d-value/versions', { answer: 'registered' });
    replay.routes.set('POST /compatibility/subjects/t-value/versions/latest', { answer: 'compatible' });
    const dir = mkdtempSync(join(tmpdir(), 'registry-'));
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    const setup = await setUpSchemaRegistry(
      { ...opts(replay.url), username: 'u', passwordFile: join(dir, 'pw') },
      topics,
    );
    clients.push(setup.client);
    expect(setup.decisionSchemaId).toBe(11);
    const registered = replay.seen.find((r) => r.path === '/subjects/d-value/versions')!;
    expect(JSON.parse((registered.body as { schema: string }).schema).name).toBe('Decision');
    expect(registered.authorization).toBe(`Basic ${Buffer.from('u:from-file').toString('base64')}`);
    // labels-value has no version (the replay's plain 404): compatible by definition.
    expect(replay.seen.map((r) => r.path)).toContain('/compatibility/subjects/l-value/versions/latest');
  });

  it('fails with one clear error: incompatible reader, unregistered decision schema without auto-registration, registry down', async () => {
    replay = await startRegistryReplay();
    replay.routes.set('POST /subjects/d-value/versions', { answer: 'registered' });
    replay.routes.set('POST /compatibility/subjects/t-value/versions/latest', { answer: 'incompatible' });
    const incompatible = (await rejection(setUpSchemaRegistry(opts(replay.url), topics))) as FraudError;
    expect(incompatible.code).toBe(ErrorCodes.SCHEMA_INCOMPATIBLE);
    expect(incompatible.message).toMatch(/schemas\/transaction\.avsc cannot read what subject t-value/);

    const unregistered = (await rejection(
      setUpSchemaRegistry({ ...opts(replay.url), autoRegister: false }, topics),
    )) as FraudError;
    expect(unregistered.code).toBe(ErrorCodes.SCHEMA_INCOMPATIBLE);
    expect(unregistered.message).toMatch(/not registered under subject d-value/);

    const down = (await rejection(
      setUpSchemaRegistry(opts(`http://127.0.0.1:${await closedPort()}`), topics),
    )) as FraudError;
    expect(down.code).toBe(ErrorCodes.REGISTRY_UNAVAILABLE);
    expect(down.message).toMatch(/gave up after 300 ms/);
  });
});
