import { describe, expect, it } from 'vitest';
import { kafkaClient } from '../../src/kafka/client.js';
import { KafkaSource } from '../../src/kafka/kafka-source.js';

describe('KafkaSource backpressure', () => {
  it('pauses the topic above max in-flight and resumes below half of it, once each', () => {
    // No connection is made: pause/resume are observed on the consumer object.
    const source = new KafkaSource(kafkaClient(['127.0.0.1:1'], 'bp-test'), {
      topic: 'tx',
      groupId: 'g',
      partitionsConcurrently: 4,
      maxInFlight: 1000,
      readCommitted: true,
    });
    const calls: string[] = [];
    source.consumer.pause = (topics) => void calls.push(`pause ${topics.map((t) => t.topic).join()}`);
    source.consumer.resume = (topics) => void calls.push(`resume ${topics.map((t) => t.topic).join()}`);
    for (const inFlight of [10, 900, 1001, 1500, 2000, 800, 501, 499, 300, 1200]) source.backpressure(inFlight);
    expect(calls).toEqual(['pause tx', 'resume tx', 'pause tx']);
  });
});
