// The feature contract: the order here is the model input order. v3 = the Fraud Detection Handbook's 15
// (v1), 4 amount-anomaly features of the customer (v2), then 4 features of how recent the terminal's known
// frauds and transactions are (see compute.ts and windows.ts for their definitions).

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
  'amount_to_customer_avg_7d',
  'amount_to_customer_avg_30d',
  'customer_nb_high_ratio_7d',
  'customer_max_ratio_7d',
  'terminal_days_since_known_fraud',
  'terminal_days_since_known_tx',
  'terminal_known_fraud_last3',
  'terminal_last_known_is_fraud',
] as const;

/** The version of FEATURE_NAMES a manifest must name (`feature_set`); bump it with any change to the list. */
export const FEATURE_SET = 'v3';

/** The handbook's 15 features (v1), a prefix of FEATURE_NAMES: what the handbook's baseline recipes use. */
export const HANDBOOK_FEATURE_COUNT = 15;

export type FeatureName = (typeof FEATURE_NAMES)[number];

export const N_FEATURES = FEATURE_NAMES.length;

export const DAY_MS = 86_400_000;
/** Customer window lengths in days; terminal windows use the same lengths. */
export const WINDOW_DAYS = [1, 7, 30] as const;
/** Fraud labels arrive about a week late, so terminal windows end this long before the transaction. */
export const LABEL_DELAY_DAYS = 7;
