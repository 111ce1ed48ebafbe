// docker-compose.yml must stay valid and agree with the native stack (scripts/stack.sh) and with the
// environment variables fraudscore reads. Needs only a Compose client, no Docker engine: Compose v2
// (`docker compose`) when installed, else Debian's Compose v1 (`docker-compose`).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RUN_OPTIONS } from '../../src/config/options.js';
import { loadTopicSpecs, packageRoot } from '../../src/kafka/admin.js';

const root = packageRoot();
const composeFile = join(root, 'docker-compose.yml');

function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  return r.status === 0;
}

const hasDocker = runs('docker', ['--version']);
const composeCli: string[] | null = runs('docker', ['compose', 'version'])
  ? ['docker', 'compose']
  : runs('docker-compose', ['version'])
    ? ['docker-compose']
    : null;

function compose(...args: string[]) {
  return composeWith([], ...args);
}

function composeWith(profiles: string[], ...args: string[]) {
  const [cmd, ...pre] = composeCli!;
  const profileArgs = profiles.flatMap((p) => ['--profile', p]);
  return spawnSync(cmd, [...pre, ...profileArgs, '-f', composeFile, ...args], { cwd: root, encoding: 'utf8' });
}

interface PortMapping {
  hostIp: string;
  published: string;
  target: string;
}

/** Compose v2 prints ports in the long syntax, v1 as "127.0.0.1:9092:9092/tcp" strings. */
function ports(service: { ports?: unknown[] }): PortMapping[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'string') {
      const parts = p.replace(/\/\w+$/, '').split(':');
      const target = parts.pop()!;
      const published = parts.pop() ?? '';
      return { hostIp: parts.join(':'), published, target };
    }
    const o = p as { host_ip?: string; published?: string | number; target: string | number };
    return { hostIp: o.host_ip ?? '', published: String(o.published ?? ''), target: String(o.target) };
  });
}

// biome-ignore lint/suspicious/noExplicitAny: parsed compose model
type ComposeModel = { services: Record<string, any> };

/** The normalized model; with `profiles`, also the services of those profiles (Compose v2 hides them otherwise). */
function composeModel(...profiles: string[]): ComposeModel {
  const compose = (...args: string[]) => composeWith(profiles, ...args);
  if (composeCli![0] === 'docker') {
    const r = compose('config', '--format', 'json');
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }
  // Compose v1 prints the normalized model as YAML only: convert with Python's yaml (a dependency of v1).
  const r = compose('config');
  expect(r.status, r.stderr).toBe(0);
  const j = spawnSync('python3', ['-c', 'import json,sys,yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: r.stdout,
    encoding: 'utf8',
  });
  expect(j.status, j.stderr).toBe(0);
  return JSON.parse(j.stdout);
}

describe.skipIf(!hasDocker || composeCli === null)('docker-compose.yml', () => {
  test('is valid for the Compose client', () => {
    const r = compose('config', '--quiet');
    expect(r.status, r.stderr).toBe(0);
    console.log(`[compose] ${composeCli!.join(' ')} config --quiet: valid`);
  });

  test('matches the native stack and the environment fraudscore reads', () => {
    const { services: all } = composeModel();
    // Services of a profile start only when asked for (Compose v1 lists them, v2 does not).
    const services = Object.fromEntries(Object.entries(all).filter(([, s]) => !s.profiles?.length));
    expect(Object.keys(services).sort()).toEqual(
      ['grafana', 'kafka', 'kafka-init', 'prometheus', 'redis', 'schema-registry', 'scorer'].sort(),
    );

    expect(services.kafka.image).toBe('apache/kafka:4.1.1');
    // Every pulled image is pinned to a release: no implicit :latest, no floating major tag.
    for (const [name, svc] of Object.entries(services) as [string, { image?: string; build?: unknown }][]) {
      if (svc.build !== undefined) continue;
      expect(svc.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+$/);
    }
    expect(ports(services.kafka)).toEqual(
      expect.arrayContaining([
        { hostIp: '127.0.0.1', published: '9092', target: '9092' },
        { hostIp: '127.0.0.1', published: '9093', target: '9093' },
      ]),
    );
    expect(String(services.kafka.environment.KAFKA_ADVERTISED_LISTENERS)).toContain('PLAINTEXT_HOST://localhost:9092');
    expect(String(services.kafka.environment.KAFKA_ADVERTISED_LISTENERS)).toContain('PLAINTEXT://kafka:29092');
    expect(String(services.kafka.environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE)).toBe('false');
    expect(ports(services.redis)).toContainEqual({ hostIp: '127.0.0.1', published: '6379', target: '6379' });

    const env = services.scorer.environment as Record<string, string | number>;
    // Every variable the scorer container gets is one fraudscore reads (a typo would be silently ignored).
    const known = new Set<string>(RUN_OPTIONS.map((o) => o.env));
    for (const name of Object.keys(env)) expect(known.has(name), `${name} is not a fraudscore option`).toBe(true);
    for (const name of [
      'KAFKA_BROKERS',
      'REDIS_URL',
      'FRAUDSCORE_MODEL_DIR',
      'FRAUDSCORE_HTTP_HOST',
      'FRAUDSCORE_HTTP_PORT',
    ]) {
      expect(Object.keys(env)).toContain(name);
    }
    expect(String(env.FRAUDSCORE_MODEL_DIR)).toMatch(/^\/app\/models\/[a-z]+$/);
    expect(env.KAFKA_BROKERS).toBe('kafka:29092');
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(['exactly-once', 'at-least-once']).toContain(env.FRAUDSCORE_DELIVERY);
    expect(String(env.FRAUDSCORE_HTTP_PORT)).toBe('9464');
    expect(ports(services.scorer)).toContainEqual({ hostIp: '127.0.0.1', published: '9464', target: '9464' });

    // The topic names the scorer is given are the ones deploy/topics.json creates.
    const topics = loadTopicSpecs()
      .map((t) => t.name)
      .sort();
    expect(
      [
        env.FRAUDSCORE_TRANSACTIONS_TOPIC,
        env.FRAUDSCORE_DECISIONS_TOPIC,
        env.FRAUDSCORE_DLQ_TOPIC,
        env.FRAUDSCORE_LABELS_TOPIC,
      ].sort(),
    ).toEqual(topics);
    expect(services['kafka-init'].command).toEqual(['node', 'scripts/create-topics.mjs']);
    console.log(
      `[compose] services ${Object.keys(services).sort().join(', ')}; kafka 127.0.0.1:9092, redis 127.0.0.1:6379`,
    );
  });

  test('the cluster profile: 3 KRaft nodes with RF 3 and min ISR 2, a Redis Cluster of 6 nodes with replicas', () => {
    const { services } = composeModel('cluster');
    const cluster = Object.keys(services)
      .filter((name) => services[name].profiles?.includes('cluster'))
      .sort();
    expect(cluster).toEqual(
      [
        'kafka-1',
        'kafka-2',
        'kafka-3',
        'kafka-init-cluster',
        ...[1, 2, 3, 4, 5, 6].map((i) => `redis-node-${i}`),
        'redis-cluster-init',
      ].sort(),
    );
    const voters = '1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093';
    for (const i of [1, 2, 3]) {
      const k = services[`kafka-${i}`];
      const env = k.environment as Record<string, string | number>;
      expect(k.image).toBe('apache/kafka:4.1.1');
      expect(String(env.KAFKA_NODE_ID)).toBe(String(i));
      expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(voters);
      for (const [name, value] of Object.entries({
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '3',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '2',
        KAFKA_MIN_INSYNC_REPLICAS: '2',
        KAFKA_DEFAULT_REPLICATION_FACTOR: '3',
      })) {
        expect(String(env[name]), `kafka-${i} ${name}`).toBe(value);
      }
      const host = String(19092 + 2 * (i - 1));
      expect(ports(k)).toEqual([{ hostIp: '127.0.0.1', published: host, target: '19092' }]);
      expect(String(env.KAFKA_ADVERTISED_LISTENERS)).toBe(
        `PLAINTEXT://kafka-${i}:29092,PLAINTEXT_HOST://localhost:${host}`,
      );
    }
    const init = services['kafka-init-cluster'];
    expect(init.command).toEqual(['node', 'scripts/create-topics.mjs']);
    expect(String(init.environment.FRAUDSCORE_TOPIC_REPLICATION_FACTOR)).toBe('3');
    expect(String(init.environment.FRAUDSCORE_TOPIC_MIN_INSYNC_REPLICAS)).toBe('2');

    const announced: string[] = [];
    for (const i of [1, 2, 3, 4, 5, 6]) {
      const node = services[`redis-node-${i}`];
      // Compose v2 normalizes a command string into a list, v1 keeps the string.
      const cmd: string[] = typeof node.command === 'string' ? node.command.split(/\s+/) : node.command;
      const arg = (flag: string) => cmd[cmd.indexOf(flag) + 1];
      const port = String(7000 + i - 1);
      expect(arg('--port')).toBe(port);
      expect(arg('--cluster-enabled')).toBe('yes');
      expect(ports(node)).toEqual([{ hostIp: '127.0.0.1', published: port, target: port }]);
      expect(node.networks.cluster.ipv4_address).toBe(arg('--cluster-announce-ip'));
      announced.push(`${arg('--cluster-announce-ip')}:${port}`);
    }
    const create = (services['redis-cluster-init'].command as string[]).join(' ');
    expect(create).toContain(`redis-cli --cluster create ${announced.join(' ')} --cluster-replicas 1 --cluster-yes`);
    console.log(`[compose] profile cluster: ${cluster.join(', ')}`);
  });
});

const hasPromtool = runs('promtool', ['--version']);

describe.skipIf(!hasPromtool)('Prometheus configuration', () => {
  test('promtool accepts prometheus.yml and its alert rules', () => {
    const r = spawnSync('promtool', ['check', 'config', join(root, 'deploy/prometheus/prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('1 rule files found');
    console.log('[prometheus] promtool check config: valid, rules loaded');
  });
});
