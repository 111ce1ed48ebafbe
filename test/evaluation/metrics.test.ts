import { describe, expect, it } from 'vitest';
import {
  aucRoc,
  averagePrecision,
  cardPrecisionAtK,
  fraudAmountShare,
  precisionRecallCurve,
  recallAtFpr,
  thresholdAtFpr,
} from '../../src/evaluation/metrics.js';
import { dateDay, handbookSplit } from '../../src/evaluation/protocol.js';

// Ranked: 0.9 fraud, 0.8 genuine, 0.7 fraud, 0.3 genuine, 0.1 genuine.
const y = [1, 0, 1, 0, 0];
const s = [0.9, 0.8, 0.7, 0.3, 0.1];

describe('metrics on hand-computed cases', () => {
  it('AUC-ROC: 5 of the 6 fraud/genuine pairs are ordered right; ties count one half', () => {
    expect(aucRoc(y, s)).toBeCloseTo(5 / 6, 12);
    expect(aucRoc([1, 0], [0.5, 0.5])).toBe(0.5);
    expect(aucRoc([1, 1, 0, 0], [0.9, 0.4, 0.4, 0.1])).toBeCloseTo(3.5 / 4, 12);
    expect(aucRoc([0, 1], [0.9, 0.1])).toBe(0);
  });

  it('average precision: ½·1 + ½·⅔ (scikit-learn’s step definition)', () => {
    expect(averagePrecision(y, s)).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
    expect(averagePrecision([1, 0], [0.5, 0.5])).toBe(0.5);
    expect(averagePrecision([1, 1, 0], [0.9, 0.8, 0.1])).toBe(1);
  });

  it('precision–recall curve: one point per distinct score', () => {
    expect(precisionRecallCurve(y, s)).toEqual([
      { recall: 0.5, precision: 1 },
      { recall: 0.5, precision: 0.5 },
      { recall: 1, precision: 2 / 3 },
      { recall: 1, precision: 0.5 },
      { recall: 1, precision: 0.4 },
    ]);
  });

  it('recall at a false-positive rate and the threshold that reaches it', () => {
    expect(recallAtFpr(y, s, 0)).toBe(0.5);
    expect(recallAtFpr(y, s, 0.34)).toBe(1);
    expect(recallAtFpr(y, s, 0.3)).toBe(0.5);
    expect(thresholdAtFpr(y, s, 0)).toBe(0.9);
    expect(thresholdAtFpr(y, s, 0.34)).toBe(0.7);
  });

  it('fraud amount share at a threshold', () => {
    expect(fraudAmountShare(y, s, [100, 50, 300, 10, 10], 0.8)).toBe(0.25);
    expect(fraudAmountShare(y, s, [100, 50, 300, 10, 10], 0.7)).toBe(1);
  });

  it('card precision@k: max score per card per day, earlier detections left out, mean over days', () => {
    // Day 0: A {0.9 fraud, 0.2}, B 0.8, C 0.7 fraud → top 2 = A (fraud), B → 1/2; A is detected.
    // Day 1: A 0.95 fraud (left out), C 0.6 fraud, D 0.5, B 0.1 → top 2 = C, D → 1/2.
    const day = [0, 0, 0, 0, 1, 1, 1, 1];
    const card = ['A', 'A', 'B', 'C', 'A', 'C', 'D', 'B'];
    const yy = [1, 0, 0, 1, 1, 1, 0, 0];
    const ss = [0.9, 0.2, 0.8, 0.7, 0.95, 0.6, 0.5, 0.1];
    expect(cardPrecisionAtK(day, card, yy, ss, 2)).toBe(0.5);
    // Precision is over k even when a day has fewer cards: day 0 has 3 cards, 2 fraudulent → 2/100.
    expect(cardPrecisionAtK([0, 0, 0], ['A', 'B', 'C'], [1, 1, 0], [0.1, 0.2, 0.3], 100)).toBe(0.02);
  });
});

describe('handbook split', () => {
  it('drops test rows of cards with fraud in training or reported during the delay', () => {
    const t = (date: string, h = 12) => Date.parse(`${date}T${String(h).padStart(2, '0')}:00:00Z`);
    const rows = {
      eventTime: [
        t('2018-07-25'), // 0 train, A fraud
        t('2018-07-31'), // 1 train, B genuine
        t('2018-08-01'), // 2 delay day 0, C fraud: known from test day 1 on
        t('2018-08-07'), // 3 delay day 6, D fraud: never reported inside the test week
        t('2018-08-08'), // 4 test day 0: A (known) → out
        t('2018-08-08'), // 5 test day 0: C, not reported yet → in
        t('2018-08-09'), // 6 test day 1: C (known now) → out
        t('2018-08-14'), // 7 test day 6: D → in
        t('2018-08-15'), // 8 after the test week → out
        t('2018-08-10'), // 9 test day 2: B → in
      ],
      customerId: ['A', 'B', 'C', 'D', 'A', 'C', 'C', 'D', 'B', 'B'],
      isFraud: [1, 0, 1, 1, 0, 1, 1, 0, 0, 0],
    };
    const split = handbookSplit(rows, '2018-07-25');
    expect(split.train).toEqual([0, 1]);
    expect(split.test.sort((a, b) => a - b)).toEqual([5, 7, 9]);
    expect(dateDay('1970-01-02')).toBe(1);
  });
});
