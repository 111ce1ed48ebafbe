import type { Consumer, Kafka, Producer } from 'kafkajs';
import { unframe } from '../avro/framing.js';
import { labelType } from '../avro/schemas.js';
import { ErrorCodes } from '../errors.js';
import type { FeatureStore } from '../features/feature-store.js';
import { logger } from '../log/logger.js';
import type { ProgressFeed } from '../monitoring/consumer-progress.js';
import { feedProgressFromKafkajs } from '../monitoring/kafkajs-progress.js';
import type { Metrics } from '../monitoring/metrics.js';
import type { Label } from '../types.js';
import { deadLetterMessage } from './dead-letter.js';

const log = logger('labels');

/**
 * Fraud reports from the labels topic into the feature store's terminal windows. Applying a label is
 * idempotent, so at-least-once is exact here; undecodable labels go to the dead-letter topic.
 */
export class LabelConsumer {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly type = labelType();

  constructor(
    kafka: Kafka,
    private readonly opts: { topic: string; groupId: string; dlqTopic: string },
    private readonly store: FeatureStore,
    private readonly metrics: Metrics,
    progress?: ProgressFeed,
  ) {
    this.consumer = kafka.consumer({ groupId: opts.groupId, maxWaitTimeInMs: 250 });
    // Same health, progress and lag as the transactions consumer; a crash is logged, not silent.
    if (progress) feedProgressFromKafkajs(this.consumer, progress);
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const next = e.payload.restart ? 'kafkajs restarts it' : 'kafkajs does not restart it; /healthz turns unhealthy';
      log.error(`labels consumer crashed; ${next}`, { err: e.payload.error, restart: e.payload.restart });
    });
    this.producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  }

  async start(): Promise<void> {
    await Promise.all([this.consumer.connect(), this.producer.connect()]);
    await this.consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        const labels: Label[] = [];
        const bad = [];
        for (const m of batch.messages) {
          try {
            const v = m.value;
            if (v === null || v.length === 0) throw new Error('label has no value');
            labels.push(this.type.fromBuffer(unframe(v)) as Label);
          } catch (err) {
            const code = ErrorCodes.UNDECODABLE_RECORD;
            this.metrics.deadLetter(code);
            bad.push(
              deadLetterMessage({
                record: {
                  key: m.key,
                  value: m.value,
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: m.offset,
                  arrivedAt: 0,
                },
                code,
                message: `label does not decode: ${(err as Error).message}`,
              }),
            );
          }
        }
        if (bad.length > 0) await this.producer.send({ topic: this.opts.dlqTopic, messages: bad, acks: -1 });
        if (labels.length > 0) await this.store.applyLabels(labels);
      },
    });
    log.info('consuming labels', { topic: this.opts.topic, groupId: this.opts.groupId });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect()]);
  }
}
