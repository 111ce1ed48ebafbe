"""Offline probe (docs/model.md, "What was measured before choosing"): candidate features against the
handbook's random forest on CP@100, AP and AUC, one fixed LightGBM configuration, no grid.

The candidates are recomputed in pandas from each row's raw columns: approximations of the product's
definitions (the terminal recency by row order, capped at 30 days), for choosing, not for claims; the claims
come from `fraudscore evaluate --draws`. Usage, on the folders `evaluate --draws` leaves (rows.csv and
baseline-scores.csv per seed; the frames are cached next to this run as <seed>-b.pkl):

  training/.venv/bin/python training/feature_probe.py data/draws 2018,2019,2020,2021,2022 v2,v3,v2+timing
"""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, pandas as pd
import lightgbm as lgb
from sklearn.metrics import average_precision_score, roc_auc_score
import protocol
from protocol import HANDBOOK_FEATURES, day_of, DAY_MS, split, card_precision_top_k
d0 = day_of("2018-07-25")
vd0 = day_of("2018-07-11")
DELAY = 7 * DAY_MS

DRAWS = sys.argv[1] if len(sys.argv) > 1 else "data/draws"


def load(seed):
    cache = f"{DRAWS}/{seed}-b.pkl"
    if os.path.exists(cache):
        return pd.read_pickle(cache)
    protocol.FEATURES = HANDBOOK_FEATURES
    df = protocol.load_days(f"{DRAWS}/{seed}/rows.csv", vd0 - 45, d0 + 21)
    df = feats(df)
    df.to_pickle(cache)
    return df

def feats(df):
    df = df.sort_values(["event_time", "transaction_id"], kind="mergesort").reset_index(drop=True)
    df["amount_to_customer_avg_7d"] = df.amount / df.customer_avg_amount_7d
    df["amount_to_customer_avg_30d"] = df.amount / df.customer_avg_amount_30d
    c = df.sort_values(["customer_id", "event_time", "transaction_id"], kind="mergesort")
    idx = pd.to_datetime(c.event_time, unit="ms")
    tmp = pd.DataFrame({"c": c.customer_id.values, "r": c.amount_to_customer_avg_30d.values.astype(float),
                        "h": (c.amount_to_customer_avg_30d.values > 2.5).astype(float), "one": 1.0,
                        "a": c.amount.values.astype(float)}, index=idx.values)
    g = tmp.groupby("c", sort=True)
    c = c.assign(customer_nb_high_ratio_7d=g["h"].rolling("7D").sum().to_numpy(),
                 customer_max_ratio_7d=g["r"].rolling("7D").max().to_numpy(),
                 customer_nb_tx_1h=g["one"].rolling("1h").sum().to_numpy(),
                 customer_amount_1h=g["a"].rolling("1h").sum().to_numpy())
    prev = c.groupby("customer_id").event_time.shift(1)
    c["time_since_prev_s"] = ((c.event_time - prev) / 1000).fillna(40 * 86400)
    c["first_use_of_terminal"] = (~(c.customer_id + "|" + c.terminal_id).duplicated()).astype(float)
    df = c.sort_values(["event_time", "transaction_id"], kind="mergesort").reset_index(drop=True)
    # terminal: most recent known fraud (event time <= t - 7d), and label of the last known tx / last 3 known
    term = df[["terminal_id", "event_time", "is_fraud"]].sort_values(["terminal_id", "event_time"], kind="mergesort")
    term["f3"] = term.groupby("terminal_id").is_fraud.transform(lambda s: s.rolling(3, min_periods=1).sum())
    term["n3"] = term.groupby("terminal_id").is_fraud.transform(lambda s: s.rolling(3, min_periods=1).count())
    term = term.rename(columns={"event_time": "kt"}).sort_values("kt", kind="mergesort")
    q = pd.DataFrame({"terminal_id": df.terminal_id, "k": df.event_time - DELAY, "i": np.arange(len(df))}).sort_values("k", kind="mergesort")
    last = pd.merge_asof(q, term[["terminal_id", "kt", "is_fraud", "f3", "n3"]], left_on="k", right_on="kt", by="terminal_id", direction="backward")
    fr = term[term.is_fraud == 1][["terminal_id", "kt"]].rename(columns={"kt": "ft"})
    lastf = pd.merge_asof(q, fr, left_on="k", right_on="ft", by="terminal_id", direction="backward")
    last = last.set_index("i").sort_index(); lastf = lastf.set_index("i").sort_index()
    age = (lastf.k - lastf.ft) / DAY_MS
    df["terminal_days_since_known_fraud"] = age.fillna(30).clip(upper=30).to_numpy()
    df["terminal_last_known_fraud"] = last.is_fraud.fillna(0).to_numpy()
    df["terminal_fraud_last3"] = last.f3.fillna(0).to_numpy()
    df["terminal_share_last3"] = (last.f3 / last.n3).fillna(0).to_numpy()
    df["terminal_days_since_known_tx"] = ((last.k - last.kt) / DAY_MS).fillna(30).clip(upper=30).to_numpy()
    df["terminal_last_known_is_fraud"] = ((df.terminal_days_since_known_fraud == df.terminal_days_since_known_tx) & (df.terminal_days_since_known_tx < 30)).astype(float)
    return df

V2 = HANDBOOK_FEATURES + ["amount_to_customer_avg_7d", "amount_to_customer_avg_30d", "customer_nb_high_ratio_7d", "customer_max_ratio_7d"]
SETS = {
    "v2": V2,
    "v2+timing": V2 + ["time_since_prev_s", "customer_nb_tx_1h", "customer_amount_1h", "first_use_of_terminal"],
    "v2+tknown": V2 + ["terminal_days_since_known_fraud", "terminal_fraud_last3"],
    "v2+k3": V2 + ["terminal_days_since_known_fraud", "terminal_fraud_last3", "terminal_days_since_known_tx"],
    "v2+k3last": V2 + ["terminal_days_since_known_fraud", "terminal_last_known_fraud", "terminal_days_since_known_tx"],
    "v2+k4all": V2 + ["terminal_days_since_known_fraud", "terminal_fraud_last3", "terminal_last_known_fraud", "terminal_days_since_known_tx", "time_since_prev_s", "customer_nb_tx_1h", "customer_amount_1h", "first_use_of_terminal"],
    "v3": V2 + ["terminal_days_since_known_fraud", "terminal_days_since_known_tx", "terminal_fraud_last3", "terminal_last_known_is_fraud"],
    "v2+tknown4": V2 + ["terminal_days_since_known_fraud", "terminal_fraud_last3", "terminal_last_known_fraud", "terminal_days_since_known_tx"],
}
P = dict(num_leaves=15, learning_rate=0.05, n_estimators=100, min_child_samples=100)

def met(frame, s):
    y = frame.is_fraud.to_numpy()
    return (roc_auc_score(y, s), average_precision_score(y, s),
            card_precision_top_k(frame.day.to_numpy(), frame.customer_id.to_numpy(), y, s))

if __name__ == "__main__":
    sets = sys.argv[3].split(",") if len(sys.argv) > 3 else list(SETS)
    for seed in sys.argv[2].split(","):
        t0 = time.time()
        df = load(seed)
        df = df[df.day >= d0]
        train, test = split(df, d0)
        sc = pd.read_csv(f"{DRAWS}/{seed}/baseline-scores.csv").set_index("transaction_id")
        rf = sc.loc[test.transaction_id, "random_forest"].to_numpy()
        r = met(test, rf)
        print(f"{seed} RF        AUC {r[0]:.4f} AP {r[1]:.4f} CP {r[2]:.4f}   (load {time.time()-t0:.0f}s)", flush=True)
        for name in sets:
            F = SETS[name]
            m = lgb.LGBMClassifier(objective="binary", random_state=0, deterministic=True, force_row_wise=True, n_jobs=2, verbose=-1, **P)
            m.fit(train[F].to_numpy(np.float64), train.is_fraud.to_numpy())
            s = m.predict_proba(test[F].to_numpy(np.float32).astype(np.float64))[:, 1]
            r = met(test, s)
            print(f"{seed} {name:12s} AUC {r[0]:.4f} AP {r[1]:.4f} CP {r[2]:.4f}", flush=True)
