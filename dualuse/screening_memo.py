"""The engine's memo of screened texts: each distinct description is normalised and matched once."""

from __future__ import annotations

from .match_result import MatchResult

__all__ = ["ScreeningMemo"]


class ScreeningMemo:
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
