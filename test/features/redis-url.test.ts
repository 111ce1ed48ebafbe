// The Redis URL may carry a password: an error about Redis names the server but never the secret.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, FraudError } from '../../src/errors.js';
import { RedisFeatureStore } from '../../src/features/redis-store.js';

describe('RedisFeatureStore URL handling', () => {
  it('redacts the password of the URL in the error when Redis does not answer', async () => {
    const err = await RedisFeatureStore.connect({
      url: 'redis://scorer:s3cret-pw@127.0.0.1:1/0',
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FraudError);
    expect((err as FraudError).code).toBe(ErrorCodes.STACK_UNAVAILABLE);
    expect((err as FraudError).message).toContain('redis://scorer:***@127.0.0.1:1');
    expect((err as FraudError).message).not.toContain('s3cret-pw');
  });
});
