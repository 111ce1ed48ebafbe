// The records that flow through fraudscore, as avsc decodes them (timestamps are epoch milliseconds).

export interface Transaction {
  transaction_id: string;
  event_time: number;
  customer_id: string;
  terminal_id: string;
  amount_minor: number;
  currency: string;
  mcc: string | null;
  channel: string;
  country: string | null;
}

export interface Label {
  transaction_id: string;
  customer_id: string;
  terminal_id: string;
  event_time: number;
  reported_time: number;
  is_fraud: boolean;
}

export type Outcome = 'APPROVE' | 'REVIEW' | 'DECLINE';

export interface Decision {
  transaction_id: string;
  customer_id: string;
  event_time: number;
  score: number;
  decision: Outcome;
  reason_codes: readonly string[];
  model_name: string;
  model_version: string;
  challenger_score: number | null;
  degraded: boolean;
  degraded_cause: string | null;
  features: number[];
  latency_us: number;
  scored_at: number;
}
