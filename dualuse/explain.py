"""The evidence of a scored row as plain JSON-ready records, shared by ``classify`` and batch output.

:func:`evidence_records` is the one place that turns a chunk's row facts (keyword matches,
exclusions, HS facts, the model's top features, notes) into evidence. ``classify`` builds its
pydantic :class:`~dualuse.results.Evidence` items from these records and the batch paths
(``score_frame(..., explain=True)``, ``dualuse score --explain``, Dask) write them as JSON, so
the ``evidence`` column equals ``[e.model_dump(mode="json") for e in result.evidence]`` by
construction rather than by two parallel implementations kept in step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .engine import ChunkResult, Engine

__all__ = ["EXPLAIN_COLUMNS", "TOP_FEATURES", "evidence_records", "explain_columns", "evidence_json"]

#: Columns added by the ``explain`` switch of the batch paths, after ``OUTPUT_COLUMNS``.
EXPLAIN_COLUMNS: tuple[str, ...] = ("review_reasons", "references", "evidence")

#: Model features listed per row, as in ``classify``.
TOP_FEATURES = 5


def evidence_records(
    engine: Engine,
    result: ChunkResult,
    i: int,
    features: list[tuple[str, float]],
    text_length: int,
) -> list[dict[str, Any]]:
    """Row ``i``'s evidence, each item a dict with the fields of its pydantic model (``kind`` first).

    ``features`` is the row's entry of :meth:`Engine.explanations`; ``text_length`` is the
    length of the text as given (the truncation note reports it).
    """
    f = result.facts[i]
    out: list[dict[str, Any]] = []
    if f.match is not None:
        for m in f.match.matches:
            out.append(
                {
                    "kind": m.kind,
                    "term": m.term,
                    "subcategory": m.subcategory,
                    "family": m.family,
                    "language": m.language,
                    "weight": m.weight,
                    "start": m.start,
                    "end": m.end,
                    "matched_text": m.matched_text,
                    "reading": m.reading,
                }
            )
        for x in f.match.exclusions:
            out.append(
                {
                    "kind": "exclusion",
                    "exclusion_id": x.exclusion_id,
                    "phrase": x.phrase,
                    "families": list(x.families),
                    "scope": x.scope,
                    "start": x.start,
                    "end": x.end,
                    "matched_text": x.matched_text,
                }
            )
    if f.hs is not None:
        out.append(
            {
                "kind": "hs_code",
                "raw": f.hs.raw,
                "digits": f.hs.digits,
                "hs6": f.hs.hs6,
                "family": f.hs_family or "none",
                "ambiguous": f.hs_ambiguous,
                "bridged_from": f.hs.bridged_from,
                "note": f.hs.bridge_note,
                "chpl_tier": result.chpl_tier[i],
                "agrees_with_text": None if f.hs_ambiguous else (f.hs_family == result.text_category[i]),
                "text_category": result.text_category[i],
            }
        )
    for feat, contrib in features:
        out.append({"kind": "model_feature", "feature": feat, "contribution": round(float(contrib), 6)})
    applied = None if result.decided is None else result.decided[i]
    if applied is not None:
        d = applied.decision
        source = engine.decisions.source if engine.decisions is not None else "decisions"
        out.append(
            {
                "kind": "note",
                "code": "reviewed_decision",
                "message": f"category {d.label} set by a reviewed decision ({source} line {d.line}, {d.reviewer or 'no reviewer'}, "
                f"{d.date or 'no date'}{'; ' + d.note if d.note else ''}); the screening said {applied.screened_category} "
                f"({applied.screened_confidence:.3f})",
            }
        )
    if f.truncated:
        out.append(
            {
                "kind": "note",
                "code": "input_truncated",
                "message": f"only the first {engine.fusion.max_chars} of {text_length} characters were screened",
            }
        )
    return out


def evidence_json(records: list[dict[str, Any]] | None) -> str | None:
    """Compact JSON of a row's evidence (None stays None): the ``evidence`` cell of text formats."""
    if records is None:
        return None
    return json.dumps(records, ensure_ascii=False, separators=(",", ":"))


def explain_columns(engine: Engine, result: ChunkResult, texts: Sequence[object]) -> dict[str, list[Any]]:
    """The :data:`EXPLAIN_COLUMNS` of a scored chunk as Python values.

    ``review_reasons`` and ``references`` are lists of str, ``evidence`` a list of dicts (see
    :func:`evidence_records`); all three are None for a row that carries no category (it was
    not screened). The model features come from the chunk's own feature matrix
    (:meth:`Engine.explanations`), so explaining costs no second featurisation.
    """
    features = engine.explanations(result, top_k=TOP_FEATURES)
    reasons: list[Any] = []
    refs: list[Any] = []
    evidence: list[Any] = []
    for i in range(len(result)):
        if result.category[i] is None:
            reasons.append(None)
            refs.append(None)
            evidence.append(None)
            continue
        text = texts[i]
        reasons.append(list(result.review_reasons[i]))
        refs.append(list(result.references[i]))
        evidence.append(evidence_records(engine, result, i, features[i], len(text) if isinstance(text, str) else 0))
    return {"review_reasons": reasons, "references": refs, "evidence": evidence}
