// The card-level bootstrap's weighted metrics against metrics.ts on data sets built explicitly.

import { describe, expect, it } from 'vitest';
import { pairedBootstrap, percentileInterval, quantile } from '../../src/evaluation/bootstrap.js';
import { aucRoc, averagePrecision, cardPrecisionAtK } from '../../src/evaluation/metrics.js';
import { rng } from '../../src/simulate/random.js';

/** A small test week: 3 days, 60 cards, scores with ties (rounded), frauds concentrated on some cards. */
function fixture(seed: number) {
  const rand = rng(seed);
  const y: number[] = [];
  const day: number[] = [];
  const card: string[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let d = 0; d < 3; d++) {
    for (let c = 0; c < 60; c++) {
      const n = 1 + Math.floor(rand() * 3);
      for (let t = 0; t < n; t++) {
        const fraud = c % 7 === 0 && rand() < 0.7 ? 1 : 0;
        y.push(fraud);
        day.push(17_000 + d);
        card.push(`c${String(c).padStart(3, '0')}`);
        a.push(Math.round((fraud ? 0.5 + rand() * 0.5 : rand() * 0.7) * 20) / 20);
        b.push(Math.round((fraud ? 0.3 + rand() * 0.7 : rand() * 0.8) * 10) / 10);
      }
    }
  }
  return { y, day, card, scores: { champion: a, other: b } };
}

const cp = (f: { day: number[]; card: string[]; y: number[] }, s: number[], k: number) =>
  cardPrecisionAtK(f.day, f.card, f.y, s, k);

describe('pairedBootstrap', () => {
  it('gives metrics.ts numbers on the test week itself (every card once)', () => {
    const f = fixture(1);
    const r = pairedBootstrap(f, f.scores, { resamples: 100, seed: 3, k: 5 });
    for (const m of ['champion', 'other'] as const) {
      const s = f.scores[m];
      expect(r.metrics[m].auc_roc).toBeCloseTo(aucRoc(f.y, s), 12);
      expect(r.metrics[m].average_precision).toBeCloseTo(averagePrecision(f.y, s), 12);
      expect(r.metrics[m].card_precision_at_100).toBeCloseTo(cp(f, s, 5), 12);
    }
    expect(r.difference.other.average_precision.value).toBeCloseTo(
      averagePrecision(f.y, f.scores.champion) - averagePrecision(f.y, f.scores.other),
      12,
    );
  });

  it('resample b is the resampled data set: checked against a row-by-row build with the same PRNG draws', () => {
    const f = fixture(4);
    const seed = 21;
    const r = pairedBootstrap(f, f.scores, { resamples: 3, seed, k: 5 });
    // Replay the bootstrap's card draws: cards are numbered in order of first appearance.
    const cards = [...new Set(f.card)];
    const rand = rng(seed);
    for (let b = 0; b < 3; b++) {
      const copies = new Map<string, number>(cards.map((c) => [c, 0]));
      for (let i = 0; i < cards.length; i++) {
        const c = cards[Math.floor(rand() * cards.length)];
        copies.set(c, copies.get(c)! + 1);
      }
      const built = { y: [] as number[], day: [] as number[], card: [] as string[] };
      const s = { champion: [] as number[], other: [] as number[] };
      for (let i = 0; i < f.y.length; i++) {
        for (let j = 0; j < copies.get(f.card[i])!; j++) {
          built.y.push(f.y[i]);
          built.day.push(f.day[i]);
          built.card.push(`${f.card[i]}#${j}`);
          s.champion.push(f.scores.champion[i]);
          s.other.push(f.scores.other[i]);
        }
      }
      const diff = (fn: (s: number[]) => number) => fn(s.champion) - fn(s.other);
      expect(r.resampled.other.auc_roc[b]).toBeCloseTo(
        diff((x) => aucRoc(built.y, x)),
        12,
      );
      expect(r.resampled.other.average_precision[b]).toBeCloseTo(
        diff((x) => averagePrecision(built.y, x)),
        12,
      );
      // Copies of one card tie on score; metrics.ts breaks ties by card id, and so do the copies
      // (c#0 < c#1), which the weighted pass takes in one block: the same count either way.
      expect(r.resampled.other.card_precision_at_100[b]).toBeCloseTo(
        diff((x) => cp(built, x, 5)),
        12,
      );
    }
  });

  it('intervals: seeded, and they bracket the point difference on a clear case', () => {
    const f = fixture(5);
    const a = pairedBootstrap(f, f.scores, { resamples: 300, seed: 8, k: 5 });
    const b = pairedBootstrap(f, f.scores, { resamples: 300, seed: 8, k: 5 });
    expect(a.difference).toEqual(b.difference);
    const perfect = { champion: f.y.map((v) => v), other: f.scores.other };
    const p = pairedBootstrap(f, perfect, { resamples: 300, seed: 8, k: 5 });
    expect(p.metrics.champion.average_precision).toBe(1);
    const d = p.difference.other.average_precision;
    expect(d.low).toBeGreaterThan(0);
    expect(d.low).toBeLessThanOrEqual(d.value);
    expect(d.high).toBeGreaterThanOrEqual(d.value);
  });

  it('quantiles interpolate like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.025)).toBeCloseTo(0.25, 12);
    const iv = percentileInterval(Float64Array.from({ length: 101 }, (_, i) => 100 - i));
    expect(iv.low).toBeCloseTo(2.5, 9);
    expect(iv.high).toBeCloseTo(97.5, 9);
  });
});
