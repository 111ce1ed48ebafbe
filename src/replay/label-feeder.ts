import type { FeatureStore } from '../features/feature-store.js';
import type { Label } from '../types.js';

/**
 * Applies fraud labels to a feature store in reported-time order as a replayed clock advances, so that
 * a re-scored transaction sees exactly the fraud reports that existed at its event time.
 */
export class LabelFeeder {
  private next = 0;
  private readonly labels: Label[];

  constructor(
    labels: readonly Label[],
    private readonly store: FeatureStore,
  ) {
    this.labels = labels.filter((l) => l.is_fraud).sort((a, b) => a.reported_time - b.reported_time);
  }

  get applied(): number {
    return this.next;
  }

  /** Applies every label reported at or before `clock` that was not applied yet. */
  async advance(clock: number): Promise<void> {
    let end = this.next;
    while (end < this.labels.length && this.labels[end].reported_time <= clock) end++;
    if (end === this.next) return;
    const batch = this.labels.slice(this.next, end);
    this.next = end;
    await this.store.applyLabels(batch);
  }
}
