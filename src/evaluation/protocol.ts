// The Fraud Detection Handbook's train/delay/test split (its get_train_test_set), on training rows.

import { DAY_MS } from '../features/feature-names.js';

export interface SplitRows {
  eventTime: ArrayLike<number>;
  customerId: readonly string[];
  isFraud: ArrayLike<number>;
}

export interface Split {
  train: number[];
  test: number[];
}

export function dayIndex(eventTime: number): number {
  return Math.floor(eventTime / DAY_MS);
}

export function dateDay(date: string): number {
  return dayIndex(Date.parse(`${date}T00:00:00Z`));
}

/**
 * Train on `trainDays` days from trainStart, skip `delayDays`, test on `testDays`. Test rows of cards
 * known to be compromised are left out: cards with fraud in the training period, plus, for test day d,
 * cards with fraud on delay days before d (reported by then).
 */
export function handbookSplit(rows: SplitRows, trainStart: string, trainDays = 7, delayDays = 7, testDays = 7): Split {
  const d0 = dateDay(trainStart);
  const train: number[] = [];
  const byDay = new Map<number, number[]>();
  for (let i = 0; i < rows.eventTime.length; i++) {
    const d = dayIndex(rows.eventTime[i]);
    if (d >= d0 && d < d0 + trainDays) train.push(i);
    let list = byDay.get(d);
    if (list === undefined) {
      list = [];
      byDay.set(d, list);
    }
    list.push(i);
  }
  const known = new Set<string>();
  for (const i of train) if (rows.isFraud[i] === 1) known.add(rows.customerId[i]);
  const test: number[] = [];
  for (let day = 0; day < testDays; day++) {
    for (const i of byDay.get(d0 + trainDays + day - 1) ?? []) if (rows.isFraud[i] === 1) known.add(rows.customerId[i]);
    for (const i of byDay.get(d0 + trainDays + delayDays + day) ?? []) {
      if (!known.has(rows.customerId[i])) test.push(i);
    }
  }
  return { train, test };
}
