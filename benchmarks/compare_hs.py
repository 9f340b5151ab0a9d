"""HS-6 suggestions against a plain nearest-neighbour baseline (``python benchmarks/compare.py --hs``).

Both rank HS 2022 subheadings for each text of every evaluation set that carries codes, scored
without the codes, from the same nomenclature lines (``dualuse.training.hs_index_build.
nomenclature_lines``) in the same TF-IDF space (the embedded model's features):

``dualuse``
    ``default_engine()``: the packaged index (per-language prototypes of each code) plus the
    family and taxonomy agreement of :mod:`dualuse.hs_suggest`.
``nearest_line``
    :class:`dualuse.training.hs_eval.NearestLineBaseline`: cosine 1-NN over the lines; the top
    three are the codes of the nearest lines, distinct.

Figures: top-1 / top-3 at 6 and 4 digits, all rows and family rows
(:func:`dualuse.training.hs_eval.suggestion_metrics`). Nothing is tuned on these sets.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from dualuse.defaults import default_engine, default_model
from dualuse.training.evaluate import load_set
from dualuse.training.hs_eval import HS_EVAL_SETS, NearestLineBaseline, suggestion_metrics
from dualuse.training.hs_index_build import nomenclature_lines

_KEYS = ("top1_6", "top3_6", "top1_4", "top3_4")


def run_hs_comparison(data_dir: Path, out_dir: Path | None, quick: bool = False) -> int:
    """Run both rankers on every set with codes; print the table and write results_hs.{md,json} to ``out_dir``."""
    t = time.perf_counter()
    lines, _ = nomenclature_lines(data_dir, data_dir / "raw")
    baseline = NearestLineBaseline(default_model(), lines)
    engine = default_engine()
    report: dict = {"provenance": engine.provenance(), "lines": len(lines), "sets": {}}
    for name in HS_EVAL_SETS:
        frame = load_set(data_dir, name)
        if quick:
            frame = frame.iloc[:: max(1, len(frame) // 300)]
        texts, codes, labels = frame["text"].tolist(), frame["code"].tolist(), frame["label"].tolist()
        ours = [[s.code for s in f.hs_suggestions] for f in engine.score(texts).facts]
        report["sets"][name] = {
            "dualuse": suggestion_metrics(codes, labels, ours),
            "nearest_line": suggestion_metrics(codes, labels, baseline.suggest(texts)),
        }
    report["seconds"] = round(time.perf_counter() - t, 1)
    text = render(report)
    print(text)
    if out_dir is not None:
        (out_dir / "results_hs.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (out_dir / "results_hs.md").write_text(text + "\n", encoding="utf-8")
    return 0


def render(report: dict) -> str:
    """A markdown table: one row per set, rows kind and ranker."""
    out = [
        "# HS-6 suggestions against a nearest-line baseline",
        "",
        "Produced by `python benchmarks/compare.py --hs`. Texts scored without their codes; share of rows whose "
        "true code is the top suggestion (top1) or among three (top3), at 6 digits (subheading) and 4 (heading). "
        f"Both rankers read the same {report['lines']:,} nomenclature lines in the same feature space.",
        "",
        "| set | rows | n | ranker | " + " | ".join(_KEYS) + " |",
        "|---|---|---:|---|" + "---:|" * len(_KEYS),
    ]
    for name, by in report["sets"].items():
        for rows in ("all", "family"):
            for ranker in ("dualuse", "nearest_line"):
                m = by[ranker]
                n = m["rows"] if rows == "all" else m["family_rows"]
                cells = " | ".join("-" if m[rows][k] is None else f"{m[rows][k]:.3f}" for k in _KEYS)
                out.append(f"| {name} | {rows} | {n} | {ranker} | {cells} |")
    return "\n".join(out)
