"""The Fraud Detection Handbook's protocol on the backfill's CSV: loading by day range, the train/delay/test
split (its get_train_test_set) and its three metrics. Shared by train.py (the champion) and baselines.py
(the handbook's logistic-regression and random-forest recipes), so both see the same rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

# The handbook's 15 features (feature set v1): what its baseline recipes (baselines.py) are defined on.
HANDBOOK_FEATURES = [
    "amount",
    "is_weekend",
    "is_night",
    "customer_nb_tx_1d",
    "customer_avg_amount_1d",
    "customer_nb_tx_7d",
    "customer_avg_amount_7d",
    "customer_nb_tx_30d",
    "customer_avg_amount_30d",
    "terminal_nb_tx_1d",
    "terminal_risk_1d",
    "terminal_nb_tx_7d",
    "terminal_risk_7d",
    "terminal_nb_tx_30d",
    "terminal_risk_30d",
]
# Feature set v3 (src/features/feature-names.ts, same order): the champion's and challenger's inputs.
FEATURE_SET = "v3"
FEATURES = HANDBOOK_FEATURES + [
    "amount_to_customer_avg_7d",
    "amount_to_customer_avg_30d",
    "customer_nb_high_ratio_7d",
    "customer_max_ratio_7d",
    "terminal_days_since_known_fraud",
    "terminal_days_since_known_tx",
    "terminal_known_fraud_last3",
    "terminal_last_known_is_fraud",
]
DAY_MS = 86_400_000
TRAIN_DAYS = DELAY_DAYS = TEST_DAYS = 7


def day_of(date: str) -> int:
    """Days since the epoch (UTC) of a YYYY-MM-DD date."""
    ms = dt.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc).timestamp() * 1000
    return int(ms) // DAY_MS


def load_days(path: str, first_day: int, end_day: int) -> pd.DataFrame:
    """The rows whose event day is in [first_day, end_day), nothing else: the CSV is read in chunks and
    every other row is dropped as it is read."""
    dtypes = {f: np.float64 for f in FEATURES}
    dtypes.update({"is_fraud": np.int8, "transaction_id": str, "customer_id": str, "terminal_id": str})
    parts = []
    # pandas 3 parses decimals correctly rounded by default (its float_precision="round_trip" is deprecated).
    for chunk in pd.read_csv(path, dtype=dtypes, chunksize=250_000):
        day = chunk["event_time"] // DAY_MS
        parts.append(chunk[(day >= first_day) & (day < end_day)])
    df = pd.concat(parts, ignore_index=True)
    # The live path's exact Float32 values (the CSV holds their shortest round-trip decimals).
    for f in FEATURES:
        df[f] = df[f].astype(np.float32)
    df["day"] = (df["event_time"] // DAY_MS).astype(np.int64)
    return df


def known_compromised(history: pd.DataFrame, d0: int) -> list[set]:
    """For each test day k (0-based) of the split whose training week starts on day d0: the cards known to
    be compromised by then (fraud in the training week, or on a delay day reported by test day k)."""
    train = history[(history.day >= d0) & (history.day < d0 + TRAIN_DAYS)]
    known = set(train.loc[train.is_fraud == 1, "customer_id"])
    out = []
    for k in range(TEST_DAYS):
        # Fraud on delay day k - 1 is reported by test day k (a 7-day delay).
        delay_day = history[history.day == d0 + TRAIN_DAYS + k - 1]
        known = known | set(delay_day.loc[delay_day.is_fraud == 1, "customer_id"])
        out.append(known)
    return out


def train_rows(df: pd.DataFrame, d0: int) -> pd.DataFrame:
    return df[(df.day >= d0) & (df.day < d0 + TRAIN_DAYS)]


def test_rows(history: pd.DataFrame, week: pd.DataFrame, d0: int) -> pd.DataFrame:
    """The handbook's test set: rows of `week` on the 7 days after the delay, known-compromised cards
    removed; `history` supplies the training week and delay days."""
    known = known_compromised(history, d0)
    tests = []
    for k in range(TEST_DAYS):
        day = week[week.day == d0 + TRAIN_DAYS + DELAY_DAYS + k]
        tests.append(day[~day.customer_id.isin(known[k])])
    return pd.concat(tests)


def split(df: pd.DataFrame, d0: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """get_train_test_set on one frame that holds the training week, the delay and the test week."""
    return train_rows(df, d0), test_rows(df, df, d0)


def card_precision_top_k(day: np.ndarray, customer: np.ndarray, y: np.ndarray, score: np.ndarray, k=100) -> float:
    """Handbook definition: per day, each card scored by its max score; precision of the top k cards,
    cards detected on earlier days removed; averaged over the days."""
    frame = pd.DataFrame({"day": day, "customer": customer, "y": y, "score": score})
    detected: set = set()
    per_day = []
    for d in sorted(frame.day.unique()):
        f = frame[(frame.day == d) & ~frame.customer.isin(detected)]
        cards = f.groupby("customer").agg(score=("score", "max"), y=("y", "max")).reset_index()
        cards = cards.sort_values(["score", "customer"], ascending=[False, True], kind="mergesort").head(k)
        hits = cards.loc[cards.y == 1, "customer"]
        per_day.append(len(hits) / k)
        detected |= set(hits)
    return float(np.mean(per_day))


def metrics(frame: pd.DataFrame, score: np.ndarray) -> dict:
    y = frame.is_fraud.to_numpy()
    return {
        "auc_roc": float(roc_auc_score(y, score)),
        "average_precision": float(average_precision_score(y, score)),
        "card_precision_at_100": card_precision_top_k(
            frame.day.to_numpy(), frame.customer_id.to_numpy(), y, score
        ),
    }
