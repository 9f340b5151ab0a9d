"""The one scoring engine: a chunk of texts (and HS codes) in, columnar results out.

``classify`` is this engine on a chunk of one; ``classify_batch``, ``score_frame``, the CLI
and Dask feed it larger chunks, so every path gives identical answers by construction and
the vectorised path is the only path: one model call per chunk, the keyword matcher once per
distinct text, fusion (:mod:`dualuse.fusion`) in numpy. The HS code is strong evidence but
never silent: when the text alone points elsewhere the row gets ``needs_review`` and the HS
evidence says ``agrees_with_text = False``.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Sequence

import numpy as np

from . import hs as hs_module
from ._version import __version__
from .categories import CATEGORIES, CATEGORY_INDEX, FAMILIES, NONE_INDEX
from .chunk_result import ChunkResult, RowFacts
from .decisions import AppliedDecision, Decisions, as_decisions
from .destinations import DestinationLists, default_destinations, parse_country_code
from .errors import InputTypeError, InvalidCountryCodeError, InvalidHSCodeError, describe
from .fusion import FusionConfig, fuse, rule_out, temper_unfamiliar
from .hs_index import HSIndex
from .hs_suggest import suggest_texts
from .matcher import KeywordMatcher
from .model import TextModel
from .normalize import normalize
from .priority import priority, suggested_tier
from .screening_memo import ScreeningMemo
from .scripts import script_of
from .taxonomy import Taxonomy

__all__ = ["Engine", "ChunkResult", "RowFacts", "STATUSES"]

#: Per-row statuses of batch scoring. Only ``ok``, ``invalid_hs_code`` and ``invalid_destination``
#: rows carry a category (an invalid code or destination is ignored and reported; the text is
#: still screened, and a row with an invalid destination gets no priority).
STATUSES = ("ok", "empty_text", "invalid_text_type", "invalid_hs_code", "invalid_destination")


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")  # pandas NA / NaT, without importing pandas


class Engine:
    """Scores chunks of texts with a taxonomy, an optional text model and HS codes.

    ``decisions`` (a path to a reviewed-decisions file, or a loaded
    :class:`~dualuse.decisions.Decisions`) sets the category of every row a team has already
    decided, keeping the screening's own verdict beside it (see :mod:`dualuse.decisions`).
    ``hs_index`` (built for ``model``) turns HS-6 suggestions on; ``destinations`` are the
    country lists of the priority (the packaged ones when None).
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        model: TextModel | None = None,
        fusion: FusionConfig | None = None,
        decisions: Decisions | str | os.PathLike[str] | None = None,
        *,
        hs_index: HSIndex | None = None,
        destinations: DestinationLists | None = None,
    ) -> None:
        if hs_index is not None and model is None:
            raise InputTypeError("hs_index: HS-6 suggestions need the text model's features; pass a model or hs_index=None")
        self.hs_index = hs_index
        self.destinations = destinations if destinations is not None else default_destinations()
        self._suggest_cache: dict = {}  # subcategories -> code indices under their HS prefixes
        self.taxonomy = taxonomy
        self.model = model
        self.fusion = fusion or (model.fusion if model is not None else FusionConfig())
        self.matcher = KeywordMatcher(taxonomy)
        self._refs = {s.id: tuple(s.control_refs) for s in taxonomy.subcategories}
        self._hs_subcats = sorted(
            ((p, s.id, s.family) for s in taxonomy.subcategories for p in s.hs_prefixes), key=lambda x: -len(x[0])
        )
        self._memo = ScreeningMemo()
        self.decisions = None if decisions is None else as_decisions(decisions)

    def with_decisions(self, decisions: Decisions | str | os.PathLike[str] | None) -> Engine:
        """This engine (same taxonomy, model and fusion, nothing reloaded) with other decisions."""
        other = copy.copy(self)
        other._memo = ScreeningMemo()
        other.decisions = None if decisions is None else as_decisions(decisions)
        return other

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_memo"] = None  # a per-process cache: never shipped to a worker or a file
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._memo = ScreeningMemo()

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
            "decisions_sha256": None if self.decisions is None else self.decisions.sha256,
            "hs_index_sha256": self.hs_index.sha256 if self.hs_index is not None else None,
            "destinations_name": self.destinations.name,
            "destinations_version": self.destinations.version,
            "destinations_sha256": self.destinations.sha256,
        }

    # ------------------------------------------------------------------ scoring

    def score(
        self, texts: Sequence[object], hs_codes: Sequence[object] | None = None, destinations: Sequence[object] | None = None
    ) -> ChunkResult:
        """Score one chunk. Never raises for a bad row: it gets a status and an error.

        ``destinations`` are ISO 3166-1 alpha-2 codes (or None), one per text.
        """
        n = len(texts)
        if hs_codes is not None and len(hs_codes) != n:
            raise InputTypeError(f"hs_codes: expected {n} codes (one per text), got {len(hs_codes)}")
        if destinations is not None and len(destinations) != n:
            raise InputTypeError(f"destinations: expected {n} country codes (one per text), got {len(destinations)}")
        status = ["ok"] * n
        error: list[str | None] = [None] * n
        facts = [RowFacts() for _ in range(n)]
        max_chars = self.fusion.max_chars
        ok_rows: list[int] = []
        memo = self._memo  # repeated descriptions are normalised and matched once (see ScreeningMemo)
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
            if destinations is not None:
                self._attach_destination(destinations[i], f, i, status, error)

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
            familiar = self.fusion.familiar_scripts
            if mp is not None and familiar is not None:
                unfamiliar = np.zeros(n, dtype=bool)
                for i in ok_rows:
                    f = facts[i]
                    raw = texts[i]
                    assert isinstance(raw, str) and f.match is not None
                    # ASCII is Latin or no letters at all: the common case costs one C call
                    if f.match.matches or f.hs is not None or raw.isascii():
                        continue
                    script = script_of(raw[:max_chars])
                    if script != "no_letters" and script not in familiar:
                        unfamiliar[i] = f.unfamiliar_script = True
                text_probs = temper_unfamiliar(text_probs, unfamiliar, self.fusion)
                probs = temper_unfamiliar(probs, unfamiliar, self.fusion)
            if self.hs_index is not None and model_features is not None:
                self._attach_suggestions(ok_rows, facts, model_features, inverse.ravel(), text_probs)

        result = self._decide(status, error, probs, text_probs, model_probs, facts)
        result.model_features, result.model_rows = model_features, model_rows
        if self.decisions is not None:
            self._apply_decisions(result, texts)
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

    def _attach_suggestions(self, ok_rows, facts, features, inverse, text_probs) -> None:
        """HS-6 suggestions per distinct text (they depend on the text only), copied to its rows."""
        assert self.hs_index is not None
        self.hs_index.check_model(getattr(self.model, "sha256", None))
        first = np.full(features.shape[0], -1, dtype=np.int64)
        first[inverse[::-1]] = np.arange(len(inverse))[::-1]  # each distinct text's first row
        rows = [ok_rows[j] for j in first.tolist()]
        found = suggest_texts(
            self.hs_index,
            self.taxonomy,
            self._suggest_cache,
            features,
            [facts[i].folded for i in rows],
            text_probs[rows],
            [[m.subcategory for m in facts[i].match.matches] for i in rows],
        )
        for j, i in enumerate(ok_rows):
            facts[i].hs_suggestions = found[inverse[j]]

    def _attach_destination(self, value: object, f: RowFacts, i: int, status: list[str], error: list[str | None]) -> None:
        if _is_missing(value) or (isinstance(value, str) and not value.strip()):
            return
        try:
            f.destination = parse_country_code(value, param="destination")
        except (InvalidCountryCodeError, InputTypeError) as exc:
            f.destination_error = str(exc)
            if status[i] == "ok":
                status[i] = "invalid_destination"
            error[i] = str(exc) if error[i] is None else f"{error[i]}; {exc}"
            return
        f.destination_status = self.destinations.status(f.destination)

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
        prio: list[str | None] = [None] * n
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
                if (
                    cat != "none"
                    and f.hs_suggestions
                    and not f.hs_ambiguous
                    and not any(s.code.startswith(f.hs.digits[:6]) for s in f.hs_suggestions)
                ):
                    why.append("hs_code_not_suggested")
            if f.hs_error is not None:
                why.append("invalid_hs_code")
            if f.destination_error is not None:
                why.append("invalid_destination")
            if f.truncated:
                why.append("input_truncated")
            if f.unfamiliar_script:
                why.append("unfamiliar_script")
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
            if f.destination_error is None:
                # the given code's tier, else a suggested code's (the one a reviewer would rule out first)
                tier = chpl[i] if f.hs is not None else suggested_tier(cat, f.hs_suggestions)
                prio[i] = priority(cat, risk[i], reasons[i], tier, f.destination_status)
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
            priority=prio,
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

    # ------------------------------------------------------------------ reviewed decisions

    #: review reasons that are facts about the record, not about the category: a decision keeps them
    _RECORD_REASONS = ("chpl_listed", "invalid_hs_code", "input_truncated")

    def _apply_decisions(self, result: ChunkResult, texts: Sequence[object]) -> None:
        """Give every screened row that a reviewed decision covers the decided category.

        The decided category gets probability 1 (a person settled it), so category, confidence,
        risk level and probabilities stay consistent; the screening's verdict is kept in
        :attr:`ChunkResult.decided`. Review reasons about the record (CHPL listing, invalid code,
        truncation) stay; the ones about the category are recomputed for the decided one, and
        an HS code whose family disagrees with a decision made without a code is flagged.
        """
        assert self.decisions is not None
        decided: list[AppliedDecision | None] = [None] * len(result)
        for i, cat in enumerate(result.category):
            text = texts[i]
            if cat is None or not isinstance(text, str):
                continue
            f = result.facts[i]
            d = self.decisions.lookup(text, None if f.hs is None else f.hs.digits)
            if d is None:
                continue
            decided[i] = AppliedDecision(d, cat, float(result.confidence[i]), tuple(float(p) for p in result.probabilities[i]))
            label = d.label
            result.probabilities[i] = 0.0
            result.probabilities[i, CATEGORY_INDEX[label]] = 1.0
            result.confidence[i] = 1.0
            result.category[i] = label
            sub = self._subcategory(label, f)
            result.subcategory[i] = sub
            result.references[i] = self._refs[sub] if sub is not None else ()
            why = ["family_flagged"] if label != "none" else []
            if d.hs_digits is None and f.hs is not None and not f.hs_ambiguous and f.hs_family != label:
                why.append("hs_text_disagreement")
            why.extend(r for r in result.review_reasons[i] if r in self._RECORD_REASONS)
            result.review_reasons[i] = tuple(why)
            result.needs_review[i] = bool(why)
            # confidence 1 is above every risk threshold: a family a person confirmed is high risk
            result.risk_level[i] = "high" if label != "none" else "low" if why else "none"
        result.decided = decided
