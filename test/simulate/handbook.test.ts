import { describe, expect, it } from 'vitest';
import { float32Text } from '../../src/simulate/backfill.js';
import { countSimulation, labelAt, simulate, syncMarker, transactionAt } from '../../src/simulate/handbook.js';
import { rng } from '../../src/simulate/random.js';

describe('handbook simulator', () => {
  const sim = simulate({ seed: 3, customers: 300, terminals: 600, days: 40 });

  it('produces event-time-ordered transactions inside their days, from the start date', () => {
    expect(sim.n).toBeGreaterThan(5000);
    const start = Date.UTC(2018, 3, 1);
    for (let i = 0; i < sim.n; i++) {
      if (i > 0) expect(sim.seconds[i]).toBeGreaterThanOrEqual(sim.seconds[i - 1]);
      const s = sim.seconds[i] % 86_400;
      expect(s).toBeGreaterThan(0);
      expect(sim.seconds[i] / 86_400).toBeLessThan(40);
    }
    const tx = transactionAt(sim, 0);
    expect(tx.event_time).toBeGreaterThanOrEqual(start);
    expect(tx.transaction_id).toBe('TX0000000000');
    expect(tx.currency).toBe('EUR');
  });

  it('applies the three fraud scenarios', () => {
    const c = countSimulation(sim);
    expect(c.frauds).toBe(
      c.by_scenario.amount_over_220 + c.by_scenario.compromised_terminal + c.by_scenario.compromised_customer,
    );
    expect(c.by_scenario.compromised_terminal).toBeGreaterThan(0);
    expect(c.by_scenario.compromised_customer).toBeGreaterThan(0);
    for (let i = 0; i < sim.n; i++) {
      // Scenario 1: every amount above 220 is fraud (scenario 3's ×5 amounts are fraud too).
      if (sim.amountMinor[i] > 22_000) expect(sim.fraud[i]).toBe(1);
      expect(sim.amountMinor[i]).toBeGreaterThanOrEqual(0);
    }
    // Scenario 2: a terminal's fraud is contiguous in days (28-day compromise windows).
    const label = labelAt(sim, 10, 7 * 86_400_000);
    expect(label.reported_time - label.event_time).toBe(7 * 86_400_000);
  });

  it('is deterministic in its seed', () => {
    const again = simulate({ seed: 3, customers: 300, terminals: 600, days: 40 });
    expect(Buffer.from(again.amountMinor.buffer).equals(Buffer.from(sim.amountMinor.buffer))).toBe(true);
    expect(Buffer.from(again.fraud.buffer).equals(Buffer.from(sim.fraud.buffer))).toBe(true);
    const other = simulate({ seed: 4, customers: 300, terminals: 600, days: 40 });
    expect(other.n).not.toBe(sim.n);
    expect(syncMarker(3, 'transactions')).toHaveLength(16);
    expect(syncMarker(3, 'transactions').equals(syncMarker(3, 'labels'))).toBe(false);
  });
});

describe('float32Text', () => {
  it('writes the shortest decimal that reads back as the same Float32', () => {
    const r = rng(5);
    for (let i = 0; i < 20000; i++) {
      const f = Math.fround((r() - 0.2) * 10 ** Math.floor(r() * 12 - 6));
      const s = float32Text(f);
      expect(Math.fround(Number(s))).toBe(f);
    }
    expect(float32Text(Math.fround(57.53))).toBe('57.53');
    expect(float32Text(3)).toBe('3');
    expect(float32Text(Math.fround(1 / 3))).toBe('0.33333334');
  });
});
