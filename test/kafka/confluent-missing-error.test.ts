// @confluentinc/kafka-javascript maps COORDINATOR_NOT_AVAILABLE to an error class it does not define;
// loadConfluent() defines it, so the mapping gives an error instead of throwing a TypeError.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadConfluent } from '../../src/kafka/confluent-client.js';

describe('the confluent client library', () => {
  it('maps COORDINATOR_NOT_AVAILABLE to a KafkaJS error once loaded', () => {
    loadConfluent();
    const require = createRequire(import.meta.url);
    const common = require('@confluentinc/kafka-javascript/lib/kafkajs/_common.js');
    const errors = require('@confluentinc/kafka-javascript/lib/kafkajs/_error.js');
    const err = common.createKafkaJsErrorFromLibRdKafkaError(
      Object.assign(new Error('Coordinator not available'), {
        code: errors.ErrorCodes.ERR_GROUP_COORDINATOR_NOT_AVAILABLE,
      }),
    );
    expect(err).toBeInstanceOf(errors.KafkaJSError);
    expect(err.name).toBe('KafkaJSGroupCoordinatorNotFound');
  });
});
