"""Screen ideas for the UK trader terms with the ablation protocol, one fit per variant.

Run from the repository root:

    python benchmarks/style_gap.py VARIANT [VARIANT ...]     # one JSON line per variant on stdout

Protocol (as ``benchmarks/ablation.py``): a model fitted without the seeded tariff
hold-out fifth; fusion fitted on the dev lines and that fifth (plus, for some variants,
more sets made from the training corpus); dev figures are the fitter's 5-fold CV.
Evaluation sets are only scored, through :func:`dualuse.training.evaluate.evaluate`, and only
aggregate figures (macro-F1, risk recall, FA, per-class recall) are printed: no row of an
evaluation set is read or shown here. Fitted models are cached in .cache/style_gap/ (git-ignored).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from dualuse import train as T
from dualuse.engine import Engine
from dualuse.fusion import FusionConfig
from dualuse.model import FittedModel
from dualuse.normalize import fold
from dualuse.taxonomy import default_taxonomy, load_taxonomy
from dualuse.training.estimator import TextClassifier
from dualuse.training.evaluate import evaluate, metrics

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
# fitted screening models, keyed by their options; inside the (git-ignored) repository, never a
# shared temporary directory, because the cache is unpickled
CACHE = ROOT / ".cache" / "style_gap"

# variant -> (training options, classifier params, fusion options)
VARIANTS: dict[str, dict] = {
    "base": {},
    "short_forms": {"short_forms": True},
    "fusion_trader_set": {"fusion_short": True},
    "short_forms+fusion_trader_set": {"short_forms": True, "fusion_short": True},
    "bare": {"bare": True},
    "short_forms+bare": {"short_forms": True, "bare": True},
}


def _variant(name: str) -> dict:
    if name in VARIANTS:
        return VARIANTS[name]
    return json.loads(name)  # ad-hoc: a JSON dict of options


def run(name: str) -> dict:
    opt = _variant(name)
    tax = load_taxonomy(opt["taxonomy"]) if opt.get("taxonomy") else default_taxonomy()
    T.BARE_PLURALS = opt.get("bare_plurals", False)
    frame = T.training_frame(DATA, tax, seed=T.SEED, short_forms=opt.get("short_forms", False), bare=opt.get("bare", False))
    if opt.get("short_cap") is not None:
        T.SHORT_FORMS_NONE_CAP = opt["short_cap"]
    # the split of `dualuse train`: no short form of a held-out line reaches the fitted model
    train_frame, held_out = T.probe_split(frame, T.SEED)
    # JSON has no tuples; scikit-learn's n-gram ranges must be tuples
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in opt.get("clf", {}).items()}
    key = json.dumps(
        {
            "short": opt.get("short_forms", False),
            "bare": opt.get("bare", False),
            "bare_plurals": opt.get("bare_plurals", False),
            "cap": opt.get("short_cap"),
            "tax": tax.sha256,
            "clf": params,
            "rows": hashlib.sha256("\n".join(train_frame["label"] + "\t" + train_frame["text"]).encode()).hexdigest(),
        },
        sort_keys=True,
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.joblib"
    t0 = time.perf_counter()
    if path.exists() and joblib.load(path)[0] == key:
        clf = joblib.load(path)[1]
    else:
        clf = TextClassifier(random_state=T.SEED, **params).fit(
            [fold(t) for t in train_frame["text"]], train_frame["label"].tolist()
        )
        joblib.dump((key, clf), path)
    fit_s = time.perf_counter() - t0
    engine = Engine(tax, FittedModel(clf, FusionConfig(), name, "-"))
    dev = T._dev(DATA)
    sets = [
        T.fusion_set(engine, "dev", dev["text"].tolist(), dev["label"].tolist()),
        T.fusion_set(engine, "tariff_holdout", held_out["text"].tolist(), held_out["label"].tolist()),
    ]
    if opt.get("fusion_short"):
        short = T.short_form_frame(held_out, none_cap=None)
        short = short[~short["text"].isin(set(train_frame["text"]))]
        sets.append(T.fusion_set(engine, "tariff_short", short["text"].tolist(), short["label"].tolist()))
    cv = T._cross_validated(sets, FusionConfig(), T.SEED)
    fusion, fit_report = T.fit_fusion(sets, FusionConfig())
    if "fusion" in opt:  # fixed override, e.g. {"keyword_weight": 3}
        fusion = replace(fusion, **opt["fusion"])
    engine.fusion = fusion
    if opt.get("probe"):
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import trader_probe  # hand-written diagnostic list (domain knowledge), not an evaluation set

        flat = [(t, lbl) for lbl, ts in trader_probe.PROBE.items() for t in ts]
        cats = engine.score([t for t, _ in flat]).category
        wrong: dict = {}
        for (t, lbl), c in zip(flat, cats):
            if c != lbl:
                wrong.setdefault(lbl, []).append(f"{t}->{c}")
        print(json.dumps(wrong), file=sys.stderr)
    rep = evaluate(DATA, engine=engine, include_dev=False)
    out = {"variant": name, "fusion": fusion.describe(), "fit_s": round(fit_s, 1), "train_rows": len(train_frame)}
    terms_path = DATA / "dev" / "trade_terms.tsv"
    if terms_path.exists():  # a tuning set (short terms from LABELS.md), so its rows may be shown
        terms = pd.read_csv(terms_path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
        cats = engine.score(terms["text"].tolist()).category
        m = metrics(terms["label"].tolist(), cats)
        out["dev_trade_terms"] = {
            "f1": m["macro_f1"],
            "fa": m["false_alarm_rate"],
            "recall": {c: v["recall"] for c, v in m["per_class"].items() if v["support"]},
        }
        wrong = [f"{t} [{lbl}->{c}]" for t, lbl, c in zip(terms["text"], terms["label"], cats) if c != lbl]
        print(json.dumps({"variant": name, "dev_trade_terms_wrong": wrong}), file=sys.stderr)
    for s, m in rep["sets"].items():
        out[s] = {
            "f1": m["macro_f1"],
            "rr": m["risk_recall"],
            "fa": m["false_alarm_rate"],
            "recall": {c: v["recall"] for c, v in m["per_class"].items() if v["support"]},
            "cm": m["confusion_matrix"]["matrix"],
        }
    out["cv"] = {k: v for k, v in cv.items()}
    out["fit"] = fit_report
    return out


def main(argv: list[str]) -> int:
    for name in argv or ["base"]:
        print(json.dumps(run(name)), flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main(sys.argv[1:]))
