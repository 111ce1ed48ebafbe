// The rule-based fallback score: used when the model cannot score a batch (deadline, error), so every
// record is still decided. Deterministic, from the feature vector alone (handbook features only), no state.

import { FEATURE_NAMES, type FeatureName } from '../features/feature-names.js';

const at = (name: FeatureName): number => FEATURE_NAMES.indexOf(name);
const AMOUNT = at('amount');
const IS_NIGHT = at('is_night');
const NB_TX_1D = at('customer_nb_tx_1d');
const AVG_30D = at('customer_avg_amount_30d');
const RISK_1D = at('terminal_risk_1d');
const RISK_7D = at('terminal_risk_7d');
const RISK_30D = at('terminal_risk_30d');

/** Clamps to [0,1]; NaN becomes 0, so a missing feature never raises the score. */
function clamp01(x: number): number {
  // biome-ignore lint/complexity/useMathMinMax: Math.min/max would propagate NaN; the ternaries map it to 0
  return x > 0 ? (x < 1 ? x : 1) : 0;
}

/**
 * Noisy-OR of four signals, each in [0,1] and scaled by how strongly it alone indicates fraud:
 *  - amount against the customer's 30-day mean: 0 up to 1.5×, 1 from 5× (weight 0.6);
 *  - the terminal's worst fraud share over its 1/7/30-day windows (weight 0.8);
 *  - night (weight 0.15);
 *  - a burst: 0 up to 3 transactions today, 1 from 10 (weight 0.3).
 * score = 1 − Π(1 − weight·signal), so it stays in [0,1], rises with every signal and no single weak
 * signal dominates. Against the default thresholds (review 0.3, decline 0.7): a 5× amount alone is
 * REVIEW; a 5× amount at night on a terminal with 50 % fraud, or a terminal with 90 % fraud, is DECLINE.
 */
export function ruleScore(features: ArrayLike<number>, offset: number): number {
  const amount = features[offset + AMOUNT]!;
  const avg = features[offset + AVG_30D]!;
  // biome-ignore lint/complexity/useMathMinMax: a NaN average must become 1 (no signal), not propagate
  const ratio = amount / (avg > 1 ? avg : 1);
  const amountSignal = clamp01((ratio - 1.5) / 3.5);
  const terminalSignal = clamp01(
    Math.max(features[offset + RISK_1D]!, features[offset + RISK_7D]!, features[offset + RISK_30D]!),
  );
  const nightSignal = clamp01(features[offset + IS_NIGHT]!);
  const burstSignal = clamp01((features[offset + NB_TX_1D]! - 3) / 7);
  return 1 - (1 - 0.6 * amountSignal) * (1 - 0.8 * terminalSignal) * (1 - 0.15 * nightSignal) * (1 - 0.3 * burstSignal);
}
