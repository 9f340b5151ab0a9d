"""Physical lines of a text file, read in blocks, with the line ends CSV readers use.

A line ends at ``\\r\\n``, ``\\n`` or a lone ``\\r`` (as :mod:`csv`, pandas and pyarrow read
them), and each line keeps its own ending so that a quoted field spanning lines is rebuilt
exactly as written. A line longer than :data:`MAX_LINE_BYTES` is never held in memory: it is
skipped up to its end and handed on as a line whose text is ``None`` (the readers turn it
into a ``malformed_line`` row, or refuse the file when it is the header / first object).
"""

from __future__ import annotations

import collections
import itertools
import re
from collections.abc import Iterator
from typing import BinaryIO

__all__ = ["Lines", "LineItem", "MAX_LINE_BYTES"]

#: The longest physical line read, in bytes. Longer lines are skipped without being buffered
#: (a 273 MB JSON array saved as ``.jsonl`` is refused at once instead of filling memory).
MAX_LINE_BYTES = 64 << 20

#: (line number, text or None when the line was too long, problem message, line ending)
LineItem = tuple[int, "str | None", "str | None", str]

_SPLIT = re.compile(r"(\r\n|\r|\n)")
_BSPLIT = re.compile(rb"(\r\n|\r|\n)")


def _decode(raw: bytes, lineno: int) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 4]
        return raw.decode("utf-8", "replace"), (
            f"line {lineno}: bytes that are not UTF-8 at byte {exc.start} ({bad!r}...) were replaced with U+FFFD"
        )


def _last_end(data: bytes) -> int:
    """Index of the last line-end byte of ``data`` whose meaning is known.

    A ``\\r`` as the very last byte may be the first half of ``\\r\\n``: it only counts once
    the next byte is known, so it is left for the next read.
    """
    limit = len(data) - 1 if data.endswith(b"\r") else len(data)
    return max(data.rfind(b"\n", 0, limit), data.rfind(b"\r", 0, limit))


def _first_end(data: bytes) -> tuple[int, int] | None:
    """(start, stop) of the first line ending of ``data`` whose meaning is known, or None."""
    m = _BSPLIT.search(data)
    if m is None or (m.group() == b"\r" and m.end() == len(data)):
        return None
    return m.start(), m.end()


class Lines:
    """Physical lines of a binary file: :data:`LineItem` tuples, with push-back.

    The file is read in blocks of whole lines, each block decoded at once (per line only when
    it holds bytes that are not UTF-8), so the per-line cost is a list item, not a call.
    """

    BLOCK = 1 << 20

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.lineno = 0
        self.bytes = 0  # bytes of the file consumed into lines so far (for progress)
        self.pending: collections.deque[LineItem] = collections.deque()
        self._rest = b""
        self._eof = False
        self._skipping = False  # inside a line longer than MAX_LINE_BYTES
        #: per overlong line (by number): whether it held an odd number of '"' characters, so
        #: that a CSV reader can tell whether a quoted field it was part of closed in it
        self.odd_quotes: dict[int, bool] = {}
        self._first = True

    def fill(self) -> bool:
        """Append the next block of lines to ``pending``; False at the end of the file."""
        while True:
            if self._eof:
                return False
            data = self.fh.read(self.BLOCK)
            if not data:
                self._eof = True
                rest, self._rest = self._rest, b""
                if self._skipping or not rest:
                    self.bytes += len(rest)
                    return False
                self._emit(rest)
                return True
            if self._rest:
                data, self._rest = self._rest + data, b""
            if self._first:
                if len(data) < 3 and b"\xef\xbb\xbf".startswith(data):
                    self._rest = data  # too short to tell whether it is a BOM
                    continue
                self._first = False
                if data.startswith(b"\xef\xbb\xbf"):
                    data = data[3:]
                    self.bytes += 3
            if self._skipping:
                end = _first_end(data)
                if end is None:  # still inside the overlong line: drop what was read
                    keep = 1 if data.endswith(b"\r") else 0
                    self._count_quotes(data)
                    self.bytes += len(data) - keep
                    self._rest = data[len(data) - keep :]
                    continue
                self._count_quotes(data[: end[0]])
                self.bytes += end[1]
                data = data[end[1] :]
                self._skipping = False
                if not data:
                    continue
            cut = _last_end(data)
            if cut < 0:
                if len(data) > MAX_LINE_BYTES:
                    self._overlong()
                    self._count_quotes(data)
                    keep = 1 if data.endswith(b"\r") else 0
                    self.bytes += len(data) - keep
                    self._rest = data[len(data) - keep :]
                    return True
                self._rest = data
                continue
            self._rest = data[cut + 1 :]
            self._emit(data[: cut + 1])
            return True

    def _overlong(self) -> None:
        self.lineno += 1
        self._skipping = True
        self.pending.append((self.lineno, None, f"line {self.lineno}: longer than {MAX_LINE_BYTES:,} bytes; not read", "\n"))

    def settle(self) -> None:
        """Finish skipping an overlong line, so that :attr:`odd_quotes` knows all of it."""
        if self._skipping:
            self.fill()

    def _count_quotes(self, data: bytes) -> None:
        if data.count(b'"') % 2:
            self.odd_quotes[self.lineno] = not self.odd_quotes.get(self.lineno, False)

    def _emit(self, block: bytes) -> None:
        """Split a block of whole lines (the last one may lack its ending at the end of the file)."""
        self.bytes += len(block)
        start = self.lineno + 1
        problems: dict[int, str] | None = None
        try:
            text: str | None = block.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        texts: list[str | None]
        endings: list[str] | None
        if text is not None and "\r" not in text:
            texts = list(text.split("\n"))
            endings = None
        elif text is not None:
            parts = _SPLIT.split(text)
            texts, endings = list(parts[0::2]), list(parts[1::2])
        else:
            raw_parts = _BSPLIT.split(block)
            problems = {}
            texts = []
            for k, raw in enumerate(raw_parts[0::2]):
                decoded, problem = _decode(raw, start + k)
                if problem:
                    problems[k] = problem
                texts.append(decoded)
            endings = [e.decode("ascii") for e in raw_parts[1::2]]
        if block.endswith((b"\n", b"\r")):
            texts.pop()  # the block ends with a line end: the empty piece after it is no line
        endings_iter: Iterator[str] = (
            itertools.repeat("\n") if endings is None else itertools.chain(endings, itertools.repeat(""))
        )
        if len(block) > MAX_LINE_BYTES:  # only a block this large can hold an overlong line
            for k, t in enumerate(texts):
                if t is not None and len(t) > MAX_LINE_BYTES // 4 and len(t.encode("utf-8", "replace")) > MAX_LINE_BYTES:
                    texts[k] = None
                    if t.count('"') % 2:
                        self.odd_quotes[start + k] = True
                    problems = problems if problems is not None else {}
                    problems[k] = f"line {start + k}: longer than {MAX_LINE_BYTES:,} bytes; not read"
        self.lineno += len(texts)
        if problems:
            self.pending.extend((start + k, t, problems.get(k), e) for k, (t, e) in enumerate(zip(texts, endings_iter)))
        else:
            self.pending.extend(zip(range(start, start + len(texts)), texts, itertools.repeat(None), endings_iter))

    def next(self) -> LineItem | None:
        if not self.pending and not self.fill():
            return None
        return self.pending.popleft()

    def push_back(self, items: list[LineItem]) -> None:
        self.pending.extendleft(reversed(items))
