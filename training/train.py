"""Trains the LightGBM champion on the Fraud Detection Handbook's protocol and exports it to ONNX.

Protocol (handbook ch. 3 "baseline fraud detection system" and ch. 5 "validation strategies"):
  * training week 2018-07-25..31, then a 7-day delay (labels not yet known), test week 2018-08-08..14;
  * the test set leaves out cards (customers) known to be compromised: fraud in the training week, or
    fraud on a delay day that has been reported by that test day (the handbook's get_train_test_set);
  * hyper-parameters are chosen on an earlier split with the same shape, train 2018-07-11..17 ->
    validate 2018-07-25..31, never on the test week; REVIEW/DECLINE thresholds come from that split too.

The test week is out of reach until the choice is made: the first read of the CSV keeps only the days
before the test week, selection and the final fit see only those rows, and the test week's rows are read
from the file afterwards by a function that takes the frozen Selection as its argument.

Provenance: training refuses a dirty git tree (uncommitted changes) unless --allow-dirty is given; the
manifest records the commit, whether the tree was dirty, the grid, the selection rule and the validation
scores of every configuration.

Input: the backfill's CSV (fraudscore backfill), whose feature columns (feature set v3, protocol.FEATURES) are the live path's Float32
values written as round-trip decimals. Output: models/<name>/{model.onnx, manifest.json,
parity-sample.json} and a training report (default reports/training.json). Usage:

  training/.venv/bin/python training/train.py --rows data/sim/rows.csv --sim data/sim --out models/champion
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import onnx
import onnxmltools
import onnxruntime as ort
import pandas as pd
from onnxmltools.convert.common.data_types import FloatTensorType

from protocol import DELAY_DAYS, FEATURE_SET, FEATURES, TEST_DAYS, TRAIN_DAYS, day_of, load_days, metrics, split, test_rows, train_rows

SEED = 0

# Small on purpose: 2 shared cores, and the committed model must stay small (trees <= 300, leaves <= 31).
GRID = {
    "num_leaves": [7, 15, 31],
    "learning_rate": [0.05, 0.1],
    "n_estimators": [100, 300],
    "min_child_samples": [20, 100],
}
SELECTION_RULE = (
    "the grid configuration with the highest validation average precision rounded to 4 decimals; ties broken "
    "by the higher validation card precision@100, then by grid order (first wins)"
)


def selection_key(r: dict) -> tuple:
    # AP first, then CP@100: both threshold-free and sensitive to the top of the ranking.
    return (round(r["average_precision"], 4), r["card_precision_at_100"])


def fit(train: pd.DataFrame, params: dict) -> lgb.LGBMClassifier:
    model = lgb.LGBMClassifier(
        objective="binary",
        random_state=SEED,
        deterministic=True,
        force_row_wise=True,
        n_jobs=2,
        verbose=-1,
        **params,
    )
    model.fit(train[FEATURES].to_numpy(np.float64), train.is_fraud.to_numpy())
    return model


def proba(model: lgb.LGBMClassifier, frame: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(frame[FEATURES].to_numpy(np.float32).astype(np.float64))[:, 1]


@dataclasses.dataclass(frozen=True)
class Selection:
    """What the validation split decided; frozen, and the only key to the test week (read_test_week)."""

    params: tuple  # (name, value) pairs of the chosen configuration
    validation: tuple  # every configuration's validation scores, grid order
    chosen: dict
    review: float
    decline: float


def select(history: pd.DataFrame, validation_d0: int) -> Selection:
    """Grid search on the validation split and thresholds from it. `history` holds no test-week row."""
    vtrain, vtest = split(history, validation_d0)
    print(f"validation: train {len(vtrain):,} rows ({vtrain.is_fraud.sum()} fraud), "
          f"validate {len(vtest):,} ({vtest.is_fraud.sum()} fraud)", flush=True)
    results = []
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        params = dict(zip(keys, values))
        r = metrics(vtest, proba(fit(vtrain, params), vtest))
        results.append({"params": params, **r})
        print(f"  {params} -> AUC {r['auc_roc']:.4f} AP {r['average_precision']:.4f} "
              f"CP@100 {r['card_precision_at_100']:.4f}", flush=True)
    best = max(results, key=selection_key)
    print(f"chosen: {best['params']} (validation AUC {best['auc_roc']:.4f} AP {best['average_precision']:.4f} "
          f"CP@100 {best['card_precision_at_100']:.4f})", flush=True)
    # Thresholds on validation data: the validation model's scores on the validation week.
    vscore = proba(fit(vtrain, best["params"]), vtest)
    vy = vtest.is_fraud.to_numpy()
    review = threshold_at_fpr(vy, vscore, 0.01)
    decline = threshold_at_fpr(vy, vscore, 0.001)
    if not (0 < review < decline <= 1):
        raise SystemExit(f"thresholds out of order: review {review}, decline {decline}")
    chosen = {k: v for k, v in best.items() if k != "params"}
    return Selection(tuple(best["params"].items()), tuple(results), chosen, review, decline)


def read_test_week(rows: str, history: pd.DataFrame, d0: int, selection: Selection) -> pd.DataFrame:
    """The test week (handbook split), read from the file only now that `selection` is frozen."""
    if not isinstance(selection, Selection):
        raise TypeError("the test week opens only with a Selection")
    first = d0 + TRAIN_DAYS + DELAY_DAYS
    return test_rows(history, load_days(rows, first, first + TEST_DAYS), d0)


def canonicalize(model: onnx.ModelProto, name: str) -> str:
    """Makes the export byte-reproducible and returns its content hash.

    onnxmltools names the graph with a random uuid and lists the opsets in no fixed order, so two exports of
    the same trees differ in those bytes only. The graph gets a fixed name and sorted opsets; the hash is
    taken with the name blanked, so it also identifies older exports (whose names are random) with the
    same content."""
    opsets = sorted((o.domain, o.version) for o in model.opset_import)
    del model.opset_import[:]
    for domain, version in opsets:
        o = model.opset_import.add()
        o.domain, o.version = domain, version
    model.graph.name = ""
    digest = hashlib.sha256(model.SerializeToString(deterministic=True)).hexdigest()
    model.graph.name = name
    return digest


def git_state() -> tuple[str, bool, list[str]]:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=here, capture_output=True, text=True,
                                check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True, ["(not a git checkout)"]
    return commit, len(status) > 0, [line[3:] for line in status]


def threshold_at_fpr(y: np.ndarray, score: np.ndarray, fpr: float) -> float:
    """Smallest threshold t (decide when score >= t) whose false-positive rate is at most fpr."""
    genuine = np.sort(score[y == 0])[::-1]
    allowed = int(np.floor(fpr * len(genuine)))
    # Scores strictly above the (allowed+1)-th highest genuine score flag at most `allowed` genuines.
    t = float(np.nextafter(genuine[allowed], np.inf))
    return t


def float32_thresholds(booster: lgb.Booster) -> lgb.Booster:
    """The same trees with every split threshold t replaced by the largest float32 <= t.

    LightGBM splits on `x <= t` with t a double; ONNX's TreeEnsemble stores t as a float32 rounded to
    nearest, which can round up past a feature value and send it the other way. For float32 x,
    `x <= t` and `x <= floor32(t)` are the same test, so this booster scores float32 inputs exactly
    as the original does, and its thresholds convert to ONNX without rounding."""
    lines = booster.model_to_string().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("threshold="):
            out = []
            for tok in line[len("threshold="):].split(" "):
                d = float(tok)
                f = np.float32(d)
                if float(f) > d:
                    f = np.nextafter(f, np.float32(-np.inf))
                out.append(repr(float(f)))
            lines[i] = "threshold=" + " ".join(out)
    # tree_sizes holds each tree's byte length, which the new text changes; without it LightGBM parses
    # the trees one after another.
    lines = [line for line in lines if not line.startswith("tree_sizes=")]
    return lgb.Booster(model_str="\n".join(lines))


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", required=True, help="training-set CSV from `fraudscore backfill`")
    ap.add_argument("--sim", help="simulate output folder (simulation.json, *.avro) for provenance")
    ap.add_argument("--out", default="models/champion")
    ap.add_argument("--name", default="champion")
    ap.add_argument("--version", default="3.0.0")  # 3: feature set v3
    ap.add_argument("--train-start", default="2018-07-25")
    ap.add_argument("--validation-train-start", default="2018-07-11")
    ap.add_argument("--report", default="reports/training.json", help="where to write the training report")
    ap.add_argument("--allow-dirty", action="store_true",
                    help="train from a git tree with uncommitted changes (the manifest records it)")
    args = ap.parse_args()
    t0 = time.time()
    commit, dirty, dirty_paths = git_state()
    if dirty and not args.allow_dirty:
        shown = ", ".join(dirty_paths[:5]) + (" …" if len(dirty_paths) > 5 else "")
        print(f"train.py: the git tree has uncommitted changes ({shown}); commit them, or pass --allow-dirty "
              "to train anyway (the manifest then records git_dirty: true)", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d0 = day_of(args.train_start)
    vd0 = day_of(args.validation_train_start)
    test_first = d0 + TRAIN_DAYS + DELAY_DAYS
    if vd0 + TRAIN_DAYS + DELAY_DAYS + TEST_DAYS > test_first:
        raise SystemExit("the validation split overlaps the test week")

    # Everything before the test week; the test week's rows are not read yet.
    history = load_days(args.rows, vd0, test_first)
    print(f"rows before the test week: {len(history):,} ({history.is_fraud.mean():.4%} fraud), "
          f"loaded in {time.time() - t0:.1f} s", flush=True)

    # 1. Hyper-parameters and thresholds on the validation split.
    selection = select(history, vd0)
    best_params = dict(selection.params)

    # 2. The champion: the chosen hyper-parameters, trained on the training week.
    train = train_rows(history, d0)
    model = fit(train, best_params)

    # 3. Only now the test week.
    test = read_test_week(args.rows, history, d0, selection)
    print(f"final: train {len(train):,} rows ({train.is_fraud.sum()} fraud), "
          f"test {len(test):,} ({test.is_fraud.sum()} fraud)", flush=True)
    score = proba(model, test)
    test_metrics = metrics(test, score)
    ty = test.is_fraud.to_numpy()
    print(f"test week: {test_metrics}", flush=True)

    # 4. ONNX: a [N, 2] probability tensor (zipmap off); the manifest reads column 1. The thresholds are
    # first snapped down to float32 (same decisions for the float32 inputs the product sends; see
    # float32_thresholds) so that the ONNX graph's float thresholds branch exactly as LightGBM does.
    booster = float32_thresholds(model.booster_)
    snapped = booster.predict(test[FEATURES].to_numpy(np.float32).astype(np.float64))
    if not np.array_equal(snapped, score):
        raise SystemExit("snapping thresholds to float32 changed LightGBM's scores")
    onx = onnxmltools.convert_lightgbm(
        booster,
        initial_types=[("features", FloatTensorType([None, len(FEATURES)]))],
        zipmap=False,
        target_opset=15,
    )
    onnx.checker.check_model(onx)
    canonical = canonicalize(onx, args.name)
    (out / "model.onnx").write_bytes(onx.SerializeToString(deterministic=True))
    sess = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    output_name = [o.name for o in sess.get_outputs() if o.name != "label"][0]
    onnx_score = sess.run([output_name], {input_name: test[FEATURES].to_numpy(np.float32)})[0][:, 1]
    onnx_diff = float(np.max(np.abs(onnx_score - score)))
    print(f"python onnxruntime vs lightgbm on the test week: max |diff| {onnx_diff:.3g}", flush=True)
    if onnx_diff > 1e-5:
        raise SystemExit("ONNX export does not reproduce LightGBM's scores")

    # 5. Baselines for drift are written after the manifest by `fraudscore baselines` (Node), with the one
    # histogram definition the live drift windows use (src/monitoring/histogram.ts): features on the
    # training week, the score on the delay week (rows the model has not seen, known without labels).
    gain = model.booster_.feature_importance(importance_type="gain")
    importance = {f: float(f"{g / gain.sum():.6g}") for f, g in zip(FEATURES, gain)}

    def at(threshold: float) -> dict:
        flagged = score >= threshold
        tp = int((flagged & (ty == 1)).sum())
        fp = int((flagged & (ty == 0)).sum())
        return {"precision": tp / max(tp + fp, 1), "recall": tp / max(int(ty.sum()), 1),
                "fpr": fp / max(int((ty == 0).sum()), 1)}

    review, decline = selection.review, selection.decline
    best_val = selection.chosen
    rv, dc = at(review), at(decline)
    amounts = test.amount_minor.to_numpy()
    fraud_amount = amounts[ty == 1].sum()
    manifest_metrics = {
        "auc_roc": test_metrics["auc_roc"],
        "average_precision": test_metrics["average_precision"],
        "card_precision_at_100": test_metrics["card_precision_at_100"],
        "validation_auc_roc": best_val["auc_roc"],
        "validation_average_precision": best_val["average_precision"],
        "validation_card_precision_at_100": best_val["card_precision_at_100"],
        "test_precision_at_review": rv["precision"],
        "test_recall_at_review": rv["recall"],
        "test_fpr_at_review": rv["fpr"],
        "test_precision_at_decline": dc["precision"],
        "test_recall_at_decline": dc["recall"],
        "test_fpr_at_decline": dc["fpr"],
        "test_fraud_amount_share_declined": float(amounts[(ty == 1) & (score >= decline)].sum() / fraud_amount),
        "test_transactions": int(len(test)),
        "test_frauds": int(ty.sum()),
        "train_transactions": int(len(train)),
        "train_frauds": int(train.is_fraud.sum()),
    }
    manifest_metrics = {k: float(f"{v:.6g}") for k, v in manifest_metrics.items()}

    data_files = {"rows": {"path": args.rows, "sha256": sha256(args.rows)}}
    sim_info = {}
    if args.sim:
        for name in ("transactions.avro", "labels.avro"):
            p = os.path.join(args.sim, name)
            if os.path.exists(p):
                data_files[name.split(".")[0]] = {"path": p, "sha256": sha256(p)}
        summary = os.path.join(args.sim, "simulation.json")
        if os.path.exists(summary):
            s = json.load(open(summary))
            sim_info = {k: s[k] for k in ("seed", "customers", "terminals", "days", "start_date", "label_delay_days",
                                          "transactions", "frauds") if k in s}
    validation_scores = [
        {**r["params"], **{k: float(f"{r[k]:.6g}") for k in ("auc_roc", "average_precision", "card_precision_at_100")}}
        for r in selection.validation
    ]

    manifest = {
        "name": args.name,
        "format": "onnx",
        "version": args.version,
        "description": (
            "LightGBM gradient-boosted trees on feature set v3 (the handbook's 15 features, 4 amount-anomaly "
            "features of the customer and 4 recency features of the terminal's known frauds), trained on 2018-07-25..31 of the "
            "default simulation (fraudscore simulate), exported with onnxmltools (zipmap off: output "
            "'probabilities' [N, 2], fraud probability in column 1). Thresholds: REVIEW at 1 % and DECLINE at "
            "0.1 % false-positive rate on the validation split (model trained 2018-07-11..17, scored on "
            "2018-07-25..31)."
        ),
        "file": "model.onnx",
        "input_name": input_name,
        "output_name": output_name,
        "output_column": 1,
        "feature_set": FEATURE_SET,
        "features": FEATURES,
        "thresholds": {"review": float(f"{review:.9g}"), "decline": float(f"{decline:.9g}")},
        "importance": importance,
        "baseline": None,  # filled in by `fraudscore baselines` below
        "metrics": manifest_metrics,
        "trained_on": {
            "data": data_files,
            "simulation": sim_info,
            "protocol": {
                "train": [args.train_start, "+7 days"],
                "delay_days": 7,
                "test": "the 7 days after the delay, known-compromised cards removed",
                "validation_train": [args.validation_train_start, "+7 days"],
                "baseline_features": "training week",
                "baseline_score": "delay week (unlabelled at training time)",
                "test_week_read": "after selection: the first read keeps only the days before the test week",
            },
            "hyperparameters": {**best_params, "objective": "binary", "random_state": SEED},
            "grid": GRID,
            "selection_rule": SELECTION_RULE,
            "validation_scores": validation_scores,
            "code": "training/train.py",
            "git_commit": commit,
            "git_dirty": dirty,
            **({"git_dirty_paths": dirty_paths[:50]} if dirty else {}),
            "lightgbm": lgb.__version__,
            "onnxmltools": onnxmltools.__version__,
            "python": sys.version.split()[0],
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "python_onnxruntime_max_abs_diff": onnx_diff,
            # The ONNX content with the graph name blanked and the opsets sorted (see canonicalize).
            "onnx_canonical_sha256": canonical,
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    subprocess.run(
        ["node", str(Path(__file__).resolve().parent.parent / "bin/fraudscore.js"), "baselines",
         "--rows", args.rows, "--model", str(out), "--train-start", args.train_start],
        check=True,
    )

    # 6. Parity sample: 150 random test rows and 50 test frauds (fixed seed), with LightGBM's scores.
    rs = np.random.RandomState(SEED)
    idx = np.concatenate([
        rs.choice(np.flatnonzero(ty == 0), 150, replace=False),
        rs.choice(np.flatnonzero(ty == 1), min(50, int(ty.sum())), replace=False),
    ])
    idx.sort()
    sample = test.iloc[idx]
    sample_scores = proba(model, sample)
    parity = {
        "description": "Feature rows (Float32 values, FEATURES order) from the test week and LightGBM's "
                       "Python predict_proba[:, 1] on them; test/scoring/champion-parity.test.ts checks that "
                       "ONNX Runtime in Node gives the same scores within 1e-5.",
        "features": FEATURES,
        "lightgbm": lgb.__version__,
        "transaction_ids": sample.transaction_id.tolist(),
        "rows": [[float(x) for x in row] for row in sample[FEATURES].to_numpy(np.float32)],
        "scores": [float(s) for s in sample_scores],
    }
    (out / "parity-sample.json").write_text(json.dumps(parity) + "\n")

    report = {
        "champion_test": test_metrics,
        "validation": list(selection.validation),
        "selection_rule": SELECTION_RULE,
        "chosen": best_params,
        "thresholds": {"review": review, "decline": decline, "at_review": rv, "at_decline": dc},
        "git_commit": commit,
        "git_dirty": dirty,
        "seconds": time.time() - t0,
    }
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}/model.onnx ({(out / 'model.onnx').stat().st_size:,} bytes), manifest.json, "
          f"parity-sample.json; {args.report}; {time.time() - t0:.1f} s")
    print(f"  champion AUC {test_metrics['auc_roc']:.3f} AP {test_metrics['average_precision']:.3f} "
          f"CP@100 {test_metrics['card_precision_at_100']:.3f} (test week; the handbook baselines on the same "
          "draw: training/baselines.py, or `fraudscore evaluate --draws N` across draws)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
