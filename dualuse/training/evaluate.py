"""Evaluation on the labelled sets in ``data/eval`` (and, marked as such, the dev sets).

For each set: accuracy, macro-F1 over the four categories, per-class precision / recall /
F1, risk recall (rows of a family predicted as *that* family), false-alarm rate (rows of
``none`` flagged as any family) and the confusion matrix (rows = truth, columns =
prediction, in :data:`~dualuse.CATEGORIES` order). Beside them, ``calibration`` (mean
confidence against accuracy, expected calibration error) over the whole set and
``by_script``: the same figures per script of the text (:mod:`dualuse.training.reliability`),
so a user sees where the figures hold and where the model is over-confident.

Texts are scored **without** their HS codes: the labels are derived from those codes, so
giving them to the classifier would measure the code lookup, not the text screening.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..categories import CATEGORIES
from ..engine import Engine
from ..errors import OptionError
from .hs_eval import suggestion_metrics
from .reliability import SCRIPT_BUCKETS, by_script, calibration

__all__ = [
    "evaluate",
    "metrics",
    "macro_f1",
    "format_report",
    "format_reliability",
    "load_set",
    "EVAL_SETS",
    "SET_FILES",
]

#: Evaluation-only sets (name -> description). Never used for training or tuning.
EVAL_SETS = {
    "uk_trader_terms": "UK trader search terms (HMRC), labelled from their codes",
    "us_hts_2024": "US HTS 2024 10-digit lines, descriptions rebuilt from indents",
    "uk_parcel_lines": "UK fast-parcel declaration lines (almost all none)",
    "cbp_rulings": "US CBP CROSS ruling subjects (almost all none)",
    "kicad_parts": "KiCad symbol-library parts: chips by part number and package, against modules, "
    "connectors and passives (no HS codes)",
    "blind_invoice_lines": "invoice lines written from LABELS.md alone, blind to the taxonomy (data/blind/README.md)",
}
DEV_SET = "dev_invoice_lines"
#: Tuning sets (name -> description): reported beside the evaluation sets, never as a
#: generalisation estimate (the taxonomy and the fusion are fitted on them).
DEV_SETS = {
    DEV_SET: "hand-written invoice lines used for tuning: NOT a generalisation estimate",
    "dev_trade_terms": "short trade terms used for tuning (fusion fit): NOT a generalisation estimate",
    "dev_hard_negatives": "none-only look-alike invoice lines used for false-alarm analysis: NOT a generalisation estimate",
}
#: Where each set lives under the data directory (the ``eval/`` ones are built by ``dualuse data build``).
SET_FILES = {
    **{name: f"eval/{name}.csv" for name in ("uk_trader_terms", "us_hts_2024", "uk_parcel_lines", "cbp_rulings", "kicad_parts")},
    "blind_invoice_lines": "blind/invoice_lines_blind.tsv",
    DEV_SET: "dev/invoice_lines.tsv",
    "dev_trade_terms": "dev/trade_terms.tsv",
    "dev_hard_negatives": "dev/hard_negatives.tsv",
}


def macro_f1(y_true: Sequence[str] | np.ndarray, y_pred: Sequence[str] | np.ndarray) -> float:
    """Macro-averaged F1 over the categories present in the truth or the predictions.

    The one definition used everywhere: reports here, and the fusion fit in ``dualuse.train``.
    """
    return macro_f1_from_confusion(_confusion(y_true, y_pred))


def _confusion(y_true: Sequence[str] | np.ndarray, y_pred: Sequence[str] | np.ndarray) -> np.ndarray:
    """Confusion matrix in CATEGORIES order (rows: truth, columns: prediction)."""
    k = len(CATEGORIES)
    idx = {c: i for i, c in enumerate(CATEGORIES)}
    cm = np.zeros((k, k), dtype=int)
    for a, b in zip(y_true, y_pred):
        cm[idx[a], idx[b]] += 1
    return cm


def macro_f1_from_confusion(cm: np.ndarray) -> float:
    """:func:`macro_f1` from a confusion matrix (rows: truth, columns: prediction, CATEGORIES order)."""
    tp = np.diag(cm).astype(float)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    present = (tp + fp + fn) > 0
    return float(np.mean(2 * tp[present] / (2 * tp + fp + fn)[present])) if present.any() else 0.0


def metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """All reported figures for one set of (truth, prediction) pairs."""
    t = np.asarray(list(y_true), dtype=object)
    p = np.asarray(list(y_pred), dtype=object)
    cm = _confusion(t, p)
    per_class = {}
    f1s = []
    for i, c in enumerate(CATEGORIES):
        tp = cm[i, i]
        fp = cm[:, i].sum() - tp
        fn = cm[i, :].sum() - tp
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[c] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4), "support": int(cm[i, :].sum())}
        f1s.append(f1)
    fam = t != "none"
    none = ~fam
    # macro-F1 over the classes present in the truth or the predictions (a class absent from
    # both would otherwise add a free 0 or 1); the four-class figure is reported too
    return {
        "n": int(len(t)),
        "accuracy": round(float(np.mean(t == p)) if len(t) else 0.0, 4),
        "macro_f1": round(macro_f1_from_confusion(cm), 4),
        "macro_f1_all4": round(float(np.mean(f1s)), 4),
        "risk_recall": round(float(np.mean(p[fam] == t[fam])), 4) if fam.any() else None,
        "false_alarm_rate": round(float(np.mean(p[none] != "none")), 4) if none.any() else None,
        "family_rows": int(fam.sum()),
        "none_rows": int(none.sum()),
        "per_class": per_class,
        "confusion_matrix": {"labels": list(CATEGORIES), "matrix": cm.tolist()},
    }


def load_set(data_dir: str | Path, name: str) -> pd.DataFrame:
    """One evaluation set (or the dev set) as a frame with at least ``text`` and ``label``."""
    if name not in SET_FILES:
        raise OptionError(f"name: expected one of {sorted(SET_FILES)}, got {name!r}")
    path = Path(data_dir) / SET_FILES[name]
    if not path.exists():
        raise OptionError(f"data_dir: expected {path} to exist (run `dualuse data build`), it does not")
    return _load_set(path)


def _load_set(path: Path) -> pd.DataFrame:
    if path.suffix == ".tsv":
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def evaluate(
    data_dir: str | Path = "data",
    *,
    engine: Engine | None = None,
    sets: Sequence[str] | None = None,
    include_dev: bool = True,
    chunk_size: int = 20_000,
) -> dict:
    """Score every evaluation set (and the dev sets, labelled as tuning data) and report metrics."""
    from ..defaults import default_engine

    eng = engine or default_engine()
    names = [*EVAL_SETS, *(DEV_SETS if include_dev else ())]
    if sets:
        unknown = sorted(set(sets) - set(names))
        if unknown:
            raise OptionError(f"sets: expected names among {sorted(names)}, got {unknown}")
        names = [n for n in names if n in sets]
    report: dict = {"provenance": eng.provenance(), "sets": {}}
    for name in names:
        frame = load_set(data_dir, name)
        preds: list[str] = []
        confidences: list[np.ndarray] = []
        suggested: list[list[str]] = []
        texts = frame["text"].tolist()
        for start in range(0, len(texts), chunk_size):
            res = eng.score(texts[start : start + chunk_size])
            preds.extend(c if c is not None else "none" for c in res.category)
            confidences.append(np.asarray(res.confidence, dtype=float))
            suggested.extend([s.code for s in f.hs_suggestions] for f in res.facts)
        truth = frame["label"].tolist()
        conf = np.concatenate(confidences) if confidences else np.zeros(0)
        m = metrics(truth, preds)
        m["description"] = EVAL_SETS.get(name) or DEV_SETS[name]
        m["calibration"] = calibration(np.asarray(truth, dtype=object) == np.asarray(preds, dtype=object), conf)
        m["by_script"] = by_script(texts, truth, preds, conf, metrics)
        if eng.hs_index is not None and "code" in frame and frame["code"].str.len().ge(6).any():
            # scored without the codes, as above: how often the suggestions find the record's code
            m["hs_suggestions"] = suggestion_metrics(frame["code"].tolist(), truth, suggested)
        report["sets"][name] = m
    return report


def format_report(report: dict) -> str:
    """A compact text table of the headline figures, then the per-script reliability table."""
    lines = [f"{'set':<20} {'n':>6} {'acc':>7} {'macroF1':>8} {'riskRec':>8} {'FA':>7}"]
    for name, m in report["sets"].items():
        rr = "-" if m["risk_recall"] is None else f"{m['risk_recall']:.3f}"
        fa = "-" if m["false_alarm_rate"] is None else f"{m['false_alarm_rate']:.3%}"
        lines.append(f"{name:<20} {m['n']:>6} {m['accuracy']:>7.3f} {m['macro_f1']:>8.3f} {rr:>8} {fa:>7}")
    p = report["provenance"]
    lines.append(f"model {p['model_id']}  taxonomy {p['taxonomy_version']}  fusion {p['fusion']}")
    if any("by_script" in m for m in report["sets"].values()):
        lines += ["", *format_reliability(report)]
    if any("hs_suggestions" in m for m in report["sets"].values()):
        lines += ["", *format_hs_suggestions(report)]
    return "\n".join(lines)


def format_hs_suggestions(report: dict) -> list[str]:
    """HS-6 suggestion accuracy per set: top-1 / top-3 at 6 and 4 digits, all rows and family rows."""
    names = ("top1_6", "top3_6", "top1_4", "top3_4")
    lines = [
        "HS suggestions (texts scored without their codes; true code among the top 1 / top 3, at 6 and 4 digits)",
        f"{'set':<20} {'rows':<7} {'n':>6} " + " ".join(f"{n:>7}" for n in names),
    ]
    for name, m in report["sets"].items():
        h = m.get("hs_suggestions")
        if h is None:
            continue
        for rows, n in (("all", h["rows"]), ("family", h["family_rows"])):
            lines.append(f"{name:<20} {rows:<7} {n:>6} " + " ".join(f"{_fmt(h[rows][k], '.3f'):>7}" for k in names))
    return lines


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_reliability(report: dict) -> list[str]:
    """The per-script table: headline figures, mean confidence, ECE and confident errors."""
    lines = [
        "reliability by script of the text (conf: mean confidence; ECE: 10 equal-width bins; "
        "confErr: share wrong at conf >= 0.95)",
        f"{'set':<20} {'script':<10} {'n':>6} {'acc':>7} {'macroF1':>8} {'FA':>7} {'conf':>6} {'ECE':>6} {'confErr':>8}",
    ]
    for name, m in report["sets"].items():
        if "by_script" not in m:
            continue
        entries = [("all", m)] + [(k, m["by_script"][k]) for k in SCRIPT_BUCKETS if k in m["by_script"]]
        for bucket, b in entries:
            c = b["calibration"]
            lines.append(
                f"{name:<20} {bucket:<10} {b['n']:>6} {b['accuracy']:>7.3f} {b['macro_f1']:>8.3f} "
                f"{_fmt(b['false_alarm_rate'], '.3%'):>7} {_fmt(c['mean_confidence'], '.3f'):>6} "
                f"{_fmt(c['ece'], '.3f'):>6} {_fmt(c['confident_errors'], '.3%'):>8}"
            )
    return lines
