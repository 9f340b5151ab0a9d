"""Which ideas close the style gap? Train variants on the same data and score every set.

Run from the repository root (about 5 minutes on 2 cores):

    python benchmarks/ablation.py            # writes benchmarks/ablation.md

Variants (each a fresh model fitted without a seeded fifth of the tariff corpus; fusion
parameters re-fitted on the dev lines and that fifth exactly as ``dualuse train`` does, so
only the named idea changes):

* ``nomenclature only``: TF-IDF word + char n-grams + LR on the tariff corpus alone;
* ``+ synthetic positives``: plus invoice-style lines generated from the taxonomy;
* ``+ hard negatives``: plus dressed neighbouring products (the shipped recipe);
* ``word n-grams only``: the shipped recipe without character n-grams;
* ``model only`` / ``keyword only``: the shipped model without keywords / the taxonomy alone.

The evaluation sets are only scored here, never used to fit anything.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from dualuse.engine import Engine
from dualuse.fusion import FusionConfig
from dualuse.model import FittedModel
from dualuse.normalize import fold
from dualuse.taxonomy import default_taxonomy
from dualuse.training.estimator import TextClassifier
from dualuse.training.evaluate import DEV_SET, EVAL_SETS, load_set, metrics
from dualuse.training.train import SEED, _dev, _holdout_split, fit_fusion, fusion_set, training_frame

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


def _sets() -> dict[str, pd.DataFrame]:
    sets = {name: load_set(DATA, name) for name in EVAL_SETS}
    sets["dev (tuning)"] = load_set(DATA, DEV_SET)
    return sets


def _score(engine: Engine, frame: pd.DataFrame) -> dict:
    preds = [c or "none" for c in engine.score(frame["text"].tolist()).category]
    return metrics(frame["label"].tolist(), preds)


def main() -> int:
    tax = default_taxonomy()
    full = training_frame(DATA, tax, seed=SEED)
    # as in `dualuse train`: the fusion is fitted on the dev lines and a held-out fifth of the
    # tariff corpus, so every variant's model is fitted without that fifth
    tariff = ~full["source"].str.startswith("synthetic")
    fit_part, held_out = _holdout_split(full[tariff], SEED)
    full = pd.concat([fit_part, full[~tariff]])
    is_nom = ~full["source"].str.startswith("synthetic")
    is_neg = full["source"] == "synthetic:negative"
    dev = _dev(DATA)
    variants = {
        "nomenclature only": (full[is_nom], {}),
        "+ synthetic positives": (full[~is_neg], {}),
        "+ hard negatives (shipped recipe)": (full, {}),
        "word n-grams only": (full, {"char_ngram_range": None}),
    }
    sets = _sets()
    rows = []
    shipped_engine = None
    for name, (frame, params) in variants.items():
        t0 = time.perf_counter()
        clf = TextClassifier(random_state=SEED, **params).fit([fold(t) for t in frame["text"]], frame["label"].tolist())
        engine = Engine(tax, FittedModel(clf, FusionConfig(), name, "-"))
        fusion_sets = [
            fusion_set(engine, "dev", dev["text"].tolist(), dev["label"].tolist()),
            fusion_set(engine, "tariff_holdout", held_out["text"].tolist(), held_out["label"].tolist()),
        ]
        engine.fusion, _ = fit_fusion(fusion_sets, FusionConfig())
        secs = time.perf_counter() - t0
        rows.append((name, secs, {s: _score(engine, f) for s, f in sets.items()}))
        if name.startswith("+ hard negatives"):
            shipped_engine = engine
        print(f"{name}: {secs:.0f} s", file=sys.stderr, flush=True)
    assert shipped_engine is not None
    model_only = Engine(tax, shipped_engine.model, replace(shipped_engine.fusion, keyword_weight=0.0))
    rows.append(("model only (no keywords)", 0.0, {s: _score(model_only, f) for s, f in sets.items()}))
    keyword_only = Engine(tax, None)
    rows.append(("keyword only (taxonomy)", 0.0, {s: _score(keyword_only, f) for s, f in sets.items()}))

    names = list(sets)
    lines = [
        f"# Ablation: what closes the style gap ({date.today().isoformat()})",
        "",
        "Command: `python benchmarks/ablation.py`. Macro-F1 (false-alarm rate on `none` rows). "
        "Fusion parameters re-fitted per variant on the dev lines and a tariff hold-out; evaluation sets only scored. "
        "`dev (tuning)` is in-sample for the fusion fit and the taxonomy: not a generalisation estimate.",
        "",
        "| variant | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for name, _secs, res in rows:
        cells = []
        for s in names:
            m = res[s]
            fa = "-" if m["false_alarm_rate"] is None else f"{m['false_alarm_rate']:.1%}"
            cells.append(f"{m['macro_f1']:.3f} ({fa})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    out = ROOT / "benchmarks" / "ablation.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
