// The in-memory FeatureStore (embedded runs, backfills, tests). Its windows are the same classes the Redis
// store's scorer-side cache uses (windows.ts), so both return the same 17 aggregates and therefore
// bit-identical vectors.

import type { Label, Transaction } from '../types.js';
import { N_AGGREGATES, RETAIN_MS, writeFeatures } from './compute.js';
import { N_FEATURES } from './feature-names.js';
import type { FeatureStore } from './feature-store.js';
import { CustomerWindow, TerminalWindow } from './windows.js';

export interface MemoryFeatureStoreOptions {
  /** Entries older than (event time − retainMs) are trimmed; default RETAIN_MS (38 days). */
  retainMs?: number;
}

export class MemoryFeatureStore implements FeatureStore {
  private readonly customers = new Map<string, CustomerWindow>();
  private readonly terminals = new Map<string, TerminalWindow>();
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

  /** Adds tx to its windows and writes its 17 aggregates (compute.ts layout) into agg. */
  addTransaction(tx: Transaction, agg: Float64Array): void {
    const t = tx.event_time;
    let customer = this.customers.get(tx.customer_id);
    if (customer === undefined) {
      customer = new CustomerWindow();
      this.customers.set(tx.customer_id, customer);
    }
    customer.add(t, tx.transaction_id, tx.amount_minor, this.retainMs);
    customer.aggregates(t, agg);

    let terminal = this.terminals.get(tx.terminal_id);
    if (terminal === undefined) {
      terminal = new TerminalWindow();
      this.terminals.set(tx.terminal_id, terminal);
    }
    terminal.add(t, tx.transaction_id, this.retainMs);
    terminal.aggregates(t, agg);
  }

  /**
   * Records fraud reports on their terminal (non-fraud labels are a no-op). A report counts for the
   * terminal's transactions at t ≥ its reported time when its transaction is earlier than the report
   * (see TerminalWindow); a report of a transaction the terminal never sees counts for nothing.
   */
  applyLabels(labels: readonly Label[]): Promise<void> {
    for (const label of labels) {
      if (!label.is_fraud) continue;
      let terminal = this.terminals.get(label.terminal_id);
      if (terminal === undefined) {
        terminal = new TerminalWindow();
        this.terminals.set(label.terminal_id, terminal);
      }
      terminal.mark(label.transaction_id, label.reported_time);
    }
    return Promise.resolve();
  }

  /** How many window entries the store holds (tests, and a gauge of memory use). */
  entryCount(): { customerEntries: number; terminalEntries: number; fraudEntries: number } {
    let customerEntries = 0;
    let terminalEntries = 0;
    let fraudEntries = 0;
    for (const c of this.customers.values()) customerEntries += c.tx.size;
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
