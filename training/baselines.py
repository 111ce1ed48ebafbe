"""The Fraud Detection Handbook's logistic-regression and random-forest baselines, rerun on our draw.

The recipe is the handbook's, chapter 3.4 "Baseline fraud detection system"
(Chapter_3_GettingStarted/BaselineModeling.ipynb and Chapter_References/shared_functions.py in
github.com/Fraud-Detection-Handbook/fraud-detection-handbook):
  * get_train_test_set: train 2018-07-25..31, 7-day delay, test 2018-08-08..14, known-compromised cards
    removed (training/protocol.py);
  * fit_model_and_get_predictions(..., scale=True): a StandardScaler fitted on the training week, applied
    to both weeks;
  * sklearn.linear_model.LogisticRegression(random_state=0) and
    sklearn.ensemble.RandomForestClassifier(random_state=0, n_jobs=-1), library defaults otherwise
    (lbfgs, C=1, 100 iterations; 100 trees, sqrt features, unlimited depth). n_jobs only spreads the
    trees over cores: with random_state fixed the forest is the same for any n_jobs.

Writes one CSV row per test transaction (transaction_id, then each model's fraud probability) for
`fraudscore evaluate --draws`, which computes every metric with the same code as for the champion.
Usage:

  training/.venv/bin/python training/baselines.py --rows data/sim/rows.csv --out data/sim/baseline-scores.csv
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from protocol import DELAY_DAYS, HANDBOOK_FEATURES, TEST_DAYS, TRAIN_DAYS, day_of, load_days, metrics, split

RECIPES = {
    "logistic_regression": lambda jobs: LogisticRegression(random_state=0),
    "random_forest": lambda jobs: RandomForestClassifier(random_state=0, n_jobs=jobs),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", required=True, help="training-set CSV from `fraudscore backfill`")
    ap.add_argument("--out", required=True, help="CSV of test-week scores to write")
    ap.add_argument("--train-start", default="2018-07-25")
    ap.add_argument("--jobs", type=int, default=2, help="cores for the random forest")
    args = ap.parse_args()
    t0 = time.time()
    d0 = day_of(args.train_start)
    df = load_days(args.rows, d0, d0 + TRAIN_DAYS + DELAY_DAYS + TEST_DAYS)
    train, test = split(df, d0)
    # The handbook's frames are in transaction order; keep that order for the fit.
    train = train.sort_values("event_time", kind="mergesort")
    # The recipes are the handbook's, on the handbook's 15 features (not the champion's feature set).
    scaler = StandardScaler().fit(train[HANDBOOK_FEATURES].to_numpy(np.float64))
    x_train = scaler.transform(train[HANDBOOK_FEATURES].to_numpy(np.float64))
    x_test = scaler.transform(test[HANDBOOK_FEATURES].to_numpy(np.float64))
    y_train = train.is_fraud.to_numpy()
    out = pd.DataFrame({"transaction_id": test.transaction_id.to_numpy()})
    for name, make in RECIPES.items():
        t = time.time()
        model = make(args.jobs).fit(x_train, y_train)
        out[name] = model.predict_proba(x_test)[:, 1]
        m = metrics(test, out[name].to_numpy())
        print(f"  {name:20s} AUC {m['auc_roc']:.3f} AP {m['average_precision']:.3f} "
              f"CP@100 {m['card_precision_at_100']:.3f} ({time.time() - t:.1f} s)", flush=True)
    out.to_csv(args.out, index=False, float_format="%.17g")
    print(f"wrote {args.out}: {len(out):,} test rows, sklearn {sklearn.__version__}, {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
