"""Training the default model from ``data/``: one command, deterministic, under 10 minutes.

``dualuse train`` (or :func:`train`) does, in order:

1. reads the labelled nomenclature corpus (``data/corpus/nomenclature.csv``, built by
   ``dualuse data build`` from the training sources only);
2. adds seeded invoice-style lines generated from the taxonomy and the hard-negative list
   (:mod:`dualuse.training.synth`), short trader forms of the tariff lines and the bare
   taxonomy terms and negative phrases (see docs/decisions.md, "Training lines");
3. fits :class:`~dualuse.training.estimator.TextClassifier` on the folded texts;
4. fits the fusion parameters (keyword weight, ``none`` bias, temperature) with a probe model
   that did not see them, on the hand-written tuning sets (:data:`FUSION_SETS`: invoice lines with
   their hard negatives, and short trade terms) and a held-out fifth of the tariff corpus:
   weight and bias by mean macro-F1, the temperature by log-loss (calibration). Five-fold cross-validated figures are
   recorded beside the in-sample ones so nobody mistakes one for the other;
   A team's labelled lines (``extra_labels``, :mod:`dualuse.training.extra_labels`) join
   both fits with a documented sample weight; they never join the fusion's fit sets;
5. writes the model as plain arrays and JSON (:mod:`dualuse.persistence`, format 2) with its
   manifest (hashes of every file, corpus and taxonomy, seed, fusion parameters, metrics).

Every fit runs with one BLAS thread (threadpoolctl, which scikit-learn installs), so thread
settings do not move the last bits of the coefficients; what a rebuild on another machine
reproduces is stated in the manifest's ``reproducibility`` note.

No evaluation-only set is read here.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from ..categories import CATEGORIES, NONE_INDEX
from ..engine import Engine
from ..fusion import FusionConfig, fuse
from ..model import FittedModel
from ..normalize import fold
from ..persistence import load_model, save_model
from ..scripts import SCRIPT_BUCKETS, script_of
from ..taxonomy import Taxonomy, default_taxonomy
from .corpus import ENGLISH_TRAINING_SOURCES
from .estimator import TextClassifier
from .evaluate import DEV_SET, load_set, macro_f1_from_confusion
from .extra_labels import EXTRA_LABEL_MAX_SHARE, EXTRA_SOURCE, extra_label_frame, sample_weights
from .synth import bare_terms, generate, read_negatives, short_forms

__all__ = ["train", "fit_fusion", "fusion_set", "FusionSet", "training_frame", "SEED"]

log = logging.getLogger(__name__)
SEED = 20240412  # fixed: same data + seed -> same model
REPRODUCIBILITY = (
    "Deterministic on one machine: the same data/ and seed give the same arrays and the same model "
    "sha256 (every fit runs with one BLAS thread, so thread settings do not matter; tested in two "
    "processes). On another CPU or BLAS build the fit may differ in the last bits of the coefficients: "
    "a rebuild then gives the same category on every evaluation row and probabilities within 1e-2, "
    "so compare a rebuild by its predictions, not by its hash."
)

KEYWORD_WEIGHTS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
NONE_BIASES = (-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
TEMPERATURES = tuple(np.round(np.arange(0.4, 3.01, 0.1), 2))

#: At most this many ``none`` short forms (seeded sample); all family forms are kept.
SHORT_FORMS_NONE_CAP = 15_000
#: A script is familiar to the model (fusion ``familiar_scripts``) when its training corpus
#: has at least this many real ``none`` lines in it: enough for the model to have learned that
#: most text in the script is ordinary goods (Latin, Cyrillic and Chinese have over 10,000 each
#: from the nomenclature; Korean and Japanese reach the corpus only as synthetic lines).
MIN_FAMILIAR_NONE_LINES = 1000


def short_form_frame(corpus: pd.DataFrame, *, seed: int = SEED, none_cap: int | None = SHORT_FORMS_NONE_CAP) -> pd.DataFrame:
    """Short trader forms of the English tariff lines, as a (text, label, source) frame.

    The head-noun heuristic of :func:`~dualuse.training.synth.short_forms` reads English noun
    phrases; on German or Russian sentences it cuts fragments that are neither trade terms
    nor tariff text, so the other languages' lines train the model as they are written.
    """
    corpus = corpus[corpus["source"].isin(ENGLISH_TRAINING_SOURCES)]
    forms = pd.DataFrame(short_forms(corpus["text"].tolist(), corpus["label"].tolist()), columns=["text", "label"])
    forms["source"] = "synthetic:short_form"
    if none_cap is not None:
        none = forms["label"] == "none"
        if none.sum() > none_cap:
            keep = np.random.default_rng(seed).choice(np.flatnonzero(none.to_numpy()), size=none_cap, replace=False)
            mask = ~none.to_numpy()
            mask[keep] = True
            forms = forms[mask]
    return forms.reset_index(drop=True)


def training_frame(data_dir: Path, taxonomy: Taxonomy, *, seed: int = SEED) -> pd.DataFrame:
    """The full training table (text, label, source): nomenclature corpus, generated invoice
    lines, short trader forms of the tariff lines, and each taxonomy term and negative phrase alone."""
    corpus = pd.read_csv(data_dir / "corpus" / "nomenclature.csv", dtype=str, keep_default_na=False)
    negatives = read_negatives(data_dir / "synthetic" / "negatives.txt")
    synth = pd.DataFrame(list(generate(taxonomy, negatives, seed=seed)), columns=["text", "label", "source"])
    bare = pd.DataFrame(list(bare_terms(taxonomy, negatives)), columns=["text", "label", "source"])
    parts = [corpus[["text", "label", "source"]], synth, short_form_frame(corpus, seed=seed), bare]
    return pd.concat(parts, ignore_index=True)


#: Hand-written tuning sets the fusion is fitted on, by name (all written from LABELS.md):
#: invoice lines (long, brands, part numbers; the taxonomy was written on them) together with
#: their hard negatives (look-alikes that must stay ``none``), and short trade terms
#: (tariff-search and catalogue wording; written by someone who never saw the taxonomy), so
#: the fusion weighs the short-term register as well as invoices and tariff text.
#: The hard negatives sit inside the invoice set rather than beside it: on their own every
#: row is ``none`` and one false alarm would halve that set's macro-F1; inside it, a false
#: alarm costs what it costs on an invoice. Without them the invoice and trade-term sets are
#: both at 1.000 over a plateau of (keyword weight, none bias) pairs, and the choice among
#: them was left to the tie-break.
#: (fusion-set name -> names in :data:`dualuse.evaluate.SET_FILES`, concatenated)
FUSION_SETS = {"dev": (DEV_SET, "dev_hard_negatives"), "trade_terms": ("dev_trade_terms",)}


def _dev(data_dir: Path, name: str = "dev") -> pd.DataFrame:
    """The fusion-fit set ``name`` of :data:`FUSION_SETS`, its files concatenated in order."""
    return pd.concat([load_set(data_dir, f) for f in FUSION_SETS[name]], ignore_index=True)


@dataclass
class FusionSet:
    """A labelled set with the fusion's precomputed inputs (model probabilities, keyword scores)."""

    name: str
    labels: np.ndarray  # category indices
    model_probs: np.ndarray | None
    keyword: np.ndarray

    def subset(self, rows: np.ndarray) -> FusionSet:
        mp = None if self.model_probs is None else self.model_probs[rows]
        return FusionSet(self.name, self.labels[rows], mp, self.keyword[rows])


def fusion_set(engine: Engine, name: str, texts: list[str], labels: list[str]) -> FusionSet:
    """Score ``texts`` once so that fusion parameters can be searched without re-featurising."""
    mp, kw = engine.text_components(texts)
    return FusionSet(name, np.array([CATEGORIES.index(lbl) for lbl in labels]), mp, kw)


def _macro_f1_idx(y: np.ndarray, pred: np.ndarray) -> float:
    """:func:`dualuse.evaluate.macro_f1` on category indices (the fusion grid calls it ~10^4 times)."""
    k = len(CATEGORIES)
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    return macro_f1_from_confusion(cm)


def fit_fusion(sets: list[FusionSet], base: FusionConfig) -> tuple[FusionConfig, dict]:
    """Choose keyword weight and none bias (mean macro-F1 over ``sets``), then the temperature (mean log-loss).

    Each set counts equally, so the hand-written invoice lines and the tariff-text hold-out
    pull with the same strength: neither register may be bought with the other.
    """
    best = None
    for kw, nb in itertools.product(KEYWORD_WEIGHTS, NONE_BIASES):
        cfg = replace(base, keyword_weight=kw, none_bias=nb, temperature=1.0)
        scores = []
        fas = []
        for s in sets:
            pred = np.argmax(fuse(s.model_probs, s.keyword, None, cfg), axis=1)
            scores.append(_macro_f1_idx(s.labels, pred))
            none = s.labels == NONE_INDEX
            fas.append(float(np.mean(pred[none] != NONE_INDEX)) if none.any() else 0.0)
        # ties: fewer false alarms, then the smaller keyword weight and bias (the simpler rule)
        key = (round(float(np.mean(scores)), 6), -round(float(np.mean(fas)), 6), -kw, -abs(nb))
        if best is None or key > best[0]:
            best = (key, kw, nb, scores)
    assert best is not None
    _, kw, nb, scores = best
    best_t = None
    for t in TEMPERATURES:
        cfg = replace(base, keyword_weight=kw, none_bias=nb, temperature=float(t))
        nll = []
        for s in sets:
            p = fuse(s.model_probs, s.keyword, None, cfg)
            nll.append(float(-np.mean(np.log(np.clip(p[np.arange(len(s.labels)), s.labels], 1e-12, 1)))))
        if best_t is None or np.mean(nll) < best_t[0] - 1e-12:
            best_t = (float(np.mean(nll)), float(t))
    assert best_t is not None
    fitted = replace(base, keyword_weight=kw, none_bias=nb, temperature=best_t[1])
    report = {f"{s.name}_macro_f1_in_sample": round(sc, 4) for s, sc in zip(sets, scores)}
    report["mean_log_loss_in_sample"] = round(best_t[0], 4)
    return fitted, report


def _cross_validated(sets: list[FusionSet], base: FusionConfig, seed: int) -> dict:
    """Five-fold estimate of the fusion fit on every set: parameters chosen on 4/5 of each, scored on the rest."""
    rng = np.random.default_rng(seed)
    out: dict = {}
    folds = {s.name: np.array_split(rng.permutation(len(s.labels)), 5) for s in sets}
    preds = {s.name: np.empty(len(s.labels), dtype=int) for s in sets}
    for k in range(5):
        train_sets, test_rows = [], {}
        for s in sets:
            test = folds[s.name][k]
            rest = np.setdiff1d(np.arange(len(s.labels)), test)
            train_sets.append(s.subset(rest))
            test_rows[s.name] = test
        cfg, _ = fit_fusion(train_sets, base)
        for s in sets:
            t = test_rows[s.name]
            sub = s.subset(t)
            preds[s.name][t] = np.argmax(fuse(sub.model_probs, sub.keyword, None, cfg), axis=1)
    for s in sets:
        p = preds[s.name]
        none = s.labels == NONE_INDEX
        out[f"{s.name}_macro_f1_cv5"] = round(_macro_f1_idx(s.labels, p), 4)
        out[f"{s.name}_false_alarm_rate_cv5"] = round(float(np.mean(p[none] != NONE_INDEX)), 4) if none.any() else None
    return out


def _holdout_split(corpus: pd.DataFrame, seed: int, share: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded, label-stratified split of the tariff corpus: (fit part, held-out part)."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(corpus), dtype=bool)
    for label in CATEGORIES:
        rows = np.flatnonzero(corpus["label"].to_numpy() == label)
        pick = rng.choice(rows, size=int(round(len(rows) * share)), replace=False) if len(rows) else rows
        held[pick] = True
    return corpus[~held], corpus[held]


def probe_split(frame: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(probe training frame, held-out tariff lines) for fitting the fusion on unseen data.

    A seeded fifth of the tariff lines is held out; the probe trains on the rest and on the
    synthetic lines. Short forms are derived from tariff lines, so the probe gets only those
    of its own four fifths: the held-out fifth must not leak into it through its short forms.
    """
    is_tariff = ~frame["source"].str.startswith(("synthetic", EXTRA_SOURCE + ":"))  # extra lines: see train()
    is_short_form = frame["source"] == "synthetic:short_form"
    fit_part, held_out = _holdout_split(frame[is_tariff], seed)
    parts = [fit_part, frame[~is_tariff & ~is_short_form]]
    if is_short_form.any():
        parts.append(short_form_frame(fit_part, seed=seed))
    return pd.concat(parts), held_out


def fusion_holdout(held_out: pd.DataFrame) -> pd.DataFrame:
    """The held-out tariff lines the fusion is fitted on: the English sources only.

    The fusion's three fit sets stand for invoice lines, trade terms and tariff wording. The
    Russian, Chinese and German nomenclature trains both models, but as a fit set it asks
    the fusion to recover recall on languages whose keyword coverage differs, which it can
    only do by lowering the ``none`` bias for every text: fitted on all four languages it
    chose ``none`` bias 1.5-2 instead of 3, and the false alarms rose on every register.
    """
    return held_out[held_out["source"].isin(ENGLISH_TRAINING_SOURCES)]


def familiar_scripts(frame: pd.DataFrame) -> tuple[str, ...]:
    """Script buckets with at least :data:`MIN_FAMILIAR_NONE_LINES` ``none`` lines in ``frame``
    (the training corpus), in :data:`~dualuse.scripts.SCRIPT_BUCKETS` order."""
    counts: dict[str, int] = {}
    for text in frame.loc[frame["label"] == "none", "text"]:
        bucket = script_of(text)
        counts[bucket] = counts.get(bucket, 0) + 1
    return tuple(b for b in SCRIPT_BUCKETS if b != "no_letters" and counts.get(b, 0) >= MIN_FAMILIAR_NONE_LINES)


def train(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    taxonomy: Taxonomy | None = None,
    seed: int = SEED,
    classifier: TextClassifier | None = None,
    extra_labels: str | Path | None = None,
) -> FittedModel:
    """Train the model from ``data_dir`` and write it to ``out_dir`` (a new or empty directory).

    Returns the fitted model as loaded back from ``out_dir``, ready for
    :class:`~dualuse.engine.Engine`. To replace the package's embedded model, use
    ``dualuse train --into-package`` (the command writes elsewhere and swaps it in).
    ``extra_labels`` names a file of a team's labelled lines (the decisions format) added to
    the corpus with the sample weight of :mod:`dualuse.training.extra_labels`; the model id
    and manifest record it. Raises :class:`~dualuse.errors.DecisionsError` for a malformed file.
    """
    data_dir = Path(data_dir)
    out = Path(out_dir)
    taxonomy = taxonomy or default_taxonomy()
    t0 = time.perf_counter()
    frame = training_frame(data_dir, taxonomy, seed=seed)
    extra_info = None
    if extra_labels is not None:
        extra, extra_info = extra_label_frame(extra_labels)
        frame = pd.concat([frame, extra], ignore_index=True)
    corpus_sha = hashlib.sha256("\n".join(frame["label"] + "\t" + frame["text"]).encode("utf-8")).hexdigest()

    def make_classifier() -> TextClassifier:
        return clone(classifier) if classifier is not None else TextClassifier(random_state=seed)

    # 1. fusion parameters are fitted on data the model did not see: the dev sets and a
    #    held-out fifth of the tariff corpus, with a model fitted on the other four fifths
    # (extra lines train the probe too: the fusion is then fitted for a model that knows them)
    probe_frame, held_out = probe_split(frame, seed)
    probe_weights, _ = sample_weights(probe_frame)
    with threadpool_limits(limits=1):
        probe = make_classifier().fit(
            [fold(t) for t in probe_frame["text"]], probe_frame["label"].tolist(), sample_weight=probe_weights
        )
    probe_engine = Engine(taxonomy, FittedModel(probe, FusionConfig(), "probe", "0" * 64))
    sets = []
    for name in FUSION_SETS:
        dev = _dev(data_dir, name)
        sets.append(fusion_set(probe_engine, name, dev["text"].tolist(), dev["label"].tolist()))
    tariff = fusion_holdout(held_out)
    sets.append(fusion_set(probe_engine, "tariff_holdout", tariff["text"].tolist(), tariff["label"].tolist()))
    cv = _cross_validated(sets, FusionConfig(), seed)
    fusion, fit_metrics = fit_fusion(sets, FusionConfig())
    probe_only = np.argmax(sets[0].model_probs, axis=1)  # type: ignore[arg-type]
    log.info("fusion %s; %s", fusion.describe(), {**fit_metrics, **cv})

    fusion = replace(fusion, familiar_scripts=familiar_scripts(frame))
    log.info("familiar scripts: %s", ", ".join(fusion.familiar_scripts or ()))

    # 2. the shipped model is fitted on everything
    texts = [fold(t) for t in frame["text"]]
    clf = make_classifier()
    weights, extra_weight = sample_weights(frame)
    log.info("fitting on %d lines (%s)", len(texts), frame["label"].value_counts().to_dict())
    with threadpool_limits(limits=1):
        clf.fit(texts, frame["label"].tolist(), sample_weight=weights)
    t_fit = time.perf_counter() - t0

    counts = frame.groupby(["source", "label"]).size()
    by_source: dict[str, int] = {}
    for (src, _), n in counts.items():
        key = src.split(":")[0]
        by_source[key] = by_source.get(key, 0) + int(n)
    metrics = {
        **fit_metrics,
        **cv,
        "dev_macro_f1_model_only_cv_probe": round(_macro_f1_idx(sets[0].labels, probe_only), 4),
        "train_seconds": round(t_fit, 1),
    }
    model_id = f"dualuse-tfidf-lr-{taxonomy.version}-s{seed}"
    training_extra = {}
    if extra_info is not None:
        model_id += f"-x{extra_info['file_sha256'][:12]}"  # another corpus: another model id
        training_extra = {"extra_labels": {**extra_info, "sample_weight": extra_weight, "max_share": EXTRA_LABEL_MAX_SHARE}}
    save_model(
        clf.to_linear_model(),
        out,
        model_id=model_id,
        fusion=fusion,
        corpus_sha256=corpus_sha,
        taxonomy_sha256=taxonomy.sha256,
        taxonomy_version=taxonomy.version,
        seed=seed,
        reproducibility=REPRODUCIBILITY,
        training={
            "seed": seed,
            "rows": int(len(frame)),
            "rows_per_label": {k: int(v) for k, v in frame["label"].value_counts().sort_index().items()},
            "rows_per_source": dict(sorted(by_source.items())),
            "classifier_params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in clf.get_params().items()},
            **training_extra,
        },
        metrics=metrics,
    )
    log.info("model written to %s in %.1f s: %s", out, time.perf_counter() - t0, metrics)
    return load_model(out)
