// The transaction simulator of the open handbook "Reproducible Machine Learning for Credit Card Fraud
// Detection" (Le Borgne, Siblini, Lebichot, Bontempi), chapter 3.2, in our own code and seeded with our
// own PRNG (so the same seed gives the same data on every machine, but not the handbook's exact rows).
//
// Customers: location (x, y) ~ U(0, 100)², mean amount ~ U(5, 100), sd = mean / 2, mean transactions per
// day ~ U(0, 4). Terminals: location ~ U(0, 100)². A customer uses the terminals within distance 5.
// Per customer and day: Poisson(mean per day) transactions; second of day ~ N(43200, 20000), a draw
// outside (0, 86400) is discarded (as the handbook does: "kept inside the day"); amount ~ N(mean, sd),
// a negative draw replaced by U(0, 2 × mean), rounded to cents; terminal uniform among the customer's.
// Fraud, applied after sorting by time, in the handbook's order:
//   1. every amount above 220;
//   2. each day d, 2 random terminals are compromised: their transactions on days [d, d + 28) are fraud;
//   3. each day d, 3 random customers are compromised: a third (rounded down) of their transactions on
//      days [d, d + 14), drawn at random, get amount × 5 and are fraud.

import { createHash } from 'node:crypto';
import type { Label, Transaction } from '../types.js';
import { normal, rng } from './random.js';

export interface HandbookOptions {
  seed: number;
  customers?: number;
  terminals?: number;
  days?: number;
  /** First day, 'YYYY-MM-DD' (UTC). Default 2018-04-01. */
  startDate?: string;
  /** Radius within which a customer uses terminals. Default 5. */
  radius?: number;
  /** Called now and then while transactions are generated: (customers done, customers). */
  onProgress?: (done: number, total: number) => void;
}

export const HANDBOOK_DEFAULTS = {
  customers: 5000,
  terminals: 10000,
  days: 183,
  startDate: '2018-04-01',
  radius: 5,
} as const;

const DAY_S = 86_400;

/** The simulated transactions in event-time order, column-wise (1.75 M rows fit in ~30 MB). */
export interface Simulation {
  seed: number;
  customers: number;
  terminals: number;
  days: number;
  /** Epoch ms of the first day's midnight (UTC). */
  start: number;
  n: number;
  /** Seconds since `start`. */
  seconds: Int32Array;
  customer: Int32Array;
  terminal: Int32Array;
  amountMinor: Int32Array;
  fraud: Uint8Array;
  /** 0 genuine, else the first fraud scenario (1, 2, 3) that marked it; 3 overrides (amount changed). */
  scenario: Uint8Array;
  /** Customers with no terminal within the radius (they never transact). */
  customersWithoutTerminals: number;
}

/** A 32-bit seed for stream `k` of a simulation seeded with `seed` (independent PRNG streams). */
function subSeed(seed: number, k: number): number {
  const h = createHash('sha256').update(`fraudscore-handbook:${seed}:${k}`).digest();
  return h.readUInt32LE(0);
}

/** The 16-byte Avro sync marker of a file kind for a seed: fixed so the same seed gives the same bytes. */
export function syncMarker(seed: number, kind: string): Buffer {
  return createHash('sha256').update(`fraudscore-simulate:${kind}:${seed}`).digest().subarray(0, 16);
}

function poisson(rand: () => number, lambda: number): number {
  // Knuth's method: fine for the simulator's λ ≤ 4.
  const l = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > l) {
    k++;
    p *= rand();
  }
  return k;
}

/** k distinct integers from [0, n), in draw order (partial Fisher–Yates on a sparse map). */
function sampleDistinct(rand: () => number, n: number, k: number): number[] {
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < k && i < n; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(vj);
  }
  return out;
}

class Growable {
  seconds = new Int32Array(1 << 16);
  customer = new Int32Array(1 << 16);
  terminal = new Int32Array(1 << 16);
  amount = new Int32Array(1 << 16);
  n = 0;

  push(s: number, c: number, t: number, a: number): void {
    if (this.n === this.seconds.length) {
      const grow = (x: Int32Array) => {
        const y = new Int32Array(x.length * 2);
        y.set(x);
        return y;
      };
      this.seconds = grow(this.seconds);
      this.customer = grow(this.customer);
      this.terminal = grow(this.terminal);
      this.amount = grow(this.amount);
    }
    const i = this.n++;
    this.seconds[i] = s;
    this.customer[i] = c;
    this.terminal[i] = t;
    this.amount[i] = a;
  }
}

export function parseStartDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (m === null) throw new Error(`start date ${JSON.stringify(date)} is not YYYY-MM-DD`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export function simulate(opts: HandbookOptions): Simulation {
  const nc = opts.customers ?? HANDBOOK_DEFAULTS.customers;
  const nt = opts.terminals ?? HANDBOOK_DEFAULTS.terminals;
  const days = opts.days ?? HANDBOOK_DEFAULTS.days;
  const radius = opts.radius ?? HANDBOOK_DEFAULTS.radius;
  const start = parseStartDate(opts.startDate ?? HANDBOOK_DEFAULTS.startDate);

  // Profiles.
  const rc = rng(subSeed(opts.seed, 1));
  const cx = new Float64Array(nc);
  const cy = new Float64Array(nc);
  const cMean = new Float64Array(nc);
  const cRate = new Float64Array(nc);
  for (let c = 0; c < nc; c++) {
    cx[c] = 100 * rc();
    cy[c] = 100 * rc();
    cMean[c] = 5 + 95 * rc();
    cRate[c] = 4 * rc();
  }
  const rt = rng(subSeed(opts.seed, 2));
  const tx = new Float64Array(nt);
  const ty = new Float64Array(nt);
  for (let t = 0; t < nt; t++) {
    tx[t] = 100 * rt();
    ty[t] = 100 * rt();
  }

  // Terminals within the radius, found through a grid of radius-sized cells.
  const cells = Math.max(1, Math.ceil(100 / radius));
  const cellOf = (v: number) => Math.min(cells - 1, Math.max(0, Math.floor(v / radius)));
  const grid: number[][] = Array.from({ length: cells * cells }, () => []);
  for (let t = 0; t < nt; t++) grid[cellOf(tx[t]) * cells + cellOf(ty[t])].push(t);
  const r2 = radius * radius;
  const near = (c: number): number[] => {
    const out: number[] = [];
    const gx = cellOf(cx[c]);
    const gy = cellOf(cy[c]);
    for (let i = Math.max(0, gx - 1); i <= Math.min(cells - 1, gx + 1); i++) {
      for (let j = Math.max(0, gy - 1); j <= Math.min(cells - 1, gy + 1); j++) {
        for (const t of grid[i * cells + j]) {
          const dx = cx[c] - tx[t];
          const dy = cy[c] - ty[t];
          if (dx * dx + dy * dy < r2) out.push(t);
        }
      }
    }
    return out.sort((a, b) => a - b);
  };

  // Transactions, customer by customer (each customer has its own PRNG stream).
  const g = new Growable();
  let without = 0;
  for (let c = 0; c < nc; c++) {
    const terminals = near(c);
    if (terminals.length === 0) without++;
    const r = rng(subSeed(opts.seed, 1000 + c));
    const mean = cMean[c];
    const sd = mean / 2;
    for (let d = 0; d < days; d++) {
      const k = poisson(r, cRate[c]);
      for (let j = 0; j < k; j++) {
        const second = Math.trunc(DAY_S / 2 + 20000 * normal(r));
        if (second <= 0 || second >= DAY_S) continue;
        let amount = mean + sd * normal(r);
        if (amount < 0) amount = 2 * mean * r();
        const cents = Math.round(amount * 100);
        if (terminals.length === 0) continue;
        const t = terminals[Math.floor(r() * terminals.length)];
        g.push(d * DAY_S + second, c, t, cents);
      }
    }
    if (opts.onProgress && (c % 64 === 0 || c === nc - 1)) opts.onProgress(c + 1, nc);
  }

  // Event-time order; ties keep generation order.
  const n = g.n;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const secs = g.seconds;
  order.sort((a, b) => secs[a] - secs[b] || a - b);
  const seconds = new Int32Array(n);
  const customer = new Int32Array(n);
  const terminal = new Int32Array(n);
  const amountMinor = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = order[i];
    seconds[i] = secs[o];
    customer[i] = g.customer[o];
    terminal[i] = g.terminal[o];
    amountMinor[i] = g.amount[o];
  }
  const fraud = new Uint8Array(n);
  const scenario = new Uint8Array(n);

  // Scenario 1: amounts above 220.
  for (let i = 0; i < n; i++) {
    if (amountMinor[i] > 22_000) {
      fraud[i] = 1;
      scenario[i] = 1;
    }
  }
  // Scenario 2: compromised terminals. compromisedFrom[t] = the start days of t's compromises.
  const rf = rng(subSeed(opts.seed, 3));
  const termStarts = new Map<number, number[]>();
  for (let d = 0; d < days; d++) {
    for (const t of sampleDistinct(rf, nt, 2)) {
      let list = termStarts.get(t);
      if (list === undefined) {
        list = [];
        termStarts.set(t, list);
      }
      list.push(d);
    }
  }
  for (let i = 0; i < n; i++) {
    const starts = termStarts.get(terminal[i]);
    if (starts === undefined) continue;
    const day = Math.floor(seconds[i] / DAY_S);
    if (starts.some((s) => day >= s && day < s + 28)) {
      if (fraud[i] === 0) scenario[i] = 2;
      fraud[i] = 1;
    }
  }
  // Scenario 3: compromised customers. Each customer's transactions, in time order.
  const offsets = new Int32Array(nc + 1);
  for (let i = 0; i < n; i++) offsets[customer[i] + 1]++;
  for (let c = 0; c < nc; c++) offsets[c + 1] += offsets[c];
  const byCustomer = new Int32Array(n);
  const fill = offsets.slice(0, nc);
  for (let i = 0; i < n; i++) byCustomer[fill[customer[i]]++] = i;
  const rs = rng(subSeed(opts.seed, 4));
  for (let d = 0; d < days; d++) {
    const compromised = sampleDistinct(rs, nc, 3);
    const txs: number[] = [];
    for (const c of compromised) {
      for (let k = offsets[c]; k < offsets[c + 1]; k++) {
        const i = byCustomer[k];
        const day = Math.floor(seconds[i] / DAY_S);
        if (day >= d && day < d + 14) txs.push(i);
      }
    }
    txs.sort((a, b) => a - b);
    for (const k of sampleDistinct(rs, txs.length, Math.floor(txs.length / 3))) {
      const i = txs[k];
      amountMinor[i] *= 5;
      fraud[i] = 1;
      scenario[i] = 3;
    }
  }

  return {
    seed: opts.seed,
    customers: nc,
    terminals: nt,
    days,
    start,
    n,
    seconds,
    customer,
    terminal,
    amountMinor,
    fraud,
    scenario,
    customersWithoutTerminals: without,
  };
}

/** Transaction ids sort in event-time order: 'TX' + 10-digit position. */
export function transactionId(i: number): string {
  return `TX${String(i).padStart(10, '0')}`;
}

export function transactionAt(sim: Simulation, i: number): Transaction {
  return {
    transaction_id: transactionId(i),
    event_time: sim.start + sim.seconds[i] * 1000,
    customer_id: `C${sim.customer[i]}`,
    terminal_id: `T${sim.terminal[i]}`,
    amount_minor: sim.amountMinor[i],
    currency: 'EUR',
    mcc: null,
    channel: 'POS',
    country: null,
  };
}

/** One label per transaction, reported `delayMs` after it happened. */
export function labelAt(sim: Simulation, i: number, delayMs: number): Label {
  const eventTime = sim.start + sim.seconds[i] * 1000;
  return {
    transaction_id: transactionId(i),
    customer_id: `C${sim.customer[i]}`,
    terminal_id: `T${sim.terminal[i]}`,
    event_time: eventTime,
    reported_time: eventTime + delayMs,
    is_fraud: sim.fraud[i] === 1,
  };
}

export interface SimulationCounts {
  transactions: number;
  frauds: number;
  fraud_share: number;
  by_scenario: { amount_over_220: number; compromised_terminal: number; compromised_customer: number };
  customers: number;
  customers_without_terminals: number;
  terminals: number;
  days: number;
  first_event: string;
  last_event: string;
}

export function countSimulation(sim: Simulation): SimulationCounts {
  let frauds = 0;
  const by = [0, 0, 0, 0];
  for (let i = 0; i < sim.n; i++) {
    frauds += sim.fraud[i];
    by[sim.scenario[i]]++;
  }
  const iso = (i: number) => (sim.n > 0 ? new Date(sim.start + sim.seconds[i] * 1000).toISOString() : '-');
  return {
    transactions: sim.n,
    frauds,
    fraud_share: sim.n > 0 ? frauds / sim.n : 0,
    by_scenario: { amount_over_220: by[1], compromised_terminal: by[2], compromised_customer: by[3] },
    customers: sim.customers,
    customers_without_terminals: sim.customersWithoutTerminals,
    terminals: sim.terminals,
    days: sim.days,
    first_event: iso(0),
    last_event: iso(sim.n - 1),
  };
}
