// The v1 feature contract (Fraud Detection Handbook's 15): the order here is the model input order.

export const FEATURE_NAMES = [
  'amount',
  'is_weekend',
  'is_night',
  'customer_nb_tx_1d',
  'customer_avg_amount_1d',
  'customer_nb_tx_7d',
  'customer_avg_amount_7d',
  'customer_nb_tx_30d',
  'customer_avg_amount_30d',
  'terminal_nb_tx_1d',
  'terminal_risk_1d',
  'terminal_nb_tx_7d',
  'terminal_risk_7d',
  'terminal_nb_tx_30d',
  'terminal_risk_30d',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

export const N_FEATURES = FEATURE_NAMES.length;

export const DAY_MS = 86_400_000;
/** Customer window lengths in days; terminal windows use the same lengths. */
export const WINDOW_DAYS = [1, 7, 30] as const;
/** Fraud labels arrive about a week late, so terminal windows end this long before the transaction. */
export const LABEL_DELAY_DAYS = 7;
