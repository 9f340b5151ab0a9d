"""Training the default model from ``data/``: one command, deterministic, under 10 minutes.

``dualuse train`` (or :func:`train`) does, in order:

1. reads the labelled nomenclature corpus (``data/corpus/nomenclature.csv``, built by
   ``dualuse data build`` from the training sources only);
2. adds seeded invoice-style lines generated from the taxonomy and the hard-negative list
   (:mod:`dualuse.synth`);
3. fits :class:`~dualuse.model.TextClassifier` on the folded texts;
4. fits the fusion parameters (keyword weight, temperature) on the hand-written
   development lines (``data/dev/invoice_lines.tsv``): the keyword weight by macro-F1, the
   temperature by log-loss (calibration). Five-fold cross-validated figures are recorded
   beside the in-sample ones so nobody mistakes one for the other;
5. writes ``model.pkl`` and ``manifest.json`` (versions, classes, hashes of corpus,
   taxonomy and model, fusion parameters, metrics).

No evaluation-only set is read here.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .categories import CATEGORIES
from .engine import Engine, FusionConfig
from .model import FittedModel, TextClassifier
from .normalize import fold
from .persistence import save_model
from .synth import generate, read_negatives
from .taxonomy import Taxonomy, default_taxonomy

__all__ = ["train", "fit_fusion", "training_frame", "macro_f1", "SEED"]

log = logging.getLogger(__name__)
SEED = 20240412  # fixed: same data + seed -> same model

KEYWORD_WEIGHTS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
TEMPERATURES = tuple(np.round(np.arange(0.4, 3.01, 0.1), 2))


def macro_f1(y_true: list[str] | np.ndarray, y_pred: list[str] | np.ndarray) -> float:
    """Macro-averaged F1 over the four categories (a category absent from both counts as 0)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    f1s = []
    for c in CATEGORIES:
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


def training_frame(data_dir: Path, taxonomy: Taxonomy, *, seed: int = SEED) -> pd.DataFrame:
    """The full training table: nomenclature corpus + synthetic lines (text, label, source)."""
    corpus = pd.read_csv(data_dir / "corpus" / "nomenclature.csv", dtype=str, keep_default_na=False)
    negatives = read_negatives(data_dir / "synthetic" / "negatives.txt")
    synth = pd.DataFrame(list(generate(taxonomy, negatives, seed=seed)), columns=["text", "label", "source"])
    frame = pd.concat([corpus[["text", "label", "source"]], synth], ignore_index=True)
    return frame


def _dev(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / "dev" / "invoice_lines.tsv", sep="\t", dtype=str, keep_default_na=False, quoting=3)


def fit_fusion(engine: Engine, texts: list[str], labels: list[str], base: FusionConfig) -> tuple[FusionConfig, dict]:
    """Choose the keyword weight (macro-F1) then the temperature (log-loss) on labelled lines."""
    y = np.array([CATEGORIES.index(lbl) for lbl in labels])
    best = None
    for kw in KEYWORD_WEIGHTS:
        engine.fusion = replace(base, keyword_weight=kw, temperature=1.0)
        res = engine.score(texts)
        pred = [c or "none" for c in res.category]
        score = macro_f1(labels, pred)
        if best is None or score > best[0] + 1e-12:
            best = (score, kw)
    assert best is not None
    kw = best[1]
    best_t = None
    for t in TEMPERATURES:
        engine.fusion = replace(base, keyword_weight=kw, temperature=float(t))
        p = engine.score(texts).probabilities
        nll = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1))))
        if best_t is None or nll < best_t[0] - 1e-12:
            best_t = (nll, float(t))
    assert best_t is not None
    fitted = replace(base, keyword_weight=kw, temperature=best_t[1])
    engine.fusion = fitted
    return fitted, {"dev_macro_f1_in_sample": round(best[0], 4), "dev_log_loss_in_sample": round(best_t[0], 4)}


def _cross_validated(engine: Engine, texts: list[str], labels: list[str], base: FusionConfig, seed: int) -> dict:
    """Five-fold estimate of the fusion fit: parameters chosen on 4/5, scored on the rest."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    folds = np.array_split(order, 5)
    preds = np.empty(len(texts), dtype=object)
    for k in range(5):
        test = set(folds[k].tolist())
        tr = [i for i in order if i not in test]
        fit_fusion(engine, [texts[i] for i in tr], [labels[i] for i in tr], base)
        te = sorted(test)
        res = engine.score([texts[i] for i in te])
        for i, c in zip(te, res.category):
            preds[i] = c or "none"
    y = np.asarray(labels)
    none = y == "none"
    return {
        "dev_macro_f1_cv5": round(macro_f1(labels, preds), 4),
        "dev_false_alarm_rate_cv5": round(float(np.mean(preds[none] != "none")), 4) if none.any() else None,
    }


def train(
    data_dir: str | Path = "data",
    out_dir: str | Path | None = None,
    *,
    taxonomy: Taxonomy | None = None,
    seed: int = SEED,
    classifier: TextClassifier | None = None,
) -> FittedModel:
    """Train the model from ``data_dir`` and write it (with its manifest) to ``out_dir``.

    ``out_dir`` defaults to the package's ``dualuse/data/model`` (the embedded default).
    Returns the fitted model, ready for :class:`~dualuse.engine.Engine`.
    """
    from .persistence import load_model, packaged_model_dir

    data_dir = Path(data_dir)
    out = Path(out_dir) if out_dir is not None else packaged_model_dir()
    taxonomy = taxonomy or default_taxonomy()
    t0 = time.perf_counter()
    frame = training_frame(data_dir, taxonomy, seed=seed)
    corpus_sha = hashlib.sha256(
        "\n".join(frame["label"] + "\t" + frame["text"]).encode("utf-8")
    ).hexdigest()
    texts = [fold(t) for t in frame["text"]]
    clf = classifier if classifier is not None else TextClassifier(random_state=seed)
    log.info("fitting on %d lines (%s)", len(texts), frame["label"].value_counts().to_dict())
    clf.fit(texts, frame["label"].tolist())
    t_fit = time.perf_counter() - t0

    dev = _dev(data_dir)
    dev_texts, dev_labels = dev["text"].tolist(), dev["label"].tolist()
    provisional = FittedModel(clf, FusionConfig(), "provisional", "0" * 64)
    engine = Engine(taxonomy, provisional)
    cv = _cross_validated(engine, dev_texts, dev_labels, FusionConfig(), seed)
    fusion, fit_metrics = fit_fusion(engine, dev_texts, dev_labels, FusionConfig())
    model_only = [CATEGORIES[i] for i in np.argmax(clf.predict_proba([fold(t) for t in dev_texts]), axis=1)]

    counts = frame.groupby(["source", "label"]).size()
    by_source: dict[str, int] = {}
    for (src, _), n in counts.items():
        key = src.split(":")[0]
        by_source[key] = by_source.get(key, 0) + int(n)
    metrics = {
        **fit_metrics,
        **cv,
        "dev_macro_f1_model_only": round(macro_f1(dev_labels, model_only), 4),
        "fit_seconds": round(t_fit, 1),
    }
    model_id = f"dualuse-tfidf-lr-{taxonomy.version}-s{seed}"
    save_model(
        clf,
        out,
        model_id=model_id,
        fusion=fusion,
        corpus_sha256=corpus_sha,
        taxonomy_sha256=taxonomy.sha256,
        taxonomy_version=taxonomy.version,
        training={
            "seed": seed,
            "rows": int(len(frame)),
            "rows_per_label": {k: int(v) for k, v in frame["label"].value_counts().sort_index().items()},
            "rows_per_source": dict(sorted(by_source.items())),
            "classifier_params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in clf.get_params().items()},
        },
        metrics=metrics,
    )
    log.info("model written to %s in %.1f s: %s", out, time.perf_counter() - t0, metrics)
    return load_model(out)
