"""The public screening calls: ``classify`` and ``classify_batch``.

Both run the one :class:`~dualuse.engine.Engine`; ``classify(text)`` is the engine on a
chunk of one, so a batch equals a loop of single calls by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from .categories import CATEGORIES, Category
from .defaults import default_engine, set_default_engine
from .engine import ChunkResult, Engine
from .errors import EmptyTextError, InputTypeError, InvalidCountryCodeError, InvalidHSCodeError, describe
from .explain import TOP_FEATURES, evidence_records
from .results import (
    Classification,
    ComponentScores,
    Destination,
    ExclusionEvidence,
    HSEvidence,
    HSSuggestion,
    ModelFeatureEvidence,
    NoteEvidence,
    Provenance,
    ReviewedDecision,
    RiskLevel,
    TermEvidence,
)

__all__ = ["classify", "classify_batch", "default_engine", "set_default_engine", "to_classifications"]

#: The pydantic evidence type of each ``kind`` of :func:`dualuse.explain.evidence_records`.
_EVIDENCE_TYPES: dict[str, type] = {
    "term": TermEvidence,
    "pattern": TermEvidence,
    "exclusion": ExclusionEvidence,
    "hs_code": HSEvidence,
    "model_feature": ModelFeatureEvidence,
    "note": NoteEvidence,
}


def classify(
    text: str, *, hs_code: str | None = None, destination: str | None = None, engine: Engine | None = None
) -> Classification:
    """Screen one product description (optionally with its HS code and destination country).

    Returns a frozen :class:`~dualuse.results.Classification`, with HS-6 suggestions when the
    engine has an index and a review ``priority`` (:mod:`dualuse.priority`) that counts the
    ``destination`` (ISO 3166-1 alpha-2, e.g. ``"KZ"``) against the destination lists.
    Raises ``TypeError`` for a non-str text, code or destination, ``ValueError`` for an
    empty/whitespace-only text, a malformed HS code or an unknown country code
    (:class:`~dualuse.errors.InvalidCountryCodeError`); every message names the parameter,
    what was expected and what was received.
    """
    if not isinstance(text, str):
        raise InputTypeError(f"text: expected str, got {describe(text)}")
    if hs_code is not None and not isinstance(hs_code, str):
        raise InputTypeError(f"hs_code: expected str or None (e.g. '8458.11'), got {describe(hs_code)}")
    if engine is not None and not isinstance(engine, Engine):
        raise InputTypeError(f"engine: expected a dualuse.Engine or None, got {describe(engine)}")
    if destination is not None and not isinstance(destination, str):
        raise InputTypeError(
            f"destination: expected an ISO 3166-1 alpha-2 code as str (e.g. 'KZ') or None, got {describe(destination)}"
        )
    return classify_batch(
        [text],
        hs_codes=None if hs_code is None else [hs_code],
        destinations=None if destination is None else [destination],
        engine=engine,
    )[0]


def classify_batch(
    texts: Sequence[str] | Iterable[str],
    *,
    hs_codes: Sequence[str | None] | None = None,
    destinations: Sequence[str | None] | None = None,
    engine: Engine | None = None,
) -> list[Classification]:
    """Screen many descriptions; item i equals ``classify(texts[i], hs_code=hs_codes[i], destination=destinations[i])``.

    Raises like :func:`classify`, naming the offending index; a bare ``str`` is refused
    (it would otherwise be screened character by character).
    """
    if isinstance(texts, (str, bytes)):
        raise InputTypeError(f"texts: expected a sequence of str, got a bare {type(texts).__name__}; wrap it in a list")
    if engine is not None and not isinstance(engine, Engine):
        raise InputTypeError(f"engine: expected a dualuse.Engine or None, got {describe(engine)}")
    try:
        texts = list(texts)
    except TypeError:
        raise InputTypeError(f"texts: expected a sequence of str, got {describe(texts)}") from None
    if hs_codes is not None:
        if isinstance(hs_codes, (str, bytes)):
            raise InputTypeError(f"hs_codes: expected a sequence of str or None, got a bare {type(hs_codes).__name__}")
        try:
            hs_codes = list(hs_codes)
        except TypeError:
            raise InputTypeError(f"hs_codes: expected a sequence of str or None, got {describe(hs_codes)}") from None
        if len(hs_codes) != len(texts):
            raise InputTypeError(f"hs_codes: expected {len(texts)} codes (one per text), got {len(hs_codes)}")
    if destinations is not None:
        if isinstance(destinations, (str, bytes)):
            raise InputTypeError(f"destinations: expected a sequence of str or None, got a bare {type(destinations).__name__}")
        destinations = list(destinations)
        if len(destinations) != len(texts):
            raise InputTypeError(f"destinations: expected {len(texts)} country codes (one per text), got {len(destinations)}")
    for i, t in enumerate(texts):
        if destinations is not None and destinations[i] is not None and not isinstance(destinations[i], str):
            raise InputTypeError(f"destinations[{i}]: expected str or None, got {describe(destinations[i])}")
        if not isinstance(t, str):
            raise InputTypeError(f"texts[{i}]: expected str, got {describe(t)}")
        if hs_codes is not None and hs_codes[i] is not None and not isinstance(hs_codes[i], str):
            raise InputTypeError(f"hs_codes[{i}]: expected str or None, got {describe(hs_codes[i])}")
    eng = engine or default_engine()
    result = eng.score(texts, hs_codes, destinations)
    for i, st in enumerate(result.status):
        where = "text" if len(texts) == 1 else f"texts[{i}]"
        if st == "empty_text":
            raise EmptyTextError(f"{where}: expected a non-empty description, got {describe(texts[i])}")
        if st == "invalid_hs_code":
            raise InvalidHSCodeError(result.error[i] if len(texts) == 1 else f"hs_codes[{i}]: {result.error[i]}")
        if st == "invalid_destination":
            raise InvalidCountryCodeError(result.error[i] if len(texts) == 1 else f"destinations[{i}]: {result.error[i]}")
    return to_classifications(eng, result, texts, hs_codes)


#: Validated provenance records by their values: the same few for every call of a process.
_PROVENANCE: dict[tuple, Provenance] = {}


def _provenance(engine: Engine) -> Provenance:
    values = engine.provenance()
    key = tuple(values.items())
    found = _PROVENANCE.get(key)
    if found is None:
        if len(_PROVENANCE) > 64:  # engines built and dropped in a loop: stay bounded
            _PROVENANCE.clear()
        found = _PROVENANCE[key] = Provenance(**values)
    return found


def to_classifications(
    engine: Engine, result: ChunkResult, texts: Sequence[str], hs_codes: Sequence[str | None] | None
) -> list[Classification]:
    """Build pydantic results from a chunk's columnar results (rows must be ``ok``).

    The evidence items are validated as they are built (they come from taxonomy content);
    the records around them are assembled from values this function has just typed
    (``float``, ``bool``, ``str``, tuples) and the validated parts, so they are built with
    ``model_construct``: the same frozen objects, equal field by field to validated ones
    (``tests/test_api.py`` checks it), without a second validation per row.
    """
    provenance = _provenance(engine)
    explanations = engine.explanations(result, top_k=TOP_FEATURES)
    probabilities = result.probabilities.tolist()
    model_probabilities = None if result.model_probabilities is None else result.model_probabilities.tolist()
    confidence = result.confidence.tolist()
    out = []
    for i in range(len(result)):
        f = result.facts[i]
        cat = result.category[i]
        # one evidence builder for classify and the batch outputs (dualuse.explain)
        evidence = [_EVIDENCE_TYPES[r["kind"]](**r) for r in evidence_records(engine, result, i, explanations[i], len(texts[i]))]
        probs = dict(zip(CATEGORIES, probabilities[i]))
        model_p = None if model_probabilities is None else dict(zip(CATEGORIES, model_probabilities[i]))
        keyword = {fam: float(v) for fam, v in f.match.family_scores.items()} if f.match is not None else {}
        hs_code = None if hs_codes is None else hs_codes[i]
        if (
            cat is None
            or result.risk_level[i] is None
            or not isinstance(texts[i], str)
            or not isinstance(hs_code, (str, type(None)))
        ):
            raise InputTypeError(f"rows: expected scored rows with a category, got status {result.status[i]!r} at {i}")
        out.append(
            Classification.model_construct(
                text=texts[i],
                hs_code=hs_code,
                category=cast(Category, cat),
                subcategory=result.subcategory[i],
                confidence=confidence[i],
                probabilities=probs,
                risk_level=cast(RiskLevel, result.risk_level[i]),
                needs_review=bool(result.needs_review[i]),
                review_reasons=tuple(result.review_reasons[i]),
                chpl_tier=result.chpl_tier[i],
                references=tuple(result.references[i]),
                evidence=tuple(evidence),
                scores=ComponentScores.model_construct(
                    keyword=keyword,
                    model=cast(dict[str, float] | None, model_p),
                    hs_family=None if f.hs is None or f.hs_ambiguous else cast(Category, f.hs_family),
                ),
                input_truncated=bool(f.truncated),
                hs_suggestions=tuple(HSSuggestion(**vars(s)) for s in f.hs_suggestions),
                destination=_destination(engine, f.destination, f.destination_status),
                priority=cast(Any, result.priority[i] if result.priority else None),
                provenance=provenance,
                decision=_reviewed_decision(engine, result, i),
            )
        )
    return out


def _reviewed_decision(engine: Engine, result: ChunkResult, i: int) -> ReviewedDecision | None:
    """Row ``i``'s reviewed decision with the screening's verdict, or None when the screening decided."""
    applied = None if result.decided is None else result.decided[i]
    if applied is None or engine.decisions is None:
        return None
    d = applied.decision
    return ReviewedDecision(
        label=cast(Category, d.label),
        reviewer=d.reviewer,
        date=d.date,
        note=d.note,
        text=d.text,
        hs_code=d.hs_code,
        source=engine.decisions.source,
        line=d.line,
        file_sha256=engine.decisions.sha256,
        screened_category=cast(Category, applied.screened_category),
        screened_confidence=min(1.0, max(0.0, applied.screened_confidence)),
        screened_probabilities={c: p for c, p in zip(CATEGORIES, applied.screened_probabilities)},
    )


def _destination(engine: Engine, code: str | None, status: str | None) -> Destination | None:
    if code is None:
        return None
    sources = tuple(f"{s.title} ({s.date}) {s.url}" for s in engine.destinations.sources_of(code))
    return Destination(code=code, status=cast(Any, status), sources=sources)
