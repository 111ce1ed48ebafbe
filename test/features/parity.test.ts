// Both stores must give bit-identical vectors for the same stream: every feature of every record.

import { describe, it } from 'vitest';
import { expectRedisParity } from './redis-parity.js';

describe('memory and Redis feature stores', () => {
  it('give bit-identical features for a seeded stream with labels, duplicates and late events', async () => {
    await expectRedisParity();
  });
});
