// Drift: the population stability index (PSI) of every model feature and of the score, over a sliding
// window of the last `windowSize` records, against the training baseline histograms of the manifest.
//
//   PSI = Σ_bins (a_i − e_i) · ln(a_i / e_i)
//
// with a_i the window's share in bin i and e_i the baseline's. Rule of thumb: < 0.1 stable, 0.1–0.25
// a moderate shift, > 0.25 a significant one. Bins are the baseline's, binned by the one definition in
// histogram.ts that also built the manifest's baselines. Empty bins: both shares are floored at EPSILON (1e-4, i.e. a bin
// is treated as holding at least 0.01 % of the records) before the formula, so a bin empty on one
// side adds a large but finite term (|Δ|·ln(Δ/ε) ≤ 9.2·|Δ|) and a bin empty on both sides adds 0.
//
// Warm-up: the first `warmupRecords` records after a start (or a model reload) are not counted, and a
// PSI is NaN until the window is full, so an empty feature store or a half-filled window never reads
// as drift; `fraudscore_drift_warm` says when the PSIs mean something (the drift alerts require it).
//
// Cost: the window is a ring of bin indices (Uint16 per record and column) plus per-bin counts, so a
// batch costs O(rows × columns × log bins) to bin and O(columns × bins) to recompute the PSI, and
// nothing is allocated per record.

import { ErrorCodes } from '../errors.js';
import { FEATURE_NAMES, N_FEATURES } from '../features/feature-names.js';
import type { BatchObserver, ObservedBatch } from '../pipeline/processor.js';
import type { Histogram, Manifest } from '../scoring/manifest.js';
import { binOf, NO_BIN } from './histogram.js';
import type { Metrics } from './metrics.js';

/** Floor applied to both shares of a bin before the PSI formula (documented above). */
export const PSI_EPSILON = 1e-4;

/** Ring slot marker: the record did not count for this column (e.g. its features were defaults). */
const NONE = NO_BIN;

/** Default drift window, in records. */
export const DRIFT_WINDOW = 10_000;

export interface DriftOptions {
  /** Records in the sliding window (default 10,000). */
  windowSize?: number;
  /** Below this many counted records a PSI is reported as NaN (default windowSize: a full window). */
  minRecords?: number;
  /** Records ignored after a start or a model reload before the window starts filling (default 0). */
  warmupRecords?: number;
}

/** A PSI snapshot: per feature (manifest order), the score, and the window's make-up. */
export interface DriftSnapshot {
  features: Float64Array;
  score: number;
  defaultedShare: number;
  records: number;
  /** Warm-up done and window full: the PSIs mean something. */
  warm: boolean;
}

/** Population stability index of observed counts against baseline proportions, ε-floored. */
export function psi(counts: ArrayLike<number>, total: number, baseline: ArrayLike<number>): number {
  if (total <= 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < baseline.length; i++) {
    const a = Math.max(counts[i]! / total, PSI_EPSILON);
    const e = Math.max(baseline[i]!, PSI_EPSILON);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** One column's baseline, compiled once per manifest. */
interface Column {
  edges: Float64Array;
  baseline: Float64Array;
  counts: Int32Array;
  total: number;
}

/**
 * A BatchObserver keeping the drift window and the PSI gauges. Rows whose features were defaulted
 * (FEATURES_UNAVAILABLE) count towards the defaulted share but not towards any PSI; rows of any
 * degraded batch do not count towards the score's PSI (their score is a fallback's or comes from
 * default features). When the model reloads, the baseline follows the new manifest and the window
 * starts again (the stored bin indices belong to the old edges).
 */
export class DriftMonitor implements BatchObserver {
  private readonly size: number;
  private readonly minRecords: number;
  private readonly cols = N_FEATURES + 1;
  private readonly ring: Uint16Array;
  private readonly defaulted: Uint8Array;
  private manifest: Manifest | undefined;
  private columns: Column[] = [];
  private pos = 0;
  private filled = 0;
  private defaultedCount = 0;
  private readonly warmup: number;
  /** Records still to skip before the window fills (counts down from warmupRecords). */
  private toSkip = 0;

  constructor(
    private readonly currentManifest: () => Manifest,
    private readonly metrics: Metrics | null,
    opts: DriftOptions = {},
  ) {
    this.size = opts.windowSize ?? 10_000;
    if (!(Number.isInteger(this.size) && this.size > 0)) throw new RangeError('windowSize must be a positive integer');
    this.minRecords = opts.minRecords ?? this.size;
    this.warmup = opts.warmupRecords ?? 0;
    if (!(Number.isInteger(this.warmup) && this.warmup >= 0)) throw new RangeError('warmupRecords must be ≥ 0');
    this.ring = new Uint16Array(this.size * this.cols).fill(NONE);
    this.defaulted = new Uint8Array(this.size);
    this.useManifest(currentManifest());
  }

  observeBatch(b: ObservedBatch): void {
    const manifest = this.currentManifest();
    if (manifest !== this.manifest) this.useManifest(manifest);
    const featuresCount = b.cause !== ErrorCodes.FEATURES_UNAVAILABLE;
    const scoreCounts = b.cause === null;
    const cols = this.cols;
    const columns = this.columns;
    const ring = this.ring;
    let r = 0;
    if (this.toSkip > 0) {
      r = Math.min(b.n, this.toSkip);
      this.toSkip -= r;
    }
    for (; r < b.n; r++) {
      const slot = this.pos * cols;
      if (this.filled === this.size) {
        for (let c = 0; c < cols; c++) {
          const old = ring[slot + c]!;
          if (old !== NONE) {
            const col = columns[c]!;
            col.counts[old]!--;
            col.total--;
          }
        }
        this.defaultedCount -= this.defaulted[this.pos]!;
      } else {
        this.filled++;
      }
      const off = r * N_FEATURES;
      for (let c = 0; c < cols; c++) {
        const counted = c < N_FEATURES ? featuresCount : scoreCounts;
        let bin = NONE;
        if (counted) {
          const col = columns[c]!;
          bin = binOf(col.edges, c < N_FEATURES ? b.features[off + c]! : b.scores[r]!);
          if (bin !== NONE) {
            col.counts[bin]!++;
            col.total++;
          }
        }
        ring[slot + c] = bin;
      }
      const d = featuresCount ? 0 : 1;
      this.defaulted[this.pos] = d;
      this.defaultedCount += d;
      this.pos = this.pos + 1 === this.size ? 0 : this.pos + 1;
    }
    if (this.metrics !== null) this.publish(this.metrics);
  }

  /** The current PSI values (tests, the dashboard); allocates, not for the hot path. */
  snapshot(): DriftSnapshot {
    const features = new Float64Array(N_FEATURES);
    for (let c = 0; c < N_FEATURES; c++) features[c] = this.columnPsi(c);
    return {
      features,
      score: this.columnPsi(N_FEATURES),
      defaultedShare: this.filled === 0 ? 0 : this.defaultedCount / this.filled,
      records: this.filled,
      warm: this.warm,
    };
  }

  /** Warm-up done and the window full. */
  get warm(): boolean {
    return this.toSkip === 0 && this.filled === this.size;
  }

  private columnPsi(c: number): number {
    const col = this.columns[c]!;
    return this.toSkip > 0 || col.total < this.minRecords ? Number.NaN : psi(col.counts, col.total, col.baseline);
  }

  private publish(m: Metrics): void {
    for (let c = 0; c < N_FEATURES; c++) m.featurePsi[FEATURE_NAMES[c]!].set(this.columnPsi(c));
    m.scorePsi.set(this.columnPsi(N_FEATURES));
    m.defaultedShare.set(this.filled === 0 ? 0 : this.defaultedCount / this.filled);
    m.driftWindowRecords.set(this.filled);
    m.driftWarm.set(this.warm ? 1 : 0);
  }

  private useManifest(manifest: Manifest): void {
    this.manifest = manifest;
    const hist: Histogram[] = FEATURE_NAMES.map((f) => manifest.baseline.features[f]);
    hist.push(manifest.baseline.score);
    this.columns = hist.map((h) => {
      if (h.edges.length - 1 >= NONE) throw new RangeError(`a baseline histogram has more than ${NONE - 1} bins`);
      return {
        edges: Float64Array.from(h.edges),
        baseline: Float64Array.from(h.proportions),
        counts: new Int32Array(h.proportions.length),
        total: 0,
      };
    });
    this.ring.fill(NONE);
    this.defaulted.fill(0);
    this.pos = 0;
    this.filled = 0;
    this.defaultedCount = 0;
    this.toSkip = this.warmup;
  }
}
