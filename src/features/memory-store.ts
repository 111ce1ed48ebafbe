// The in-memory FeatureStore (embedded runs, backfills, tests). It mirrors lua/add-transaction-4.lua and
// lua/add-label-2.lua step by step (same per-key idempotency, same trimming, same windows), so that it
// returns the same 12 aggregates as Redis and therefore bit-identical vectors.

import type { Label, Transaction } from '../types.js';
import { N_AGGREGATES, RETAIN_MS, writeFeatures } from './compute.js';
import { DAY_MS, LABEL_DELAY_DAYS, N_FEATURES } from './feature-names.js';
import type { FeatureStore } from './feature-store.js';
import { SortedWindow } from './sorted-window.js';

interface TerminalState {
  tx: SortedWindow;
  fraud: SortedWindow;
}

export interface MemoryFeatureStoreOptions {
  /** Entries older than (event time − retainMs) are trimmed; default RETAIN_MS (38 days). */
  retainMs?: number;
}

const DELAY_MS = LABEL_DELAY_DAYS * DAY_MS;

export class MemoryFeatureStore implements FeatureStore {
  private readonly customers = new Map<string, SortedWindow>();
  private readonly terminals = new Map<string, TerminalState>();
  private readonly retainMs: number;
  private readonly agg = new Float64Array(N_AGGREGATES);

  constructor(options: MemoryFeatureStoreOptions = {}) {
    this.retainMs = options.retainMs ?? RETAIN_MS;
  }

  enrich(txs: readonly Transaction[], n: number, out: Float32Array): Promise<string | null> {
    for (let i = 0; i < n; i++) {
      const tx = txs[i];
      this.addTransaction(tx, this.agg);
      writeFeatures(tx, this.agg, out, i * N_FEATURES);
    }
    return Promise.resolve(null);
  }

  /** Adds tx to its windows and writes its 12 aggregates (compute.ts layout) into agg. */
  addTransaction(tx: Transaction, agg: Float64Array): void {
    const t = tx.event_time;
    const cut = t - this.retainMs;

    let customer = this.customers.get(tx.customer_id);
    if (customer === undefined) {
      customer = new SortedWindow();
      this.customers.set(tx.customer_id, customer);
    }
    customer.insert(t, tx.transaction_id, tx.amount_minor);
    customer.trimBefore(cut);
    const lo1 = t - DAY_MS;
    const lo7 = t - 7 * DAY_MS;
    let c1 = 0;
    let s1 = 0;
    let c7 = 0;
    let s7 = 0;
    let c30 = 0;
    let s30 = 0;
    const end = customer.upperBound(t);
    for (let i = customer.upperBound(t - 30 * DAY_MS); i < end; i++) {
      const ts = customer.timeAt(i);
      const a = customer.valueAt(i);
      c30++;
      s30 += a;
      if (ts > lo7) {
        c7++;
        s7 += a;
        if (ts > lo1) {
          c1++;
          s1 += a;
        }
      }
    }
    agg[0] = c1;
    agg[1] = s1;
    agg[2] = c7;
    agg[3] = s7;
    agg[4] = c30;
    agg[5] = s30;

    let terminal = this.terminals.get(tx.terminal_id);
    if (terminal === undefined) {
      terminal = { tx: new SortedWindow(), fraud: new SortedWindow() };
      this.terminals.set(tx.terminal_id, terminal);
    }
    terminal.tx.insert(t, tx.transaction_id);
    terminal.tx.trimBefore(cut);
    terminal.fraud.trimBefore(cut);
    const hi = t - DELAY_MS;
    agg[6] = terminal.tx.count(hi - DAY_MS, hi);
    agg[7] = terminal.fraud.count(hi - DAY_MS, hi);
    agg[8] = terminal.tx.count(hi - 7 * DAY_MS, hi);
    agg[9] = terminal.fraud.count(hi - 7 * DAY_MS, hi);
    agg[10] = terminal.tx.count(hi - 30 * DAY_MS, hi);
    agg[11] = terminal.fraud.count(hi - 30 * DAY_MS, hi);
  }

  /**
   * Marks fraud labels on their terminal (non-fraud labels are a no-op). A label whose transaction the
   * terminal does not hold (never seen, or trimmed) is ignored, as in lua/add-label-2.lua.
   */
  applyLabels(labels: readonly Label[]): Promise<void> {
    for (const label of labels) {
      if (!label.is_fraud) continue;
      const terminal = this.terminals.get(label.terminal_id);
      const time = terminal?.tx.timeOf(label.transaction_id);
      if (terminal === undefined || time === undefined) continue;
      terminal.fraud.insert(time, label.transaction_id);
    }
    return Promise.resolve();
  }

  /** How many window entries the store holds (tests, and a gauge of memory use). */
  entryCount(): { customerEntries: number; terminalEntries: number; fraudEntries: number } {
    let customerEntries = 0;
    let terminalEntries = 0;
    let fraudEntries = 0;
    for (const c of this.customers.values()) customerEntries += c.size;
    for (const t of this.terminals.values()) {
      terminalEntries += t.tx.size;
      fraudEntries += t.fraud.size;
    }
    return { customerEntries, terminalEntries, fraudEntries };
  }

  isHealthy(): boolean {
    return true;
  }

  close(): Promise<void> {
    this.customers.clear();
    this.terminals.clear();
    return Promise.resolve();
  }
}
