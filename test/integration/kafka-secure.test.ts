// The scorer on a secure stack of this file's own (scripts/stack.sh up --kafka-secure --redis-tls, in a
// temporary folder on free ports): Kafka over SASL_SSL (SCRAM-SHA-512 and a client certificate) with
// ACLs on and only the scorer's least-privilege ACLs granted, Redis over TLS as the feature store's ACL
// user, writer schemas resolved from a schema registry (its recorded answers over HTTP: no registry
// server runs here, see scripts/registry/README.md). One stack start for every case.
//
// Cases: both clients score a stream end to end; a wrong password, a foreign CA, a missing group ACL
// and a missing transactional-id ACL (both clients) each end the process with one line and exit 2; no
// secret reaches the output, /readyz or /metrics.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Admin, Kafka as KafkaClient } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame } from '../../src/avro/framing.js';
import { decisionType, loadSchema } from '../../src/avro/schemas.js';
import kafkajs from '../../src/kafka/kafkajs.js';
import { fromRoot } from '../../src/package-root.js';
import { quickStream } from '../../src/simulate/quick-stream.js';
import type { Decision } from '../../src/types.js';
import { readTopic } from '../helpers/kafka-io.js';
import { freeBase } from '../helpers/ports.js';
import { type RegistryReplay, startRegistryReplay } from '../helpers/registry-replay.js';
import { startCli } from '../helpers/scorer-process.js';
import { randomName } from '../helpers/stack.js';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

const v3 = loadSchema('test/fixtures/schema-registry/transaction.v3.avsc');
const V3_ID = 42;
const REGISTERED_ID = 11; // the recorded "registered" answer, for any subject
const USER = 'fraudscore';

/** Kafka PLAINTEXT base, controller base+1, SASL_SSL base+2, Redis base+3, TLS Redis base+4. */
const secureStackBase = () =>
  freeBase(
    Array.from({ length: 10 }, (_, i) => 25092 + 20 * i),
    [0, 1, 2, 3, 4],
  );

function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

interface Topics {
  transactions: string;
  decisions: string;
  dlq: string;
  labels: string;
  groupId: string;
  clientId: string;
}

describe('scorer on SASL_SSL Kafka with ACLs and TLS Redis (own secure stack)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fraudscore-secure-'));
  const secure = join(dir, 'secure');
  let stackEnv: Record<string, string>;
  let base: number;
  let kafka: KafkaClient;
  let admin: Admin;
  let kafkaEnv: Record<string, string>;
  let redisEnv: Record<string, string>;
  let replay: RegistryReplay;
  let password: string;
  const secrets: string[] = [];

  const sh = (...args: string[]) => {
    const r = spawnSync('bash', [fromRoot('scripts/stack.sh'), ...args], { env: stackEnv, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`stack.sh ${args.join(' ')} failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  };

  beforeAll(async () => {
    base = await secureStackBase();
    stackEnv = {
      ...(process.env as Record<string, string>),
      FRAUDSCORE_STACK_DIR: dir,
      FRAUDSCORE_KAFKA_PORT: String(base),
      FRAUDSCORE_KAFKA_CONTROLLER_PORT: String(base + 1),
      FRAUDSCORE_KAFKA_SECURE_PORT: String(base + 2),
      FRAUDSCORE_REDIS_PORT: String(base + 3),
      FRAUDSCORE_REDIS_TLS_PORT: String(base + 4),
    };
    const t0 = Date.now();
    // Asynchronously, so that vitest's own timers keep running while the JVMs start.
    await new Promise<void>((resolve, reject) => {
      const child = spawn('bash', [fromRoot('scripts/stack.sh'), 'up', '--kafka-secure', '--redis-tls'], {
        env: stackEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`stack.sh up failed (${code}):\n${out.slice(-3000)}`)),
      );
    });
    console.log(`secure stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const k = envFile(join(secure, 'kafka.env'));
    const r = envFile(join(secure, 'redis.env'));
    password = readFileSync(k.STACK_KAFKA_PASSWORD_FILE, 'utf8').trim();
    secrets.push(
      password,
      readFileSync(k.STACK_KAFKA_ADMIN_PASSWORD_FILE, 'utf8').trim(),
      readFileSync(r.STACK_REDIS_PASSWORD_FILE, 'utf8').trim(),
    );
    kafkaEnv = {
      KAFKA_BROKERS: k.STACK_KAFKA_SASL_SSL_BROKERS,
      FRAUDSCORE_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      FRAUDSCORE_KAFKA_TLS_CA: k.STACK_TLS_CA_FILE,
      FRAUDSCORE_KAFKA_TLS_CERT: k.STACK_TLS_CLIENT_CERT_FILE,
      FRAUDSCORE_KAFKA_TLS_KEY: k.STACK_TLS_CLIENT_KEY_FILE,
      FRAUDSCORE_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      FRAUDSCORE_KAFKA_SASL_USERNAME: k.STACK_KAFKA_USERNAME,
      FRAUDSCORE_KAFKA_SASL_PASSWORD_FILE: k.STACK_KAFKA_PASSWORD_FILE,
    };
    redisEnv = {
      REDIS_URL: r.STACK_REDIS_TLS_URL,
      REDIS_PASSWORD_FILE: r.STACK_REDIS_PASSWORD_FILE,
      REDIS_TLS_CA: r.STACK_TLS_CA_FILE,
      // The ACL user may touch keys under its prefix only.
      FRAUDSCORE_REDIS_PREFIX: `${r.STACK_REDIS_KEY_PREFIX}${randomName('sec')}:`,
    };
    // The tooling's side: PLAINTEXT on loopback, whose principal is a super user.
    kafka = new Kafka({
      clientId: 'secure-test',
      brokers: [k.STACK_KAFKA_PLAINTEXT_BROKERS],
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
    replay = await startRegistryReplay();
    await warmCoordinators();
  }, 240_000);

  /**
   * A fresh cluster creates its offsets and transaction-state topics on first use, and some kafkajs
   * paths (replay's checkpoint) do not retry NOT_COORDINATOR while those load: use both once first.
   */
  async function warmCoordinators(): Promise<void> {
    const topic = randomName('warm');
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const producer = kafka.producer({
        transactionalId: randomName('warm'),
        idempotent: true,
        maxInFlightRequests: 1,
      });
      try {
        await producer.connect();
        const tx = await producer.transaction();
        await tx.send({ topic, messages: [{ value: 'x' }] });
        await tx.sendOffsets({
          consumerGroupId: randomName('warm'),
          topics: [{ topic, partitions: [{ partition: 0, offset: '1' }] }],
        });
        await tx.commit();
        await admin.fetchOffsets({ groupId: randomName('warm'), topics: [topic] });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        await producer.disconnect();
      }
    }
  }

  afterAll(async () => {
    await replay?.close();
    await admin?.disconnect();
    try {
      sh('down');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  /** Fresh topics with the scorer's least-privilege ACLs (less `without`), and the registry's routes. */
  async function setUp(name: string, without: ('group' | 'txn')[] = []): Promise<Topics> {
    const b = randomName(name);
    const t: Topics = {
      transactions: `${b}.transactions`,
      decisions: `${b}.decisions`,
      dlq: `${b}.dlq`,
      labels: `${b}.labels`,
      groupId: `${b}.group`,
      clientId: `${b}.client`,
    };
    await admin.createTopics({
      waitForLeaders: true,
      topics: [t.transactions, t.decisions, t.dlq, t.labels].map((topic) => ({
        topic,
        numPartitions: 2,
        replicationFactor: 1,
      })),
    });
    const allow = (
      resourceType: number,
      resourceName: string,
      operation: number,
      pattern = ResourcePatternTypes.LITERAL,
    ) => ({
      resourceType,
      resourceName,
      resourcePatternType: pattern,
      principal: `User:${USER}`,
      host: '*',
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    });
    const acl = [
      allow(AclResourceTypes.TOPIC, t.transactions, AclOperationTypes.READ),
      allow(AclResourceTypes.TOPIC, t.labels, AclOperationTypes.READ),
      allow(AclResourceTypes.TOPIC, t.decisions, AclOperationTypes.WRITE),
      allow(AclResourceTypes.TOPIC, t.dlq, AclOperationTypes.WRITE),
    ];
    if (!without.includes('group'))
      acl.push(allow(AclResourceTypes.GROUP, t.groupId, AclOperationTypes.READ, ResourcePatternTypes.PREFIXED));
    if (!without.includes('txn'))
      acl.push(
        allow(AclResourceTypes.TRANSACTIONAL_ID, t.clientId, AclOperationTypes.WRITE, ResourcePatternTypes.PREFIXED),
      );
    await admin.createAcls({ acl });
    // The broker's authorizer takes the new ACLs from the metadata log a moment after createAcls returns;
    // it answers describeAcls from the same state, so wait until it lists them all.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { resources } = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal: `User:${USER}`,
        host: '*',
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      const names = new Set(resources.map((r) => r.resourceName));
      if (acl.every((a) => names.has(a.resourceName))) break;
      if (Date.now() > deadline) throw new Error('the ACLs did not show in describeAcls within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    replay.routes.set(`POST /subjects/${t.decisions}-value/versions`, { answer: 'registered' });
    replay.routes.set(`POST /compatibility/subjects/${t.transactions}-value/versions/latest`, {
      answer: 'compatible',
    });
    return t;
  }

  function scorerEnv(t: Topics, extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...kafkaEnv,
      ...redisEnv,
      SCHEMA_REGISTRY_URL: replay.url,
      FRAUDSCORE_TRANSACTIONS_TOPIC: t.transactions,
      FRAUDSCORE_DECISIONS_TOPIC: t.decisions,
      FRAUDSCORE_DLQ_TOPIC: t.dlq,
      FRAUDSCORE_LABELS_TOPIC: t.labels,
      FRAUDSCORE_GROUP_ID: t.groupId,
      FRAUDSCORE_CLIENT_ID: t.clientId,
      FRAUDSCORE_SESSION_TIMEOUT_MS: '6000',
      FRAUDSCORE_HTTP_PORT: '0',
      FRAUDSCORE_PROGRESS: 'off',
      ...extra,
    };
  }

  const noSecret = (text: string) => {
    for (const s of secrets) expect(text).not.toContain(s);
  };

  it.each(['confluent', 'kafkajs'] as const)(
    '%s client: scores a stream over SASL_SSL with writer schemas from the registry, TLS Redis as the ACL user',
    async (client) => {
      const t = await setUp(`sec-${client}`);
      const txs = [...quickStream({ count: 300, seed: client === 'confluent' ? 31 : 32 })];
      replay.routes.set(`GET /schemas/ids/${V3_ID}`, { answer: 'schemaById', schema: JSON.stringify(v3.schema()) });
      if (client === 'confluent') {
        // Produced by `fraudscore replay` over SASL_SSL (as the super user: replay is not the scorer), which
        // registers the transaction schema and frames every record with the id the registry gave.
        const file = join(dir, `${t.transactions}.ndjson`);
        writeFileSync(file, txs.map((x) => JSON.stringify(x)).join('\n'));
        const k = envFile(join(secure, 'kafka.env'));
        replay.routes.set(`POST /subjects/${t.transactions}-value/versions`, { answer: 'registered' });
        replay.routes.set(`GET /schemas/ids/${REGISTERED_ID}`, {
          answer: 'schemaById',
          schema: JSON.stringify(JSON.parse(readFileSync(fromRoot('schemas/transaction.avsc'), 'utf8'))),
        });
        const r = startCli(
          'replay',
          ['--from', file, '--topic', t.transactions, '--schema-registry', replay.url, '--progress', 'off'],
          {
            ...kafkaEnv,
            FRAUDSCORE_KAFKA_SASL_USERNAME: k.STACK_KAFKA_ADMIN_USERNAME,
            FRAUDSCORE_KAFKA_SASL_PASSWORD_FILE: k.STACK_KAFKA_ADMIN_PASSWORD_FILE,
          },
        );
        const { code } = await r.exited;
        expect(code, r.output()).toBe(0);
        noSecret(r.output());
      } else {
        // A producer that registered a newer writer schema (v3, id 42) than the scorer's reader schema.
        const producer = kafka.producer({ idempotent: true });
        await producer.connect();
        await producer.send({
          topic: t.transactions,
          acks: -1,
          messages: txs.map((tx) => ({
            key: tx.customer_id,
            value: frame(V3_ID, v3.toBuffer({ ...tx, device_id: `dev-${tx.customer_id}` })),
          })),
        });
        await producer.disconnect();
      }
      // Both SCRAM mechanisms the broker offers, one per client.
      const mechanism = client === 'confluent' ? 'SCRAM-SHA-512' : 'SCRAM-SHA-256';
      const scorer = startCli(
        'run',
        [],
        scorerEnv(t, { FRAUDSCORE_KAFKA_CLIENT: client, FRAUDSCORE_KAFKA_SASL_MECHANISM: mechanism }),
      );
      try {
        await scorer.waitFor(/"msg":"serving"/, 60_000);
        const url = /"ready":"(http:\/\/[^"]+)\/readyz"/.exec(scorer.output())![1];
        const out = await readTopic(kafka, t.decisions, txs.length, { quietMs: 500 });
        expect(out).toHaveLength(txs.length);
        const decisionAvro = decisionType();
        const ids = new Set<string>();
        for (const m of out) {
          expect(m.value!.readUInt32BE(1)).toBe(REGISTERED_ID);
          const d = decisionAvro.fromBuffer(m.value!.subarray(5)) as Decision;
          expect(d.degraded).toBe(false);
          ids.add(d.transaction_id);
        }
        expect(ids).toEqual(new Set(txs.map((x) => x.transaction_id)));
        // Readiness and metrics answer, and carry no secret.
        let ready = await fetch(`${url}/readyz`);
        for (let i = 0; i < 40 && ready.status !== 200; i++) {
          await new Promise((r) => setTimeout(r, 250));
          ready = await fetch(`${url}/readyz`);
        }
        const readyBody = await ready.text();
        expect(ready.status, readyBody).toBe(200);
        noSecret(readyBody);
        noSecret(await (await fetch(`${url}/metrics`)).text());
      } finally {
        scorer.child.kill('SIGTERM');
      }
      const { code } = await scorer.exited;
      expect(code, scorer.output()).toBe(0);
      noSecret(scorer.output());
      expect(scorer.output()).toContain(
        `"security":"sasl_ssl","saslMechanism":"${mechanism}","principal":"User:fraudscore"`,
      );
      // The feature store wrote under its prefix over TLS; Redis refused none of its commands.
      const r = envFile(join(secure, 'redis.env'));
      const redis = new Redis({
        host: '127.0.0.1',
        port: base + 4,
        password: readFileSync(r.STACK_REDIS_ADMIN_PASSWORD_FILE, 'utf8').trim(),
        tls: { ca: readFileSync(r.STACK_TLS_CA_FILE) },
      });
      try {
        expect((await redis.keys(`${redisEnv.FRAUDSCORE_REDIS_PREFIX}*`)).length).toBeGreaterThan(10);
        expect(((await redis.acl('LOG')) as unknown[]).length).toBe(0);
      } finally {
        redis.disconnect();
      }
    },
    120_000,
  );

  it('a wrong password, a foreign CA, a missing group ACL and a missing transactional-id ACL: one line each, exit 2', async () => {
    const foreign = join(dir, 'foreign-ca');
    expect(spawnSync('bash', [fromRoot('scripts/stack/certs.sh'), foreign]).status).toBe(0);
    const k = envFile(join(secure, 'kafka.env'));
    const [wrong, ok, noGroup, noTxn, noTxnKafkajs] = [
      await setUp('sec-pw'),
      await setUp('sec-ca'),
      await setUp('sec-group', ['group']),
      await setUp('sec-txn', ['txn']),
      await setUp('sec-txnjs', ['txn']),
    ];
    const run = async (env: Record<string, string>) => {
      const p = startCli('run', [], env);
      const { code } = await p.exited;
      return { code, out: p.output() };
    };
    const started = Date.now();
    const [wrongPw, wrongCa, missingGroup, missingTxn, missingTxnKafkajs] = await Promise.all([
      // The super user's password for the scorer's user.
      run(scorerEnv(wrong, { FRAUDSCORE_KAFKA_SASL_PASSWORD_FILE: k.STACK_KAFKA_ADMIN_PASSWORD_FILE })),
      run(scorerEnv(ok, { FRAUDSCORE_KAFKA_TLS_CA: join(foreign, 'ca.pem') })),
      run(scorerEnv(noGroup)),
      run(scorerEnv(noTxn)),
      run(scorerEnv(noTxnKafkajs, { FRAUDSCORE_KAFKA_CLIENT: 'kafkajs' })),
    ]);
    const oneLine = (r: { code: number | null; out: string }, re: RegExp) => {
      expect(r.code, r.out).toBe(2);
      // One line for the operator; JSON log lines (a client's own warning) may come before or after it.
      const lines = r.out
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('{'));
      expect(lines, r.out).toHaveLength(1);
      expect(lines[0]).toMatch(re);
      expect(lines[0]).toMatch(/\[FRAUD_INVALID_CONFIG\]$/);
      expect(r.out).not.toMatch(/\n\s+at /);
      noSecret(r.out);
    };
    oneLine(
      wrongPw,
      /^fraudscore run: Kafka at 127\.0\.0\.1:\d+ refused the SASL SCRAM-SHA-512 credentials of User:fraudscore \(.*invalid credentials.*\); check --kafka-sasl-username and --kafka-sasl-password-file/,
    );
    // Refused at the handshake, before any client retries: one line and nothing else.
    oneLine(
      wrongCa,
      /^fraudscore run: TLS to Kafka at 127\.0\.0\.1:\d+ failed: self[- ]signed certificate in certificate chain; check --kafka-tls-ca/,
    );
    expect(wrongCa.out.trim().split('\n')).toHaveLength(1);
    oneLine(
      missingGroup,
      /^fraudscore run: Kafka refused User:fraudscore the consumer group sec-group-\S+\.group \(.*Group authorization failed\); grant it Read on the group/,
    );
    oneLine(
      missingTxn,
      /^fraudscore run: Kafka refused User:fraudscore an operation \(.*Transactional Id authorization failed.*\); grant it Write on the transactional id/,
    );
    // kafkajs hides the refusal behind "Failed to find group coordinator": the line names the transactional id.
    oneLine(
      missingTxnKafkajs,
      /^fraudscore run: Kafka named no transaction coordinator for the transactional id sec-txnjs-\S+\.tx .*grant User:fraudscore Write on the transactional id/,
    );
    expect(Date.now() - started).toBeLessThan(40_000);
  }, 120_000);
});
