// Detection metrics for the handbook protocol. Scores are "higher = more likely fraud"; labels 0/1.

export type Labels = ArrayLike<number>;
export type Scores = ArrayLike<number>;

function counts(y: Labels): { pos: number; neg: number } {
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i] === 1 ? 1 : 0;
  return { pos, neg: y.length - pos };
}

/** Indices sorted by score, descending (ties: input order). */
function byScoreDesc(s: Scores): number[] {
  const idx = Array.from({ length: s.length }, (_, i) => i);
  return idx.sort((a, b) => s[b] - s[a] || a - b);
}

/** One point per distinct score, from the highest: cumulative true and false positives at score ≥ it. */
export interface CurvePoint {
  threshold: number;
  tp: number;
  fp: number;
}

export function thresholdCurve(y: Labels, s: Scores): CurvePoint[] {
  const order = byScoreDesc(s);
  const out: CurvePoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (y[i] === 1) tp++;
    else fp++;
    if (k === order.length - 1 || s[order[k + 1]] !== s[i]) out.push({ threshold: s[i], tp, fp });
  }
  return out;
}

/** Area under the ROC curve (ties count one half), = the Mann–Whitney U statistic / (pos × neg). */
export function aucRoc(y: Labels, s: Scores): number {
  const { pos, neg } = counts(y);
  if (pos === 0 || neg === 0) return Number.NaN;
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (const p of thresholdCurve(y, s)) {
    // Trapezoid between consecutive ROC points (exact for tied scores).
    area += ((p.fp - prevFp) * (p.tp + prevTp)) / 2;
    prevTp = p.tp;
    prevFp = p.fp;
  }
  return area / (pos * neg);
}

/** Average precision as scikit-learn defines it: Σ (Rₙ − Rₙ₋₁) Pₙ over the distinct thresholds. */
export function averagePrecision(y: Labels, s: Scores): number {
  const { pos } = counts(y);
  if (pos === 0) return Number.NaN;
  let ap = 0;
  let prevRecall = 0;
  for (const p of thresholdCurve(y, s)) {
    const recall = p.tp / pos;
    ap += (recall - prevRecall) * (p.tp / (p.tp + p.fp));
    prevRecall = recall;
  }
  return ap;
}

/** Precision–recall points (recall ascending), one per distinct threshold. */
export function precisionRecallCurve(y: Labels, s: Scores): { recall: number; precision: number }[] {
  const { pos } = counts(y);
  return thresholdCurve(y, s).map((p) => ({ recall: pos > 0 ? p.tp / pos : 0, precision: p.tp / (p.tp + p.fp) }));
}

/** The highest recall (true-positive rate) of any threshold whose false-positive rate is ≤ maxFpr. */
export function recallAtFpr(y: Labels, s: Scores, maxFpr: number): number {
  const { pos, neg } = counts(y);
  if (pos === 0 || neg === 0) return Number.NaN;
  let best = 0;
  for (const p of thresholdCurve(y, s)) {
    if (p.fp / neg > maxFpr) break;
    best = p.tp / pos;
  }
  return best;
}

/** The smallest threshold t (flag when score ≥ t) whose false-positive rate is ≤ maxFpr. */
export function thresholdAtFpr(y: Labels, s: Scores, maxFpr: number): number {
  const { neg } = counts(y);
  let t = Number.POSITIVE_INFINITY;
  for (const p of thresholdCurve(y, s)) {
    if (p.fp / neg > maxFpr) break;
    t = p.threshold;
  }
  return t;
}

/** Share of the fraudulent amount in transactions scored ≥ threshold. */
export function fraudAmountShare(y: Labels, s: Scores, amount: ArrayLike<number>, threshold: number): number {
  let all = 0;
  let caught = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    all += amount[i];
    if (s[i] >= threshold) caught += amount[i];
  }
  return all > 0 ? caught / all : Number.NaN;
}

/**
 * Card precision@k as the Fraud Detection Handbook defines it: per day, each card is scored by its
 * highest transaction score (and is fraudulent when any of its transactions that day is); the cards
 * detected (true positives in the top k) on earlier days are left out; the day's value is the number
 * of fraudulent cards in the top k divided by k; the result is the mean over the days.
 * Ties in card score are broken by card id, so the result is deterministic.
 */
export function cardPrecisionAtK(
  day: ArrayLike<number>,
  card: readonly string[],
  y: Labels,
  s: Scores,
  k = 100,
): number {
  const days = [...new Set(Array.from(day))].sort((a, b) => a - b);
  const rowsByDay = new Map<number, number[]>();
  for (let i = 0; i < day.length; i++) {
    let r = rowsByDay.get(day[i]);
    if (r === undefined) {
      r = [];
      rowsByDay.set(day[i], r);
    }
    r.push(i);
  }
  const detected = new Set<string>();
  let sum = 0;
  for (const d of days) {
    const cards = new Map<string, { score: number; fraud: boolean }>();
    for (const i of rowsByDay.get(d)!) {
      if (detected.has(card[i])) continue;
      const c = cards.get(card[i]);
      if (c === undefined) cards.set(card[i], { score: s[i], fraud: y[i] === 1 });
      else {
        c.score = Math.max(c.score, s[i]);
        c.fraud ||= y[i] === 1;
      }
    }
    const ranked = [...cards.entries()].sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : 1)).slice(0, k);
    let hits = 0;
    for (const [id, c] of ranked) {
      if (c.fraud) {
        hits++;
        detected.add(id);
      }
    }
    sum += hits / k;
  }
  return days.length > 0 ? sum / days.length : Number.NaN;
}
