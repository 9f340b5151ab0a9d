"""A model vocabulary (term -> feature index) that loads without building a Python object per term.

Why: the shipped model has ~430,000 terms. As a ``dict`` of ``str`` they cost ~0.15 s to build
at every start and ~50 MB, and a dict that large lengthens every full garbage collection
of the process. Here the terms stay in the model file's own form, the UTF-8 bytes of the
terms joined by ``"\\n"``, and are looked up in a sorted fixed-width byte array with
``numpy.searchsorted``: a few microseconds for the n-grams of one text. Large chunks, where
a hash lookup per n-gram is cheaper than a numpy call, get the ``dict`` on first need
(:meth:`Vocabulary.mapping`), so a process that only screens single texts never builds it.

Both lookups give the same index for every string: exact equality of the term's bytes. A
vocabulary that the array form cannot represent exactly (a term holding the byte 0, which
fixed-width byte strings treat as padding) uses the ``dict`` for every lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

__all__ = ["Vocabulary"]

#: Terms longer than this many UTF-8 bytes are looked up in a small dict instead of the
#: fixed-width array (whose width is its longest term): a few long part numbers would
#: otherwise multiply the array's size.
_MAX_ARRAY_WIDTH = 24


class Vocabulary:
    """Terms of one vectoriser and the feature index of each (its position plus ``offset``).

    Build with :meth:`from_terms` (a list of str) or :meth:`from_blob` (the model file's
    UTF-8 bytes). Raises ``ValueError`` naming ``name`` for duplicate, empty or non-str terms.
    """

    def __init__(self, blob: bytes, starts: np.ndarray, name: str, offset: int) -> None:
        self.name = name
        self.offset = offset
        self._blob = blob
        self._starts = starts  # int64, len(terms) + 1: term i is blob[starts[i]:starts[i + 1] - 1]
        self._mapping: dict[str, int] | None = None
        self._lock = threading.Lock()
        n = len(starts) - 1
        lengths = np.diff(starts) - 1
        if n and lengths.min() <= 0:
            raise ValueError(f"{name}: expected non-empty strings")
        raw = np.frombuffer(blob, dtype=np.uint8)
        self._array_ok = not (raw == 0).any()
        self._sorted: np.ndarray | None = None
        self._positions: np.ndarray | None = None
        self._long: dict[bytes, int] = {}
        if not self._array_ok:
            self.mapping()  # checks duplicates too
            return
        short = lengths <= _MAX_ARRAY_WIDTH
        width = max(1, int(lengths[short].max()) if short.any() else 1)
        # one column at a time: byte j of every term (0 past a term's end, as fixed-width
        # byte strings pad); rows of long terms are left out below
        padded = np.concatenate([raw, np.zeros(width, dtype=np.uint8)])
        columns = np.empty((width, n), dtype=np.uint8)
        for j in range(width):
            np.take(padded, starts[:-1] + j, out=columns[j])
            columns[j] *= lengths > j
        fixed = np.ascontiguousarray(columns.T).view(f"S{width}").ravel()
        positions = np.flatnonzero(short)
        fixed = fixed[positions]
        if len(fixed) > 1 and not bool(np.all(fixed[1:] > fixed[:-1])):
            order = np.argsort(fixed, kind="stable")
            fixed, positions = fixed[order], positions[order]
            if len(fixed) > 1 and not bool(np.all(fixed[1:] != fixed[:-1])):
                raise ValueError(f"{name}: duplicate terms")
        self._sorted, self._positions = fixed, positions
        for i in np.flatnonzero(~short).tolist():
            term = blob[starts[i] : starts[i + 1] - 1]
            if term in self._long:
                raise ValueError(f"{name}: duplicate terms")
            self._long[term] = i

    @classmethod
    def from_terms(cls, terms: Sequence[str], name: str, offset: int = 0) -> Vocabulary:
        """The vocabulary of a list of terms (a term's index is its position)."""
        terms = list(terms)
        if any(not isinstance(t, str) for t in terms):
            raise ValueError(f"{name}: expected non-empty strings")
        if any("\n" in t for t in terms):
            raise ValueError(f"{name}: a term holds a line break")
        return cls.from_blob("\n".join(terms).encode("utf-8"), len(terms), name, offset)

    @classmethod
    def from_blob(cls, blob: bytes, count: int, name: str, offset: int = 0) -> Vocabulary:
        """The vocabulary of UTF-8 terms joined by ``"\\n"`` (as :mod:`dualuse.persistence` stores it).

        Raises ``ValueError`` when the bytes are not UTF-8 or hold another number of terms.
        """
        try:
            blob.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{name}: not UTF-8") from None
        if count == 0:
            if blob:
                raise ValueError(f"{name}: expected 0 terms, got bytes")
            return cls(b"", np.zeros(1, dtype=np.int64), name, offset)
        raw = np.frombuffer(blob, dtype=np.uint8)
        breaks = np.flatnonzero(raw == 10)
        if len(breaks) + 1 != count:
            raise ValueError(f"{name}: {len(breaks) + 1} terms, expected {count}")
        starts = np.empty(count + 1, dtype=np.int64)
        starts[0] = 0
        starts[1:-1] = breaks + 1
        starts[-1] = len(blob) + 1  # as if the last term ended with a line break too
        return cls(bytes(blob), starts, name, offset)

    def __len__(self) -> int:
        return len(self._starts) - 1

    def term(self, index: int) -> str:
        """The term at position ``index`` (without the offset)."""
        return self._blob[self._starts[index] : self._starts[index + 1] - 1].decode("utf-8")

    def terms(self) -> list[str]:
        """All terms in index order."""
        return self._blob.decode("utf-8").split("\n") if len(self) else []

    def mapping(self) -> dict[str, int]:
        """term -> feature index (offset added), built on first use and then kept."""
        mapping = self._mapping
        if mapping is None:
            with self._lock:
                if self._mapping is None:
                    terms = self.terms()
                    built = dict(zip(terms, range(self.offset, self.offset + len(terms))))
                    if len(built) != len(terms):
                        raise ValueError(f"{self.name}: {len(terms) - len(built)} duplicate terms")
                    self._mapping = built
                mapping = self._mapping
        return mapping

    def indices(self, grams: list[str]) -> np.ndarray:
        """Feature index (offset added) of each of ``grams``, -1 where it is no term (int64)."""
        out = np.full(len(grams), -1, dtype=np.int64)
        if not grams or not len(self):
            return out
        if self._mapping is not None or self._sorted is None:
            get = self.mapping().get
            out[:] = [get(g, -1) for g in grams]
            return out
        table = self._sorted
        width = table.dtype.itemsize
        encoded = [g.encode("utf-8") for g in grams]
        # a gram longer than the array's width, or holding a 0 byte, cannot be an array term
        # (fixed-width strings would truncate it or drop its trailing zeros): it is looked up
        # among the long terms, or is no term
        odd = [i for i, b in enumerate(encoded) if len(b) > width or b"\x00" in b]
        if odd:
            for i in odd:
                out[i] = self._long.get(encoded[i], -1)
            fit = np.ones(len(grams), dtype=bool)
            fit[odd] = False
            where = np.flatnonzero(fit)
            query = np.array([encoded[i] for i in where.tolist()], dtype=table.dtype)
        else:
            where = None
            query = np.array(encoded, dtype=table.dtype)
        if len(query) and len(table):
            at = np.searchsorted(table, query)
            np.minimum(at, len(table) - 1, out=at)
            hit = table[at] == query
            assert self._positions is not None
            found = np.where(hit, self._positions[at], -1)
            if where is None:
                out[:] = found
            else:
                out[where] = found
        if self.offset:
            out[out >= 0] += self.offset
        return out
