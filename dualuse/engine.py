"""The one scoring engine: a chunk of texts (and HS codes) in, columnar results out.

``classify`` is this engine on a chunk of one; ``classify_batch``, ``score_frame``, the CLI
and Dask feed it larger chunks, so every path gives identical answers by construction and
the vectorised path is the only path: one model call per chunk, the keyword matcher once per
distinct text, fusion (:mod:`dualuse.fusion`) in numpy. The HS code is strong evidence but
never silent: when the text alone points elsewhere the row gets ``needs_review`` and the HS
evidence says ``agrees_with_text = False``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import hs as hs_module
from ._version import __version__
from .categories import CATEGORIES, CATEGORY_INDEX, FAMILIES, NONE_INDEX
from .errors import InputTypeError, InvalidHSCodeError, describe
from .fusion import FusionConfig, fuse, rule_out
from .matcher import KeywordMatcher, MatchResult
from .model import TextModel
from .normalize import normalize
from .taxonomy import Taxonomy

__all__ = ["Engine", "ChunkResult", "RowFacts", "STATUSES"]

#: Per-row statuses of batch scoring. Only ``ok`` and ``invalid_hs_code`` rows carry a category
#: (an invalid code is ignored and reported; the text is still screened).
STATUSES = ("ok", "empty_text", "invalid_text_type", "invalid_hs_code")


@dataclass
class RowFacts:
    """Per-row facts the pydantic path needs beyond the columnar arrays."""

    match: MatchResult | None = None
    hs: hs_module.HSCode | None = None
    hs_family: str | None = None
    hs_ambiguous: bool = False
    hs_error: str | None = None
    truncated: bool = False
    folded: str = ""


@dataclass
class ChunkResult:
    """Columnar results for a chunk, one entry per input row, in input order."""

    status: list[str]
    error: list[str | None]
    probabilities: np.ndarray  # (n, 4); NaN rows where there is no category
    model_probabilities: np.ndarray | None  # as fused: after ruling-out exclusions (see _rule_out)
    text_category: list[str | None]
    category: list[str | None]
    subcategory: list[str | None]
    confidence: np.ndarray
    risk_level: list[str | None]
    needs_review: list[bool | None]
    review_reasons: list[tuple[str, ...]]
    chpl_tier: list[str | None]
    references: list[tuple[str, ...]]
    facts: list[RowFacts] = field(repr=False, default_factory=list)
    #: the model's feature matrix of the chunk's distinct folded texts, and per row the index
    #: of its text in it (-1 for rows that were not screened): what explanations are built from
    model_features: Any = field(repr=False, default=None)
    model_rows: np.ndarray | None = field(repr=False, default=None)

    def __len__(self) -> int:
        return len(self.status)


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")  # pandas NA / NaT, without importing pandas


class _ScreeningMemo:
    """A bounded memo of text -> (folded text, keyword matches) shared by all calls of an engine.

    Trade files and item masters repeat the same descriptions across a whole file, not only
    within a chunk; normalising and matching are pure functions of the text, so each distinct
    description is screened once while it stays in the memo. Two generations approximate
    "least recently used" without per-hit bookkeeping: when the young generation is full it
    becomes the old one and the previous old one is dropped, so at most ``max_entries`` texts
    are held. Only texts of at most ``max_text_chars`` characters are kept (long texts rarely
    repeat), which bounds the memo at a few tens of MB per process whatever the input
    (~30 MB on the benchmark's trade records). Races between threads can only cause a
    recomputation.
    """

    def __init__(self, max_entries: int = 40_000, max_text_chars: int = 200) -> None:
        self._half = max(1, max_entries // 2)
        self._max_text_chars = max_text_chars
        self._young: dict[str, tuple[str, MatchResult | None]] = {}
        self._old: dict[str, tuple[str, MatchResult | None]] = {}

    def get(self, text: str) -> tuple[str, MatchResult | None] | None:
        hit = self._young.get(text)
        if hit is None:
            hit = self._old.get(text)
            if hit is not None:
                self.put(text, hit)  # still in use: keep it through the next turnover
        return hit

    def put(self, text: str, value: tuple[str, MatchResult | None]) -> None:
        if len(text) > self._max_text_chars:
            return
        young = self._young
        if len(young) >= self._half:
            self._old, self._young = young, {}
            young = self._young
        young[text] = value


class Engine:
    """Scores chunks of texts with a taxonomy, an optional text model and HS codes."""

    def __init__(self, taxonomy: Taxonomy, model: TextModel | None = None, fusion: FusionConfig | None = None) -> None:
        self.taxonomy = taxonomy
        self.model = model
        self.fusion = fusion or (model.fusion if model is not None else FusionConfig())
        self.matcher = KeywordMatcher(taxonomy)
        self._refs = {s.id: tuple(s.control_refs) for s in taxonomy.subcategories}
        self._hs_subcats = sorted(
            ((p, s.id, s.family) for s in taxonomy.subcategories for p in s.hs_prefixes), key=lambda x: -len(x[0])
        )
        self._memo = _ScreeningMemo()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_memo"] = None  # a per-process cache: never shipped to a worker or a file
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._memo = _ScreeningMemo()

    # ------------------------------------------------------------------ provenance

    def provenance(self) -> dict:
        return {
            "dualuse_version": __version__,
            "taxonomy_name": self.taxonomy.name,
            "taxonomy_version": self.taxonomy.version,
            "taxonomy_sha256": self.taxonomy.sha256,
            "model_id": getattr(self.model, "model_id", None),
            "model_sha256": getattr(self.model, "sha256", None),
            "fusion": self.fusion.describe(),
        }

    # ------------------------------------------------------------------ scoring

    def score(self, texts: Sequence[object], hs_codes: Sequence[object] | None = None) -> ChunkResult:
        """Score one chunk. Never raises for a bad row: it gets a status and an error."""
        n = len(texts)
        if hs_codes is not None and len(hs_codes) != n:
            raise InputTypeError(f"hs_codes: expected {n} codes (one per text), got {len(hs_codes)}")
        status = ["ok"] * n
        error: list[str | None] = [None] * n
        facts = [RowFacts() for _ in range(n)]
        max_chars = self.fusion.max_chars
        ok_rows: list[int] = []
        memo = self._memo  # repeated descriptions are normalised and matched once (see _ScreeningMemo)
        for i, raw in enumerate(texts):
            f = facts[i]
            if not isinstance(raw, str):
                status[i] = "empty_text" if _is_missing(raw) else "invalid_text_type"
                error[i] = (
                    "text: expected a non-empty str, got a missing value"
                    if status[i] == "empty_text"
                    else f"text: expected str, got {describe(raw)}"
                )
                continue
            if not raw.strip():
                status[i] = "empty_text"
                error[i] = f"text: expected a non-empty description, got {describe(raw)}"
                continue
            text = raw
            if len(text) > max_chars:
                text = text[:max_chars]
                f.truncated = True
            cached = memo.get(text)
            if cached is None:
                norm = normalize(text)
                match = self.matcher.match_normalized(norm, text) if norm.text.strip() else None
                # the model reads what the matcher read: leet letters, reversed runs (see MatchResult)
                reading = match.model_text if match is not None and match.model_text is not None else norm.text
                cached = (reading, match)
                memo.put(text, cached)
            f.folded, f.match = cached
            if f.match is None:  # only invisible / control characters
                status[i] = "empty_text"
                error[i] = "text: expected a description with visible characters, got only invisible or control characters"
                continue
            ok_rows.append(i)
            if hs_codes is not None:
                self._attach_hs(hs_codes[i], f, i, status, error)

        probs = np.full((n, len(CATEGORIES)), np.nan)
        text_probs = np.full((n, len(CATEGORIES)), np.nan)
        model_probs = None
        model_features = None
        model_rows = None
        if ok_rows:
            idx = np.asarray(ok_rows)
            kw = np.zeros((len(ok_rows), len(CATEGORIES)))
            for j, i in enumerate(ok_rows):
                scores = facts[i].match.family_scores  # type: ignore[union-attr]
                for fam in FAMILIES:
                    kw[j, CATEGORY_INDEX[fam]] = scores[fam]
            if self.model is not None:
                # repeated descriptions (common in item masters) are featurised once
                folded = [facts[i].folded for i in ok_rows]
                if len(folded) == 1:  # classify(): nothing to share, and np.unique costs as much as scoring
                    unique_texts, inverse = folded, np.zeros(1, dtype=np.intp)
                else:
                    unique, inverse = np.unique(np.asarray(folded, dtype=object), return_inverse=True)
                    unique_texts = unique.tolist()
                model_features = self.model.features(unique_texts)
                mp = np.asarray(self.model.predict_proba_features(model_features), dtype=float)[inverse.ravel()]
                model_rows = np.full(n, -1, dtype=np.int64)
                model_rows[idx] = inverse.ravel()
                mp = rule_out(mp, [facts[i].match for i in ok_rows])  # type: ignore[misc]
                model_probs = np.full((n, len(CATEGORIES)), np.nan)
                model_probs[idx] = mp
            else:
                mp = None
            hs_onehot = np.zeros_like(kw)
            for j, i in enumerate(ok_rows):
                code_family = facts[i].hs_family
                if code_family is not None and not facts[i].hs_ambiguous:
                    hs_onehot[j, CATEGORY_INDEX[code_family]] = 1.0
            text_probs[idx] = fuse(mp, kw, None, self.fusion)
            # without a usable HS code in the chunk the HS term adds zeros: the same numbers
            zero_hs = not hs_onehot.any() and math.isfinite(self.fusion.hs_weight) and math.isfinite(self.fusion.hs_none_weight)
            probs[idx] = text_probs[idx] if zero_hs else fuse(mp, kw, hs_onehot, self.fusion)

        result = self._decide(status, error, probs, text_probs, model_probs, facts)
        result.model_features, result.model_rows = model_features, model_rows
        return result

    def explanations(self, result: ChunkResult, top_k: int = 5) -> list[list[tuple[str, float]]]:
        """Per row of a scored chunk, the model features that raised its category most.

        Built from the feature matrix the chunk was scored with (no second featurisation);
        ``[]`` for rows without a category, and for every row when the engine has no model.
        """
        n = len(result)
        if self.model is None or result.model_rows is None:
            return [[] for _ in range(n)]
        rows = np.flatnonzero(result.model_rows >= 0)
        wanted = [result.category[i] for i in rows]
        explained = self.model.top_features(result.model_features[result.model_rows[rows]], wanted, top_k)
        out: list[list[tuple[str, float]]] = [[] for _ in range(n)]
        for i, features in zip(rows.tolist(), explained):
            out[i] = features
        return out

    def text_components(self, texts: Sequence[str]) -> tuple[np.ndarray | None, np.ndarray]:
        """Model probabilities (or None) and keyword scores of valid texts: the fusion's inputs."""
        res = self.score(texts)
        bad = [i for i, st in enumerate(res.status) if st != "ok"]
        if bad:
            raise InputTypeError(f"texts[{bad[0]}]: expected a valid description, got status {res.status[bad[0]]!r}")
        kw = np.zeros((len(texts), len(CATEGORIES)))
        for i, f in enumerate(res.facts):
            for fam in FAMILIES:
                kw[i, CATEGORY_INDEX[fam]] = f.match.family_scores[fam]  # type: ignore[union-attr]
        return res.model_probabilities, kw

    def _attach_hs(self, code: object, f: RowFacts, i: int, status: list[str], error: list[str | None]) -> None:
        if _is_missing(code) or (isinstance(code, str) and not code.strip()):
            return
        try:
            parsed = hs_module.parse_hs_code(code, param="hs_code")
        except (InvalidHSCodeError, InputTypeError) as exc:
            status[i] = "invalid_hs_code"
            error[i] = str(exc)
            f.hs_error = str(exc)
            return
        f.hs = parsed
        f.hs_ambiguous = hs_module.hs_family_ambiguous(parsed)
        f.hs_family = hs_module.hs_family(parsed, f.folded)

    def _decide(self, status, error, probs, text_probs, model_probs, facts) -> ChunkResult:
        n = len(status)
        cfg = self.fusion
        has_cat = ~np.isnan(probs[:, 0])
        safe = np.where(has_cat[:, None], probs, 0.0)
        cat_idx = np.argmax(safe, axis=1)
        text_idx = np.argmax(np.where(has_cat[:, None], text_probs, 0.0), axis=1)
        confidence = np.where(has_cat, safe[np.arange(n), cat_idx], np.nan)
        fam_max = np.max(np.delete(safe, NONE_INDEX, axis=1), axis=1) if n else np.zeros(0)
        category: list[str | None] = [None] * n
        text_category: list[str | None] = [None] * n
        subcategory: list[str | None] = [None] * n
        risk: list[str | None] = [None] * n
        review: list[bool | None] = [None] * n
        reasons: list[tuple[str, ...]] = [()] * n
        chpl: list[str | None] = [None] * n
        refs: list[tuple[str, ...]] = [()] * n
        for i in range(n):
            f = facts[i]
            if f.hs is not None:
                chpl[i] = hs_module.chpl_tier(f.hs)
            if not has_cat[i]:
                continue
            cat = CATEGORIES[cat_idx[i]]
            category[i] = cat
            tcat = CATEGORIES[text_idx[i]]
            text_category[i] = tcat
            why: list[str] = []
            if cat != "none":
                why.append("family_flagged")
            elif fam_max[i] >= cfg.review_threshold:
                why.append("uncertain")
            if f.hs is not None:
                if f.hs_ambiguous:
                    why.append("hs_code_ambiguous")
                elif f.hs_family != tcat:
                    why.append("hs_text_disagreement")
                if chpl[i] is not None:
                    why.append("chpl_listed")
            if f.hs_error is not None:
                why.append("invalid_hs_code")
            if f.truncated:
                why.append("input_truncated")
            if cat != "none":
                conf = confidence[i]
                risk[i] = "high" if conf >= cfg.high_risk_threshold else "medium" if conf >= cfg.medium_risk_threshold else "low"
                sub = self._subcategory(cat, f)
                subcategory[i] = sub
                if sub is not None:
                    refs[i] = self._refs[sub]
            else:
                risk[i] = "low" if why else "none"
            review[i] = bool(why)
            reasons[i] = tuple(why)
        return ChunkResult(
            status=status,
            error=error,
            probabilities=probs,
            model_probabilities=model_probs,
            text_category=text_category,
            category=category,
            subcategory=subcategory,
            confidence=confidence,
            risk_level=risk,
            needs_review=review,
            review_reasons=reasons,
            chpl_tier=chpl,
            references=refs,
            facts=facts,
        )

    def _subcategory(self, category: str, f: RowFacts) -> str | None:
        """The strongest matched subcategory of the decided family; else the HS code's."""
        if category == "none":
            return None
        best: tuple[float, int] | None = None
        best_sub = None
        if f.match is not None:
            for m in f.match.matches:
                if m.family == category and (best is None or (m.weight, -m.start) > best):
                    best, best_sub = (m.weight, -m.start), m.subcategory
        if best_sub is None and f.hs is not None and f.hs_family == category:
            for prefix, sub_id, fam in self._hs_subcats:
                if fam == category and f.hs.digits.startswith(prefix):
                    return sub_id
        return best_sub
