// Real traffic against the real Redis (started by scripts/stack.sh or docker compose): no mocks.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomName, redisUrl } from '../helpers/stack.js';

describe('Redis', () => {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  const prefix = `${randomName('fraudscore-test')}:`;

  beforeAll(async () => {
    await redis.connect();
  });

  afterAll(async () => {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    const [, left] = await redis.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000);
    expect(left).toEqual([]);
    console.log(`[redis] removed ${deleted} test keys under ${prefix}*`);
    redis.disconnect();
  });

  test('reports its version', async () => {
    const info = await redis.info('server');
    const version = /^redis_version:(\S+)/m.exec(info)?.[1];
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    console.log(`[redis] talking to Redis ${version} at ${redisUrl()}`);
  });

  test('SET/GET', async () => {
    await redis.set(`${prefix}str`, 'hello', 'EX', 60);
    expect(await redis.get(`${prefix}str`)).toBe('hello');
  });

  test('ZADD/ZRANGEBYSCORE (the shape of a time window)', async () => {
    const key = `${prefix}window`;
    await redis.zadd(key, 1000, 'tx-a', 2000, 'tx-b', 3000, 'tx-c', 4000, 'tx-d');
    expect(await redis.zrangebyscore(key, '(1000', 3000)).toEqual(['tx-b', 'tx-c']);
    expect(await redis.zcard(key)).toBe(4);
  });

  test('EVAL runs a Lua script atomically', async () => {
    const script = `
      local n = redis.call('INCRBY', KEYS[1], ARGV[1])
      redis.call('HSET', KEYS[2], 'last', ARGV[1])
      return n`;
    const counter = `${prefix}counter`;
    const hash = `${prefix}hash`;
    expect(await redis.eval(script, 2, counter, hash, 5)).toBe(5);
    expect(await redis.eval(script, 2, counter, hash, 7)).toBe(12);
    expect(await redis.hget(hash, 'last')).toBe('7');
    console.log('[redis] SET/GET, ZADD/ZRANGEBYSCORE and EVAL answered by the server');
  });
});
